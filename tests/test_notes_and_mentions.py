"""Notes on any entity, searched by text, and @mentions that tell each named user once
(PRD-95)."""

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.review_takes import make_project, make_take
from trulience.auth import AccountDisabled, PermissionDenied
from trulience.auth import users as accounts
from trulience.catalog.errors import InvalidValue, NotFound
from trulience.catalog.tags import Subject, tag
from trulience.cli import main
from trulience.notify import unread
from trulience.review import add_note
from trulience.review.mentions import mentioned_names
from trulience.review.notes import notes_on, search_notes, write_note


@pytest.fixture
def people(conn):
    made = {
        name: accounts.create_user(conn, name, name.title(), role, "s3cret-pass")
        for name, role in [
            ("vic", "viewer"),
            ("rita", "reviewer"),
            ("paul", "producer"),
            ("j.doe", "reviewer"),
            ("gone", "reviewer"),
        ]
    }
    accounts.disable_user(conn, "gone")
    return made


@pytest.fixture
def take(conn):
    make_project(conn)
    return make_take(conn)


def deliverable(conn, scene_id: int) -> int:
    return conn.execute(
        "INSERT INTO deliverables (scene_id) VALUES (%s) RETURNING id", (scene_id,)
    ).fetchone()[0]


def test_notes_attach_to_every_kind_of_subject_one_at_a_time(conn, people, take):
    delivery = deliverable(conn, take)
    subjects = [
        Subject(project="demo"),
        Subject(character="ada"),
        Subject(scene_type="walk"),
        Subject(scene_id=take),
        Subject(deliverable_id=delivery),
    ]
    for subject in subjects:
        write_note(conn, people["rita"], subject, f"on the {subject.kind}")
    for subject in subjects:
        (found,) = notes_on(conn, people["vic"], subject)
        assert (found.body, found.author) == (f"on the {subject.kind}", "rita")
    with pytest.raises(InvalidValue, match="exactly one of project, character, scene type"):
        write_note(conn, people["rita"], Subject(character="ada", scene_type="walk"), "both")
    with pytest.raises(NotFound, match="scene type 'run'"):
        write_note(conn, people["rita"], Subject(scene_type="run"), "no such")
    with pytest.raises(InvalidValue, match="only a note on a take has a frame"):
        write_note(conn, people["rita"], Subject(character="ada"), "where?", frame=3)
    with pytest.raises(InvalidValue, match="tags go on a project, character, take or segment"):
        tag(conn, "hero", Subject(scene_type="walk"))
    assert conn.execute("SELECT count(*) FROM notes").fetchone()[0] == 5


def test_replies_stay_on_their_subject_and_viewers_cannot_write(conn, people, take):
    first = write_note(conn, people["rita"], Subject(character="ada"), "her hair").note
    reply = write_note(
        conn, people["paul"], Subject(character="ada"), "fixed", reply_to=first.id
    ).note
    threads = notes_on(conn, people["vic"], Subject(character="ada"))
    assert [(n.id, n.depth) for n in threads] == [(first.id, 0), (reply.id, 1)]
    with pytest.raises(InvalidValue, match="is not a note on scene type walk"):
        write_note(conn, people["paul"], Subject(scene_type="walk"), "x", reply_to=first.id)
    with pytest.raises(PermissionDenied, match="write_notes"):
        write_note(conn, people["vic"], Subject(character="ada"), "me too")


def test_a_mention_tells_each_named_user_once_and_reports_unknown_names(conn, people, take):
    written = write_note(
        conn,
        people["paul"],
        Subject(scene_type="walk"),
        "@rita and @J.Doe: look at the gait. @rita again, @bob, @gone, @paul, mail a@rita.com",
    )
    assert written.mentions.notified == ("rita", "j.doe")
    assert written.mentions.unknown == ("no user @bob", "@gone is disabled")
    (told,) = unread(conn, people["rita"])
    assert told.kind == "mention"
    assert told.subject == {
        "note_id": written.note.id,
        "subject_kind": "scene_type",
        "subject_key": "walk",
    }
    assert told.body.startswith("paul mentioned you in a note on scene type walk: @rita and")
    assert [n.kind for n in unread(conn, people["j.doe"])] == ["mention"]
    assert unread(conn, people["paul"]) == []  # the author is not told of their own note
    assert "@bob" in written.note.body  # unknown names stay as text


def test_a_mention_in_a_take_note_points_at_the_take_and_frame(conn, people, take):
    note = add_note(conn, people["rita"], take, "@paul the blink here", frame=42)
    mentions = [n for n in unread(conn, people["paul"]) if n.kind == "mention"]
    assert [n.subject for n in mentions] == [
        {
            "note_id": note.id,
            "subject_kind": "scene",
            "subject_key": str(take),
            "scene_id": take,
            "frame": 42,
        }
    ]
    written = write_note(conn, people["paul"], Subject(scene_id=take), "thanks @rita, @nobody")
    assert written.mentions.notified == ("rita",)
    assert written.mentions.unknown == ("no user @nobody",)


def test_search_ranks_better_matches_first_across_subjects(conn, people, take):
    delivery = deliverable(conn, take)
    weak = write_note(conn, people["rita"], Subject(character="ada"), "the lighting is off")
    strong = write_note(
        conn,
        people["rita"],
        Subject(deliverable_id=delivery),
        "lighting flickers: the lighting on the left flickers with the lighting rig",
    )
    write_note(conn, people["rita"], Subject(scene_type="walk"), "gait is stiff")
    hits = search_notes(conn, people["vic"], "lighting")
    assert [h.id for h in hits] == [strong.note.id, weak.note.id]
    assert hits[0].rank > hits[1].rank
    assert (hits[0].subject_kind, hits[0].subject_key, hits[0].scene_id) == (
        "deliverable",
        str(delivery),
        take,
    )
    assert "<b>lighting</b>" in hits[0].snippet.lower()
    only = search_notes(conn, people["vic"], "lighting", subject_kind="character")
    assert [h.id for h in only] == [weak.note.id]
    assert search_notes(conn, people["vic"], '"lighting rig" -flickers') == []
    assert [h.id for h in search_notes(conn, people["vic"], "gait or hair")] != []


def test_search_needs_an_enabled_user_and_words(conn, people, take):
    write_note(conn, people["rita"], Subject(character="ada"), "lighting")
    with pytest.raises(AccountDisabled):
        search_notes(conn, people["gone"], "lighting")
    with pytest.raises(InvalidValue, match="give the words to look for"):
        search_notes(conn, people["vic"], "   ")
    with pytest.raises(InvalidValue, match="subject kind 'shot': must be one of project"):
        search_notes(conn, people["vic"], "lighting", subject_kind="shot")


usernames = st.from_regex(r"[a-z0-9][a-z0-9._-]{0,20}[a-z0-9]", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.text())
def test_the_mention_parser_takes_any_text(body):
    names = mentioned_names(body)
    assert len(names) == len(set(names))
    for name in names:
        assert name == name.lower() and name[0].isalnum() and not name.endswith((".", "_", "-"))
        assert f"@{name}" in body.lower()


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(st.text(st.characters(codec="utf-8", exclude_characters="@")), usernames),
        max_size=6,
    )
)
def test_every_mention_between_words_is_found_in_order(parts):
    body = "".join(f"{text} @{name} " for text, name in parts)
    expected = list(dict.fromkeys(name for _, name in parts))
    assert [n for n in mentioned_names(body) if n in expected] == expected


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.text(min_size=1).filter(lambda t: t.strip() and "\x00" not in t))
def test_any_note_body_is_stored_as_written_and_tells_only_real_users(conn, people, take, body):
    written = write_note(conn, people["paul"], Subject(project="demo"), body)
    assert written.note.body == body
    assert set(written.mentions.notified) <= {"rita", "vic", "j.doe"}


def test_cli_adds_lists_and_searches_notes(db_url, conn, people, take, tmp_path):
    conn.commit()
    runner = CliRunner(env={"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url})
    added = runner.invoke(
        main, ["notes", "add", "--character", "ada", "hair needs @rita and @bob", "--as", "paul"]
    )
    assert added.exit_code == 0, added.output
    assert "on character ada" in added.output
    assert "told: @rita" in added.output and "not told: no user @bob" in added.output
    on_take = runner.invoke(main, ["notes", "add", "--take", str(take), "blink", "--as", "rita"])
    assert on_take.exit_code == 0, on_take.output
    listed = runner.invoke(main, ["notes", "list", "--take", str(take), "--as", "vic"])
    assert listed.exit_code == 0 and "rita [open]: blink" in listed.output
    found = runner.invoke(main, ["notes", "search", "hair", "--as", "vic"])
    assert found.exit_code == 0 and "on character ada by paul" in found.output
    none = runner.invoke(main, ["notes", "add", "no subject", "--as", "paul"])
    assert none.exit_code == 1 and "name exactly one of" in none.output
