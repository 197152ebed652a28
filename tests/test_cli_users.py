"""User administration from the command line (PRD-03, PRD-98)."""

from click.testing import CliRunner

from trulience.auth.users import authenticate
from trulience.cli import main


def test_users_add_list_passwd_sessions_disable(db_url, conn, tmp_path):
    env = {
        "TRULIENCE_HOME": str(tmp_path),
        "DATABASE_URL": db_url,
        "TRULIENCE_PASSWORD": "first password",
    }

    def cli(*args, **extra):
        return CliRunner().invoke(main, list(args), env=env | extra)

    added = cli("users", "add", "rita", "--name", "Rita", "--role", "reviewer")
    assert added.exit_code == 0, added.output
    assert "rita" in cli("users", "list").output and "reviewer" in cli("users", "list").output
    login = authenticate(conn, "rita", "first password")
    assert f"#{login.session.id}" in cli("users", "sessions", "rita").output
    assert "revoked" in cli("users", "sessions", "rita", "--revoke", str(login.session.id)).output
    assert f"#{login.session.id}" not in cli("users", "sessions", "rita").output
    assert cli("users", "passwd", "rita", TRULIENCE_PASSWORD="second password").exit_code == 0
    assert authenticate(conn, "rita", "second password")
    weak = cli("users", "add", "tom", TRULIENCE_PASSWORD="short")
    assert weak.exit_code == 1 and "Traceback" not in weak.output
    assert "tom" not in cli("users", "list").output
    assert "disabled" in cli("users", "disable", "rita").output
    assert "DISABLED" in cli("users", "list").output
