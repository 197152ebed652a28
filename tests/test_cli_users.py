"""User administration from the command line (PRD-03, PRD-98)."""

from click.testing import CliRunner

from trulience.auth.users import authenticate, create_user
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


def test_users_shortcuts_prints_rebinds_refuses_and_resets(db_url, conn, tmp_path):
    env = {"TRULIENCE_HOME": str(tmp_path), "DATABASE_URL": db_url}

    def cli(*args):
        return CliRunner().invoke(main, ["users", "shortcuts", *args], env=env)

    create_user(conn, "rita", "Rita", "reviewer", "first password")
    shown = cli("rita")
    assert shown.exit_code == 0, shown.output
    assert "preset default, 0 rebound keys" in shown.output
    assert "approve  a" in shown.output and "play     Space" in shown.output

    rebound = cli("rita", "--preset", "left_hand", "--set", "approve=k", "--set", "play=space")
    assert rebound.exit_code == 0, rebound.output
    assert "preset left_hand, 2 rebound keys" in rebound.output
    assert "approve  k" in rebound.output and "rebound (preset: q)" in rebound.output
    assert "back     a" in rebound.output  # left_hand's own key

    before = conn.execute("SELECT * FROM user_preferences").fetchall()
    for args, reason in [
        (("--set", "approve=d"), "key 'd' is bound to forward and approve"),
        (("--set", "approve=ab"), "approve: key 'ab' is not a single printable key"),
        (("--set", "dance=x"), "unknown action 'dance'"),
        (("--set", "flag=?"), "flag: key '?' is reserved"),
        (("--preset", "vim"), "unknown preset 'vim'"),
        (("--set", "approve"), "'approve' is not action=key"),
    ]:
        refused = cli("rita", *args)
        assert refused.exit_code == 1, refused.output
        assert reason in refused.output and "Traceback" not in refused.output
    assert conn.execute("SELECT * FROM user_preferences").fetchall() == before

    assert "user 'nobody' not found" in cli("nobody").output
    reset = cli("rita", "--reset")
    assert "preset default, 0 rebound keys" in reset.output and "approve  a" in reset.output
