"""The dashboards' views over a `DashboardsSession`: the controls (project, timeline span,
Refresh, as of), the notice, and the tabs — studio pulse (PRD-42), generation performance
(PRD-41), render timeline per worker (PRD-90), failure patterns (PRD-64) and a character's
identity consistency (PRD-94) — and under them the newest HTML of each analyst notebook the
Dagster assets ran.

Each tab's content is a function of the lake data alone (`pulse_tab(data)`, ...); the
Viewer parts watch the session and redraw when it reads the lake again.
"""

import html
import io
from collections.abc import Callable

import pandas as pd
import panel as pn
import param
import pyarrow as pa

from apps import theme
from apps.dashboards_charts import (
    FAILED,
    STAGE_COLOURS,
    bars,
    gantt,
    identity_chart,
    minutes_chart,
    percentile_chart,
    trend_chart,
)
from apps.dashboards_parts import (
    chart_pane,
    data_table,
    empty_state,
    full_row,
    shown_frame,
)
from apps.dashboards_state import DashboardsSession, when
from trulience.lake.consistency import NO_SCORES
from trulience.lake.dashboards import Dashboards, Pulse, count_by
from trulience.lake.notebooks import StoredNotebook

_PULSE_CSS = f"""
.pulse-grid {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.pulse-stat {{ border: 1px solid #dee2e6; border-top: 3px solid {theme.ACCENT};
               border-radius: 6px; padding: 8px 14px; min-width: 150px; }}
.pulse-value {{ font-size: 1.8em; font-weight: 700; font-variant-numeric: tabular-nums; }}
.pulse-label {{ color: #495057; }}
"""

Objects = list[pn.viewable.Viewable]


# -- the four tabs ----------------------------------------------------------------------


def stat_cards(pulse: Pulse) -> pn.pane.HTML:
    """The pulse's numbers, each in a card the eye finds at once."""
    per_minute = pulse.gpu_s_per_approved_min
    stats = [
        ("characters_ready", f"{pulse.characters_ready} / {pulse.characters}", "characters ready"),
        ("in_flight", str(pulse.in_flight), "takes in flight"),
        ("awaiting_review", str(pulse.awaiting_review), "awaiting review"),
        ("approved", str(pulse.approved), "approved, to deliver"),
        ("delivered", str(pulse.delivered), "delivered"),
        ("generated_min", f"{pulse.generated_min:.2f}", "minutes generated"),
        ("approved_min", f"{pulse.approved_min:.2f}", "minutes approved"),
        (
            "gpu_s_per_approved_min",
            "—" if per_minute is None else f"{per_minute:,.1f}",
            "GPU s per approved minute",
        ),
    ]
    cards = "".join(
        f'<div class="pulse-stat" data-stat="{key}"><div class="pulse-value">{html.escape(value)}'
        f'</div><div class="pulse-label">{label}</div></div>'
        for key, value, label in stats
    )
    return pn.pane.HTML(
        f'<div class="pulse-grid">{cards}</div>',
        stylesheets=[_PULSE_CSS],
        sizing_mode="stretch_width",
        css_classes=["pulse-stats"],
    )


def _project_row(p: Pulse) -> dict[str, object]:
    """One project's line of the pulse's per-project table."""
    per_minute = p.gpu_s_per_approved_min
    return {
        "project": p.project,
        "characters ready": f"{p.characters_ready} / {p.characters}",
        "takes": p.takes,
        "in flight": p.in_flight,
        "awaiting review": p.awaiting_review,
        "approved": p.approved,
        "delivered": p.delivered,
        "rejected": p.rejected,
        "failed": p.failed,
        "generated min": round(p.generated_min, 3),
        "approved min": round(p.approved_min, 3),
        "segment attempts": p.segment_attempts,
        "GPU s": round(p.gpu_s, 3),
        "GPU s / approved min": None if per_minute is None else round(per_minute, 1),
    }


def pulse_tab(data: Dashboards) -> Objects:
    """PRD-42: characters ready, takes by stage, minutes generated and approved, GPU cost."""
    pulse = data.pulse
    if not data.pulse_by_project:
        return [empty_state("No projects in the lake yet.")]
    objects: Objects = [stat_cards(pulse)]
    stages = {
        "in flight": pulse.in_flight,
        "awaiting review": pulse.awaiting_review,
        "approved": pulse.approved,
        "delivered": pulse.delivered,
        "rejected": pulse.rejected,
        "failed": pulse.failed,
    }
    if pulse.takes:
        title = f"Newest takes by stage · {pulse.project}"
        colours = [STAGE_COLOURS[s] for s in stages]
        stage_chart = bars(title, list(stages), list(stages.values()), colours, "takes")
        objects.append(
            full_row(
                chart_pane(stage_chart, "pulse-stages"),
                chart_pane(minutes_chart(data.pulse_by_project), "pulse-minutes"),
            )
        )
    else:
        objects.append(
            empty_state("No takes yet.", "Generate some (the `scenes` job), then Refresh.")
        )
    rows = pd.DataFrame([_project_row(p) for p in data.pulse_by_project])
    objects += [pn.pane.Markdown("#### Per project"), data_table(rows, "pulse-table")]
    return objects


def performance_tab(data: Dashboards) -> Objects:
    """PRD-41: GPU time per segment attempt per worker and workflow, and its trend."""
    if data.performance.num_rows == 0:
        return [empty_state("No segment attempts in the lake yet.")]
    return [
        full_row(
            chart_pane(percentile_chart(data.performance, "worker"), "performance-workers"),
            chart_pane(percentile_chart(data.performance, "workflow"), "performance-workflows"),
        ),
        data_table(shown_frame(data.performance), "performance-table"),
        chart_pane(trend_chart(data.trend), "performance-trend"),
        pn.pane.Markdown("#### By day"),
        data_table(shown_frame(data.trend), "trend-table"),
    ]


def timeline_tab(data: Dashboards) -> Objects:
    """PRD-90: every segment attempt on its worker, in time, passed or failed."""
    if data.timeline.num_rows == 0:
        return [
            empty_state(
                "No segment attempts with start and finish times in this window.",
                "Widen the window, or generate takes and press **Refresh**.",
            )
        ]
    # Tabulator takes a column named "index" for the row index: show it as the segment
    shown = data.timeline.drop_columns(["run_id", "status"])
    shown = shown.rename_columns(["segment" if c == "index" else c for c in shown.column_names])
    return [
        chart_pane(gantt(data.timeline), "timeline-gantt"),
        pn.pane.Markdown(f"#### Attempts ({data.timeline.num_rows})"),
        data_table(shown_frame(shown), "timeline-table"),
    ]


def _refusals(
    table: pa.Table, counts: pa.Table, what: tuple[str, str, str], css: tuple[str, str]
) -> Objects:
    """A failures section with rows: a bar chart of `counts` (label column, count column)
    titled `what[0]` in `what[2]` units, then the rows; `css` is (chart, table)."""
    title, label, unit = what
    per_label = counts.to_pylist()
    value = counts.column_names[1]
    chart = bars(
        title,
        [r[label] for r in per_label],
        [r[value] for r in per_label],
        [FAILED] * len(per_label),
        unit,
    )
    return [chart_pane(chart, css[0]), data_table(shown_frame(table), css[1])]


def failures_tab(data: Dashboards) -> Objects:
    """PRD-64: QA refusals by cause, workflow and worker; failed orchestrator runs."""
    objects: Objects = [pn.pane.Markdown("#### QA gates that refused")]
    if data.failures.num_rows:
        objects += _refusals(
            data.failures,
            count_by(data.failures, "cause", "failures"),
            ("Refused segment attempts, by QA gate", "cause", "refusals"),
            ("failures-causes", "failures-table"),
        )
    else:
        objects.append(
            empty_state(
                "No QA gate has refused a segment attempt.", "Every attempt passed its gates."
            )
        )
    objects.append(pn.pane.Markdown("#### Failed runs"))
    if data.failed_runs.num_rows:
        objects += _refusals(
            data.failed_runs,
            data.failed_runs_by_job,
            ("Failed runs, by job", "job", "runs"),
            ("failed-runs-jobs", "failed-runs-table"),
        )
    else:
        objects.append(
            empty_state(
                "No failed runs in the lake.",
                f"Run facts as of {when(data.runs_exported_at)} (the Dagster `lake` job "
                "exports them).",
            )
        )
    return objects


def consistency_tab(consistency: pa.Table | None, character: str | None) -> Objects:
    """PRD-94: the chosen character's identity take by take across its scenes, outliers
    flagged against its own takes and its calibrated band (`consistency` None: nothing read
    yet)."""
    if consistency is None or character is None:
        return [
            empty_state(
                f"{NO_SCORES.capitalize()}.",
                "A take's identity is measured when its segments pass QA with a face model; "
                "press **Refresh** after.",
            )
        ]
    outliers = consistency.filter(consistency["outlier"]).num_rows
    said = f"#### {consistency.num_rows} take(s) of {character}, {outliers} outlier(s)"
    return [
        chart_pane(identity_chart(consistency, character), "consistency-chart"),
        pn.pane.Markdown(said),
        data_table(shown_frame(consistency), "consistency-table"),
    ]


TABS = {
    "Studio pulse": ("dashboard-pulse", pulse_tab),
    "Performance": ("dashboard-performance", performance_tab),
    "Render timeline": ("dashboard-timeline", timeline_tab),
    "Failures": ("dashboard-failures", failures_tab),
}


def notebook_links(
    notebooks: list[StoredNotebook], read: Callable[[StoredNotebook], bytes]
) -> Objects:
    """The newest HTML of each notebook (and scope) in storage, each a download of the
    executed notebook; `read` fetches its bytes when asked."""
    if not notebooks:
        return [
            empty_state(
                "No notebook has run on the lake yet.",
                "The Dagster `notebooks` assets run each one after a lake export.",
            )
        ]
    links = [
        pn.widgets.FileDownload(
            callback=lambda n=n: io.BytesIO(read(n)),
            filename=f"{n.notebook}-{n.scope}.html",
            label=f"{n.notebook} · {n.scope}",
            description=n.uri,
            embed=False,
            color="light",
            css_classes=["notebook-link"],
        )
        for n in notebooks
    ]
    return [pn.pane.Markdown("#### Notebooks, as last run"), wrapping(*links)]


# -- the Viewer parts over the session ---------------------------------------------------


def _no_lake() -> Objects:
    return [empty_state("No lake to read yet.", "Press **Refresh** to export the catalog.")]


def wrapping(*objects: pn.viewable.Viewable) -> pn.FlexBox:
    """A row that wraps onto the next line when the screen is too narrow for it."""
    return pn.FlexBox(
        *objects, flex_wrap="wrap", align_items="center", gap="12px", sizing_mode="stretch_width"
    )


class DashboardTabs(pn.viewable.Viewer):
    """The four dashboards, the Consistency tab (a character chosen) and the notebooks'
    links under them, drawn again each time the session reads the lake; empty while signed
    out, and saying so when there is no lake."""

    session = param.ClassSelector(class_=DashboardsSession)

    def __init__(self, **params):
        super().__init__(**params)
        self.columns = {
            name: pn.Column(sizing_mode="stretch_width", css_classes=[css])
            for name, (css, _) in TABS.items()
        }
        self.pulse, self.performance, self.timeline, self.failures = self.columns.values()
        self.character = pn.widgets.Select.from_param(
            self.session.param.character, name="Character", width=180
        )
        self.consistency = pn.Column(sizing_mode="stretch_width")
        tab = pn.Column(
            self.character,
            self.consistency,
            sizing_mode="stretch_width",
            css_classes=["dashboard-consistency"],
        )
        self.notebooks = pn.Column(sizing_mode="stretch_width", css_classes=["dashboard-notebooks"])
        self.widgets = {**self.columns, "Consistency": tab}
        self.tabs = pn.Tabs(sizing_mode="stretch_width")
        self._layout = pn.Column(self.tabs, self.notebooks, sizing_mode="stretch_width")
        self.arrange()
        self.session.param.watch(self.arrange, ["widgets"])
        self.session.param.watch(self.draw, ["data", "lake_unread", "user", "notebooks"])
        self.session.param.watch(self.draw_consistency, ["character"])

    def arrange(self, *_: object) -> None:
        """The widgets the user chose, in their order (every one if none is chosen)."""
        chosen = [name for name in self.session.widgets if name in self.widgets]
        self.tabs[:] = [(name, self.widgets[name]) for name in chosen or self.widgets]

    def draw(self, *_: object) -> None:
        """Each tab's content for what the session holds now."""
        data, unread = self.session.data, self.session.lake_unread
        for name, (_, tab) in TABS.items():
            if data is not None:
                objects = tab(data)
            elif unread:
                objects = _no_lake()
            else:
                objects = []
            self.columns[name].objects = objects
        self.draw_consistency()
        session = self.session
        shown = session.user is not None and data is not None
        self.notebooks.objects = (
            notebook_links(session.notebooks, session.notebook_html) if shown else []
        )

    def draw_consistency(self, *_: object) -> None:
        """The Consistency tab for the character chosen (the chooser hidden while there is
        none to choose)."""
        session = self.session
        self.character.visible = session.character is not None
        if session.data is not None:
            self.consistency.objects = consistency_tab(session.consistency, session.character)
        else:
            self.consistency.objects = _no_lake() if session.lake_unread else []

    def __panel__(self) -> pn.Column:
        return self._layout
