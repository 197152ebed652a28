"""One definition per production figure (issue 12): the dashboards' pulse, `trulience report
production` and the CLI's budget figures read the same `production_figures` view, on
histories with retakes, newer takes, approvals, rejections and deliveries."""

import itertools
import os
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.batch_history import add_take, make_character, make_project, make_scene_type
from trulience.cli import main
from trulience.lake.catalog_export import export_catalog
from trulience.lake.dashboards import pulse, pulses
from trulience.lake.reports import AS_OF, open_lake, run_report
from trulience.production.budget import standing

FRAMES = 48  # per segment, at 24 fps: two seconds
STAGES = ("in_flight", "awaiting_review", "approved", "delivered", "rejected", "failed")
FIGURES = (
    *STAGES,
    "takes",
    "takes_made",
    "generated_min",
    "approved_min",
    "segment_attempts",
    "gpu_s",
    "gpu_s_per_approved_min",
)
STATUSES = (
    "pending",
    "generating",
    "paused",
    "generated",
    "assembled",
    "failed",
    "qa_failed",
    "cancelled",
)


@dataclass
class Take:
    """One take as a history spells it: its status, reviewers' verdict, delivery, and
    the GPU seconds of each attempt of each segment."""

    status: str
    decision: str | None = None
    delivered: bool = False
    attempts: list[list[float]] = field(default_factory=lambda: [[10.0]])


def stage(take: Take) -> str:
    """The stage the studio means, written again here as the test's own oracle."""
    if take.delivered:
        return "delivered"
    if take.decision == "approved":
        return "approved"
    if take.status in ("pending", "generating", "paused", "generated"):
        return "in_flight"
    if take.status in ("failed", "qa_failed", "cancelled"):
        return "failed"
    if take.decision == "rejected":
        return "rejected"
    return "awaiting_review"


def minutes(take: Take) -> float:
    return len(take.attempts) * FRAMES / 24 / 60


class History:
    """Writes takes into the catalog and remembers them for the oracle."""

    _ids = itertools.count(1)

    def __init__(self, conn):
        self.conn = conn
        self.takes: dict[tuple[str, str, str], list[Take]] = {}
        if not conn.execute("SELECT 1 FROM users WHERE username = 'rae'").fetchone():
            conn.execute(
                "INSERT INTO users (username, display_name, role) VALUES ('rae', 'Rae', 'reviewer')"
            )
        for slug in ("walk", "wave"):
            if not conn.execute("SELECT 1 FROM scene_types WHERE slug = %s", (slug,)).fetchone():
                make_scene_type(conn, slug)

    def project(self) -> str:
        slug = f"p{next(self._ids)}"
        make_project(self.conn, slug)
        return slug

    def character(self, project: str, name: str) -> str:
        slug = f"{name}-{project}"
        make_character(self.conn, slug, project, ready=False)
        return slug

    def add(self, project: str, character: str, scene_type: str, take: Take) -> None:
        scene = add_take(
            self.conn,
            character,
            scene_type,
            take.attempts,
            project=project,
            status=take.status,
            frames=FRAMES,
        )
        self.conn.execute(
            'UPDATE scenes SET frames = %s, effective_config = \'{"fps": "24"}\' WHERE id = %s',
            (FRAMES * len(take.attempts), scene),
        )
        if take.decision:
            self.conn.execute(
                "INSERT INTO reviews (scene_id, reviewer_id, decision) "
                "SELECT %s, id, %s FROM users WHERE username = 'rae'",
                (scene, take.decision),
            )
        if take.delivered:
            self.conn.execute(
                "INSERT INTO deliverables (scene_id, status) VALUES (%s, 'delivered')", (scene,)
            )
        self.takes.setdefault((project, character, scene_type), []).append(take)

    def expected(self, project: str) -> dict[str, float]:
        """The project's figures by the definitions in sql/reports/views.sql."""
        cells = [t for (p, _, _), t in self.takes.items() if p == project]
        newest = [takes[-1] for takes in cells]
        every = [t for takes in cells for t in takes]
        figures: dict[str, float] = {s: sum(stage(t) == s for t in newest) for s in STAGES}
        approved_min = sum(minutes(t) for t in newest if stage(t) in ("approved", "delivered"))
        gpu_s = sum(sum(a) for t in every for a in t.attempts)
        return figures | {
            "takes": len(newest),
            "takes_made": len(every),
            "generated_min": sum(minutes(t) for t in every if t.status == "assembled"),
            "approved_min": approved_min,
            "segment_attempts": sum(len(a) for t in every for a in t.attempts),
            "gpu_s": gpu_s,
            "gpu_s_per_approved_min": gpu_s / approved_min if approved_min else None,
        }


def _figures(row) -> dict[str, float]:
    return {
        name: getattr(row, name) if not isinstance(row, dict) else row[name] for name in FIGURES
    }


def _approx(figures: dict[str, float | None]) -> dict:
    return {k: v if v is None else pytest.approx(v, abs=1e-3) for k, v in figures.items()}


def _report_rows(lake: Path) -> dict[tuple, dict]:
    return {(r["level"], r["project"]): r for r in run_report(lake, "production").to_pylist()}


def _check_agreement(conn, history: History, lake: Path, project: str) -> None:
    """Dashboard == report == budget (Postgres) == the oracle, and the stages sum up."""
    export_catalog(conn, lake)
    report = _report_rows(lake)
    con = open_lake(lake)
    dashboard = _figures(pulse(con, project))
    assert dashboard == _approx(_figures(report[("project", project)]))
    assert dashboard == _approx(history.expected(project))
    assert standing(conn, project).used_s == pytest.approx(dashboard["gpu_s"])
    studio = _figures(pulse(con))
    assert studio == _approx(_figures(report[("studio", None)]))
    for row in [*report.values(), *map(_figures, pulses(con))]:
        assert sum(row[s] for s in STAGES) == row["takes"]


def _demo_like(history: History) -> tuple[str, str, str]:
    """A demo-like production: a retaken segment, a rejected take and its newer approved
    take, a delivered take, one awaiting review, one made but not assembled, a failure."""
    project = history.project()
    ada, bo, cy = (history.character(project, n) for n in ("ada", "bo", "cy"))
    history.add(project, ada, "walk", Take("assembled", "approved", True, [[10, 12], [11], [9]]))
    history.add(project, ada, "wave", Take("assembled", "rejected", attempts=[[30], [20, 25]]))
    history.add(project, ada, "wave", Take("assembled", "approved", attempts=[[28], [26]]))
    history.add(project, bo, "walk", Take("assembled", attempts=[[14], [15]]))
    history.add(project, bo, "wave", Take("generated", attempts=[[13], [13]]))
    history.add(project, cy, "walk", Take("failed", attempts=[[8, 8, 8]]))
    return project, bo, "walk"


def test_dashboard_report_and_budget_agree_on_a_demo_like_history(conn, tmp_path):
    history = History(conn)
    project, _, _ = _demo_like(history)
    other = history.project()  # a second project, so the studio is not one project
    history.add(other, history.character(other, "di"), "walk", Take("assembled", "approved"))
    _check_agreement(conn, history, tmp_path / "lake", project)
    _check_agreement(conn, history, tmp_path / "lake", other)


def test_minutes_generated_never_go_down_after_a_new_take(conn, tmp_path):
    history = History(conn)
    project, character, scene_type = _demo_like(history)
    lake = tmp_path / "lake"
    export_catalog(conn, lake)
    before = _report_rows(lake)
    history.add(project, character, scene_type, Take("pending", attempts=[[5]]))
    _check_agreement(conn, history, lake, project)
    after = _report_rows(lake)
    for key in (("project", project), ("studio", None)):
        assert after[key]["generated_min"] >= before[key]["generated_min"] > 0
        assert after[key]["takes_made"] == before[key]["takes_made"] + 1
        assert after[key]["takes"] == before[key]["takes"]  # the new take replaced one


takes = st.builds(
    Take,
    status=st.sampled_from(STATUSES),
    decision=st.sampled_from([None, "approved", "rejected", "flagged"]),
    delivered=st.booleans(),
    attempts=st.lists(
        st.lists(st.floats(0.5, 500, allow_nan=False), min_size=1, max_size=3),
        min_size=1,
        max_size=3,
    ),
)
cells = st.lists(
    st.tuples(st.sampled_from(["ada", "bo"]), st.sampled_from(["walk", "wave"]), takes),
    min_size=1,
    max_size=6,
)


@settings(
    max_examples=8,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(history_spec=cells, retaken=st.integers(0, 5))
def test_every_history_agrees_and_never_loses_minutes(conn, history_spec, retaken):
    history = History(conn)
    project = history.project()
    characters = {n: history.character(project, n) for n in ("ada", "bo")}
    for name, scene_type, take in history_spec:
        if take.delivered:  # only an approved take is delivered
            take = replace(take, decision="approved")
        history.add(project, characters[name], scene_type, take)
    with tempfile.TemporaryDirectory() as folder:
        lake = Path(folder) / "lake"
        _check_agreement(conn, history, lake, project)
        before = _report_rows(lake)[("project", project)]["generated_min"]
        name, scene_type, _ = history_spec[retaken % len(history_spec)]
        history.add(project, characters[name], scene_type, Take("pending", None, False, [[1]]))
        _check_agreement(conn, history, lake, project)
        assert _report_rows(lake)[("project", project)]["generated_min"] >= before


def test_every_report_states_as_of_in_table_csv_and_parquet(conn, db_url, tmp_path):
    history = History(conn)
    project, _, _ = _demo_like(history)
    env = os.environ | {"TRULIENCE_HOME": str(tmp_path / "home"), "DATABASE_URL": db_url}
    lake = tmp_path / "home" / "lake"
    export_catalog(conn, lake)
    stamp = run_report(lake, "production").schema.metadata[AS_OF].decode()
    assert stamp.startswith("20") and stamp.endswith("+00:00")

    def cli(*args: str):
        result = CliRunner().invoke(main, list(args), env=env)
        assert result.exit_code == 0, result.output
        return result.output

    for name in ("production", "throughput", "failures"):
        assert cli("report", name).splitlines()[0].startswith(f"as of {stamp} (lake export")
        csv_lines = cli("report", name, "--format", "csv").splitlines()
        assert csv_lines[0].endswith(",as_of")
        assert all(line.endswith(f",{stamp}") for line in csv_lines[1:])
        target = tmp_path / f"{name}.parquet"
        cli("report", name, "--format", "parquet", "--output", str(target))
        assert pq.read_schema(target).metadata[AS_OF].decode() == stamp
    # the budget the CLI prints counts the GPU seconds the report does
    gpu_s = _report_rows(lake)[("project", project)]["gpu_s"]
    assert f"({gpu_s:,.1f} GPU s used so far)" in cli("budgets", "show", project)


def test_a_rejected_take_reassembled_as_a_new_revision_awaits_review_in_the_lake(conn, tmp_path):
    # the review queue's rule (take_decisions): the decision on the newest revision counts
    history = History(conn)
    project = history.project()
    ada = history.character(project, "ada")
    history.add(project, ada, "walk", Take("assembled", "rejected"))
    lake = tmp_path / "lake"
    export_catalog(conn, lake)
    assert pulse(open_lake(lake), project).rejected == 1
    (scene,) = conn.execute("SELECT id FROM scenes").fetchone()
    conn.execute(  # the rejected segment regenerated and the take assembled again
        "UPDATE scenes SET uri = 'file:///scenes/r2/scene.mp4', sha256 = %s WHERE id = %s",
        ("b" * 64, scene),
    )
    assert conn.execute(
        "SELECT revision, awaiting_review FROM take_decisions WHERE scene_id = %s", (scene,)
    ).fetchone() == (2, True)
    export_catalog(conn, lake)
    again = pulse(open_lake(lake), project)
    assert (again.rejected, again.awaiting_review) == (0, 1)
