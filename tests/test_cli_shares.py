"""`trulience shares` (PRD-84): make a link (printed once), list it, revoke it."""

import re

import pytest
from click.testing import CliRunner

from tests.review_takes import assemble, make_project, make_take
from trulience.auth.users import create_user
from trulience.cli import main
from trulience.review.share import ShareRevoked, open_share


def test_shares_create_list_revoke(db_url, conn, tmp_path):
    make_project(conn)
    create_user(conn, "rita", "Rita", "reviewer", "long-enough-pw")
    create_user(conn, "vic", "Vic", "viewer", "long-enough-pw")
    scene = make_take(conn, status="generated")
    assemble(conn, scene, "cut", frames=24)
    env = {
        "TRULIENCE_HOME": str(tmp_path),
        "DATABASE_URL": db_url,
        "TRULIENCE_PUBLIC_URL": "https://review.example.test",
        "TRULIENCE_SHARE_PASSWORD": "client-pass-1",
    }

    def cli(*args):
        return CliRunner().invoke(main, ["shares", *args], env=env)

    made = cli(
        "create",
        str(scene),
        "--expires",
        "2d",
        "--comments",
        "--label",
        "Acme",
        "--password",
        "--as",
        "rita",
    )
    assert made.exit_code == 0, made.output
    found = re.search(r"^https://review\.example\.test/share\?link=(\S+)$", made.output, re.M)
    assert found, made.output
    grant = open_share(conn, found[1], password="client-pass-1")
    assert grant.take.id == scene and grant.link.allow_comments

    listed = cli("list", "--take", str(scene), "--as", "rita")
    assert listed.exit_code == 0 and "active" in listed.output
    assert "password,comments" in listed.output and "Acme" in listed.output
    assert found[1] not in listed.output  # the token is shown once, at creation

    refused = cli("create", str(scene), "--as", "vic")
    assert refused.exit_code == 1 and "permission" in refused.output
    bad = cli("create", str(scene), "--expires", "soon", "--as", "rita")
    assert bad.exit_code == 2 and "not a duration" in bad.output

    revoked = cli("revoke", str(grant.link.id), "--as", "rita")
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in cli("list", "--as", "rita").output
    with pytest.raises(ShareRevoked):
        open_share(conn, found[1], password="client-pass-1")
