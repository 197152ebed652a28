"""The compare app: attempts of one segment side by side (PRD-101), and one scene type across
characters in a synced, frame-accurate grid (PRD-68, PRD-36).

Serve with `panel serve apps/compare.py`. Read-only: any role with the view permission may
use it. Frames are decoded on the server by index (PRD-37) and shown as lossless PNG, so
"frame N" in every cell of the grid is the same frame N. The grid steps with the logged-in
user's own back / forward keys, the same ones the review app uses (PRD-52).
"""

import html
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import panel as pn
import psycopg

from apps import theme
from apps.actions import refusal
from apps.images import png_data_url
from apps.login import Login, SignedIn
from apps.shortcuts import ShortcutKeys
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError, SessionRefused
from trulience.auth.permissions import Permission, require
from trulience.catalog.database import connect, database_url
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.media.frames import frame_at
from trulience.media.probe import probe
from trulience.storage import Storage


@dataclass(frozen=True)
class Attempt:
    """One attempt at a segment: its video, its machine status and its QA verdict."""

    attempt: int
    status: str
    current: bool
    uri: str | None
    qa: dict[str, Any]


@dataclass(frozen=True)
class CharacterTake:
    """The newest assembled take of one character in a scene type."""

    character: str
    take: int
    uri: str
    frames: int | None


def takes_with_segments(conn: psycopg.Connection) -> dict[str, int]:
    """Label → scene id of every take that has at least one segment row."""
    rows = conn.execute(
        """SELECT s.id, p.slug, c.name, st.name, s.take
             FROM scenes s
             JOIN projects p ON p.id = s.project_id
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types st ON st.id = s.scene_type_id
            WHERE EXISTS (SELECT 1 FROM segments g WHERE g.scene_id = s.id)
            ORDER BY p.slug, c.name, st.name, s.take"""
    ).fetchall()
    return {
        f"{character} · {scene_type} · take {take} ({project})": scene_id
        for scene_id, project, character, scene_type, take in rows
    }


def attempts_of(conn: psycopg.Connection, scene_id: int, index: int) -> list[Attempt]:
    """Every attempt at segment `index` of a take, oldest first."""
    rows = conn.execute(
        """SELECT attempt, status, current, uri, qa FROM segments
            WHERE scene_id = %s AND index = %s ORDER BY attempt""",
        (scene_id, index),
    ).fetchall()
    return [Attempt(*row) for row in rows]


def scene_types_with_takes(conn: psycopg.Connection) -> dict[str, str]:
    """Label → slug of every scene type with at least one assembled take that has a video."""
    rows = conn.execute(
        """SELECT DISTINCT st.slug, st.name FROM scene_types st
             JOIN scenes s ON s.scene_type_id = st.id
            WHERE s.status = 'assembled' AND s.uri IS NOT NULL
            ORDER BY st.name"""
    ).fetchall()
    return {name: slug for slug, name in rows}


def newest_takes(conn: psycopg.Connection, scene_type: str) -> list[CharacterTake]:
    """The newest assembled take with a video of each character in `scene_type`."""
    rows = conn.execute(
        """SELECT DISTINCT ON (c.id) c.name, s.take, s.uri, s.frames
             FROM scenes s
             JOIN characters c ON c.id = s.character_id
             JOIN scene_types st ON st.id = s.scene_type_id
            WHERE st.slug = %s AND s.status = 'assembled' AND s.uri IS NOT NULL
            ORDER BY c.id, s.created_at DESC, s.id DESC""",
        (scene_type,),
    ).fetchall()
    return sorted((CharacterTake(*row) for row in rows), key=lambda t: t.character)


def verdict_lines(qa: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    """A QA verdict in words: gates passed and failed, identity median, and what changed
    since the previous attempt."""
    if not qa:
        return ["no QA verdict yet"]
    gates = {g["name"]: g for g in qa.get("gates", []) if isinstance(g, dict) and "name" in g}
    failed = list(qa.get("failed", [g for g, r in gates.items() if not r.get("passed")]))
    passed = [name for name, gate in gates.items() if gate.get("passed")]
    lines = [f"QA **{'passed' if qa.get('passed') else 'failed'}**"]
    lines.append("gates passed: " + (", ".join(passed) or "none"))
    failures = []
    for name in failed:
        message = gates.get(name, {}).get("message")
        failures.append(f"**{name}**" + (f" ({html.escape(message)})" if message else ""))
    lines.append("gates failed: " + (", ".join(failures) or "none"))
    median = _identity_median(qa)
    lines.append("identity median: " + ("n/a" if median is None else f"{median:.3f}"))
    if previous is not None:
        lines.append("vs previous: " + _change(qa, previous))
    return lines


def _identity_median(qa: dict[str, Any]) -> float | None:
    value = (qa.get("metrics") or {}).get("identity_median")
    return float(value) if isinstance(value, int | float) else None


def _change(qa: dict[str, Any], previous: dict[str, Any]) -> str:
    now, before = set(qa.get("failed", [])), set(previous.get("failed", []))
    changes = [f"{name} fixed" for name in sorted(before - now)]
    changes += [f"{name} newly failed" for name in sorted(now - before)]
    median, earlier = _identity_median(qa), _identity_median(previous)
    if median is not None and earlier is not None:
        changes.append(f"identity {median - earlier:+.3f}")
    return ", ".join(changes) or "no change"


def status_of(attempt: Attempt) -> str:
    """The attempt's machine status as the compare view names it."""
    return f"{attempt.status} · current" if attempt.current else attempt.status


def _image(picture: np.ndarray, css_class: str, **data: object) -> str:
    attributes = " ".join(f'data-{key}="{html.escape(str(value))}"' for key, value in data.items())
    return (
        f'<img class="{css_class}" {attributes} src="{png_data_url(picture)}" '
        f'style="width: 256px; image-rendering: pixelated">'
    )


class CompareApp:
    """One browser session of the compare app; holds that session's login token."""

    def __init__(self, settings: Settings):
        self.url = database_url(settings)
        self.storage = Storage(settings.storage_url, settings.storage_options)
        self.grid_takes: list[tuple[CharacterTake, Path, int]] = []
        self._downloads = tempfile.TemporaryDirectory(prefix="trulience-compare-")

        self.login = Login(self.url, "compare", Permission.VIEW, self._signed_in, self._signed_out)
        self.login_view = self.login.form
        self.shortcuts = ShortcutKeys(
            {"back": lambda: self.step(-1), "forward": lambda: self.step(+1)}
        )
        self.notice = theme.notice()
        self.compare_view = pn.Column(
            pn.Row(self.login.who, self.login.logout_button),
            self.notice,
            self._attempts_section(),
            self._grid_section(),
            self.shortcuts.legend,
        )
        # Both views stay in the page, only one visible (see apps/review.py for why).
        self.views = (self.login_view, self.compare_view)
        self.body = pn.Column(*self.views, sizing_mode="stretch_width")
        self._show(self.login_view)
        self.root = theme.page("Compare", self.body, self.shortcuts.keyboard)

    @property
    def token(self) -> str | None:
        """The session token of the logged-in user (None before login)."""
        return self.login.token

    def _attempts_section(self) -> pn.Column:
        self.take_select = pn.widgets.Select(label="Take", options={}, css_classes=["compare-take"])
        self.segment_index = pn.widgets.IntInput(label="Segment", value=0, start=0, width=100)
        show = pn.widgets.Button(label="Compare attempts", color="primary")
        show.on_click(lambda _: self.show_attempts())
        self.attempts = pn.Row(css_classes=["compare-attempts"])
        return pn.Column(
            pn.pane.Markdown("### Attempts of a segment"),
            pn.Row(self.take_select, self.segment_index, show),
            self.attempts,
        )

    def _grid_section(self) -> pn.Column:
        self.scene_type_select = pn.widgets.Select(
            label="Scene type", options={}, css_classes=["compare-scene-type"]
        )
        show = pn.widgets.Button(label="Compare characters", color="primary")
        show.on_click(lambda _: self.show_grid())
        self.frame_slider = pn.widgets.IntSlider(label="Frame", start=0, end=1, value=0)
        self.frame_slider.param.watch(lambda _: self.show_grid_frame(), "value_throttled")
        back = self.shortcuts.button("−1 frame", "back")
        forward = self.shortcuts.button("+1 frame", "forward")
        self.grid_label = pn.pane.Markdown("", css_classes=["frame-label", "grid-frame-label"])
        self.grid = pn.Row(css_classes=["compare-grid"])
        self.grid_controls = pn.Row(back, forward, self.frame_slider, self.grid_label)
        self.grid_controls.visible = False
        return pn.Column(
            pn.pane.Markdown("### One scene type across characters"),
            pn.Row(self.scene_type_select, show),
            self.grid_controls,
            self.grid,
        )

    def _show(self, view: pn.Column) -> None:
        for each in self.views:
            each.visible = each is view

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root

    # -- login ---------------------------------------------------------------------------

    def _signed_in(self, signed_in: SignedIn) -> None:
        """After login: the user's own keys, the takes and scene types to choose from."""
        self.shortcuts.use(signed_in.shortcuts.table)
        with connect(self.url) as conn:
            self.take_select.options = takes_with_segments(conn)
            self.scene_type_select.options = scene_types_with_takes(conn)
        self._show(self.compare_view)

    def _signed_out(self) -> None:
        """After logout or a refused session: back to the login form."""
        self._show(self.login_view)

    def _viewer(self, conn: psycopg.Connection) -> bool:
        """Whether this session may still view; sends an expired session back to login."""
        if self.token is None:
            return False
        try:
            require(accounts.user_for_session(conn, self.token), Permission.VIEW)
        except SessionRefused as error:
            self.login.expired(error)
            return False
        except AuthError as error:
            theme.show(self.notice, refusal(error), "danger")
            return False
        return True

    # -- attempts of a segment (PRD-101) -------------------------------------------------

    def show_attempts(self) -> None:
        """Show every attempt at the chosen segment side by side with its QA verdict."""
        scene_id, index = self.take_select.value, self.segment_index.value
        if scene_id is None or index is None:
            return
        with connect(self.url) as conn:
            if not self._viewer(conn):
                return
            attempts = attempts_of(conn, scene_id, index)
        self.notice.visible = False
        if not attempts:
            self.attempts.objects = [pn.pane.Markdown(f"Segment {index} has no attempts.")]
            return
        cards, previous = [], None
        for attempt in attempts:
            cards.append(self._attempt_card(attempt, previous))
            previous = attempt.qa
        self.attempts.objects = cards

    def _attempt_card(self, attempt: Attempt, previous: dict[str, Any] | None) -> pn.Column:
        try:
            if attempt.uri is None:
                raise TrulienceError(f"attempt {attempt.attempt} has no video")
            picture = _image(
                frame_at(self._local_video(attempt.uri), 0),
                "compare-attempt-image",
                attempt=attempt.attempt,
            )
        except TrulienceError as error:
            picture = f"<em>{html.escape(refusal(error))}</em>"
        lines = [f"**Attempt {attempt.attempt}** · status `{status_of(attempt)}`"]
        lines += verdict_lines(attempt.qa, previous)
        return pn.Column(
            pn.pane.HTML(picture),
            pn.pane.Markdown("\n\n".join(lines)),
            css_classes=["compare-attempt"],
        )

    # -- one scene type across characters (PRD-68, PRD-36) -------------------------------

    def show_grid(self) -> None:
        """Show the newest assembled take of each character in the chosen scene type."""
        scene_type = self.scene_type_select.value
        if scene_type is None:
            return
        with connect(self.url) as conn:
            if not self._viewer(conn):
                return
            takes = newest_takes(conn, scene_type)
        self.grid_takes = []
        try:
            for take in takes:
                video = self._local_video(take.uri)
                self.grid_takes.append((take, video, probe(video).frames))
        except TrulienceError as error:
            theme.show(self.notice, refusal(error), "danger")
            self.grid_takes = []
        self.grid_controls.visible = bool(self.grid_takes)
        if not self.grid_takes:
            self.grid.objects = [pn.pane.Markdown("No assembled takes to compare.")]
            return
        self.notice.visible = False
        self.total = min(frames for _, _, frames in self.grid_takes)
        self.frame_slider.param.update(end=max(self.total - 1, 1), value=0)
        self.cells = [pn.pane.HTML("") for _ in self.grid_takes]
        self.grid.objects = [
            pn.Column(
                pn.pane.Markdown(f"**{take.character}** · take {take.take}"),
                cell,
                css_classes=["compare-cell"],
            )
            for (take, _, _), cell in zip(self.grid_takes, self.cells, strict=True)
        ]
        self.show_grid_frame()

    def step(self, delta: int) -> None:
        """Move every cell of the grid `delta` frames together."""
        if not self.grid_takes:
            return
        self.frame_slider.value = min(max(self.frame_slider.value + delta, 0), self.total - 1)
        self.show_grid_frame()

    def show_grid_frame(self) -> None:
        """Decode the slider's frame of every take on the server and show them together."""
        if not self.grid_takes:
            return
        index = min(self.frame_slider.value, self.total - 1)
        for (take, video, _), cell in zip(self.grid_takes, self.cells, strict=True):
            cell.object = _image(
                frame_at(video, index),
                "compare-grid-image",
                character=take.character,
                frame=index,
            )
        self.grid_label.object = f"frame {index} / {self.total}"

    def _local_video(self, uri: str) -> Path:
        """A local path to read a video from (downloaded once when storage is remote)."""
        return self.storage.local_file(self.storage.key_of(uri), self._downloads.name)


if __name__.startswith("bokeh"):
    theme.setup()
    CompareApp(Settings.from_env()).view().servable(title="Trulience · Compare")
