"""Sensitivity (PRD-82) in plain Python against the real catalog: ratings on characters and
scene types make their takes sensitive (one rule, the view take_sensitivity), each user
blurs or shows such media, and a blurred storyboard is made on the server; the CLI rates
and sets the choice."""

import io

import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from tests.review_takes import make_project, make_take
from trulience.auth import users as accounts
from trulience.auth.acting import Operator
from trulience.auth.errors import PermissionDenied
from trulience.catalog.errors import InvalidValue, NotFound
from trulience.cli import main
from trulience.review.sensitivity import (
    blurred_for,
    is_sensitive,
    rate,
    set_show_sensitive,
    show_sensitive,
    storyboard_for,
)
from trulience.storage import Storage

ANA = Operator("cli:ana")


@pytest.fixture
def take(conn) -> int:
    make_project(conn)
    return make_take(conn)


@pytest.fixture
def people(conn):
    return {
        name: accounts.create_user(conn, name, name.title(), role, "s3cret-pass")
        for name, role in [("rita", "reviewer"), ("paul", "producer"), ("adam", "admin")]
    }


@pytest.mark.parametrize(
    ("character", "scene_type", "sensitive"),
    [
        ("general", "general", False),
        ("sensitive", "general", True),
        ("general", "restricted", True),
        ("restricted", "sensitive", True),
    ],
)
def test_a_take_is_sensitive_when_its_character_or_scene_type_is(
    conn, take, character, scene_type, sensitive
):
    rate(conn, ANA, "character", "ada", character)
    rate(conn, ANA, "scene_type", "walk", scene_type)
    assert is_sensitive(conn, take) is sensitive


def test_each_user_blurs_sensitive_takes_until_they_choose_to_see_them(conn, take, people):
    rita = people["rita"]
    assert not blurred_for(conn, rita, take)  # not rated: nothing to hide
    rate(conn, people["paul"], "character", "ada", "sensitive")
    assert show_sensitive(conn, rita) == "blur" and blurred_for(conn, rita, take)
    set_show_sensitive(conn, rita, "rita", "show")  # her own choice
    assert not blurred_for(conn, rita, take)
    with pytest.raises(PermissionDenied):
        set_show_sensitive(conn, rita, "paul", "show")  # not someone else's
    set_show_sensitive(conn, people["adam"], "rita", "blur")
    assert blurred_for(conn, rita, take)


def test_bad_ratings_choices_and_names_are_refused(conn, take, people):
    with pytest.raises(InvalidValue, match="'spicy'"):
        rate(conn, ANA, "character", "ada", "spicy")
    with pytest.raises(NotFound, match="nobody"):
        rate(conn, ANA, "scene_type", "nobody", "sensitive")
    with pytest.raises(PermissionDenied):
        rate(conn, people["rita"], "character", "ada", "sensitive")
    with pytest.raises(InvalidValue, match=r"'peek'.*must be blur or show"):
        set_show_sensitive(conn, ANA, "rita", "peek")
    assert not is_sensitive(conn, take)


def test_a_sensitive_storyboard_reaches_a_blurring_user_blurred(conn, take, people, tmp_path):
    storage = Storage((tmp_path / "storage").as_uri())
    rng = np.random.default_rng(3)
    sharp = rng.integers(0, 255, (96, 160, 3), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(sharp).save(out, format="PNG")
    key = "scenes/demo/ada/walk/take1/storyboard.png"
    storage.put_bytes(key, out.getvalue())
    rita = people["rita"]
    assert storyboard_for(conn, storage, rita, take, key) == key
    rate(conn, ANA, "scene_type", "walk", "restricted")
    blurred_key = storyboard_for(conn, storage, rita, take, key)
    assert blurred_key == "scenes/demo/ada/walk/take1/storyboard.blur.png"
    blurred = np.asarray(Image.open(io.BytesIO(storage.read_bytes(blurred_key))))
    assert blurred.shape == sharp.shape and blurred.std() < sharp.std() / 4


def test_the_cli_rates_and_sets_the_choice(conn, take, people, db_url, tmp_path):
    env = {"DATABASE_URL": db_url, "TRULIENCE_HOME": str(tmp_path)}
    run = CliRunner().invoke
    for args in (
        ["characters", "rate", "ada", "sensitive"],
        ["scene-types", "rate", "walk", "general"],
        ["users", "set-sensitive", "rita", "show"],
    ):
        done = run(main, args, env=env)
        assert done.exit_code == 0, done.output
    assert is_sensitive(conn, take) and not blurred_for(conn, people["rita"], take)
    refused = run(main, ["characters", "rate", "nobody", "sensitive"], env=env)
    assert refused.exit_code == 1 and "nobody" in refused.output
    bad = run(main, ["users", "set-sensitive", "rita", "peek"], env=env)
    assert bad.exit_code == 2
