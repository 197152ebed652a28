"""The studio dashboards: studio pulse (PRD-42), generation performance (PRD-41), render
timeline per worker (PRD-90) and failure patterns (PRD-64), over the reporting lake.

Serve with `panel serve apps/dashboards.py` (`make dashboards`). Read-only: any role with the
view permission may look. Numbers come from `trulience.lake.dashboards`, which runs
`sql/reports/dashboards/*.sql` over the Parquet lake; the app draws them. Refresh re-exports
the catalog to the lake first (run facts arrive through the Dagster `lake` job).
"""

import html
from datetime import UTC, datetime

import pandas as pd
import panel as pn
import pyarrow as pa
from bokeh.models import (
    ColumnDataSource,
    DatetimeTickFormatter,
    FactorRange,
    HoverTool,
    Legend,
    Range1d,
)
from bokeh.plotting import figure
from bokeh.transform import dodge, factor_cmap

from apps import theme
from apps.actions import refusal
from apps.login import Login, SignedIn
from trulience.auth import users as accounts
from trulience.auth.errors import AuthError
from trulience.auth.permissions import Permission, require
from trulience.catalog.database import connect, database_url
from trulience.config import Settings
from trulience.errors import TrulienceError
from trulience.lake.catalog_export import export_catalog
from trulience.lake.dashboards import WEEK_H, Dashboards, Pulse, count_by, load
from trulience.lake.files import Lake, lake_of

ALL = "(all projects)"
# How far back the render timeline reaches from its newest attempt.
WINDOWS = {"1 day": 24.0, "7 days": WEEK_H, "30 days": 30 * 24.0, "all": None}
PASSED, FAILED, NO_VERDICT = "#2b8a3e", "#c92a2a", "#868e96"
QA_COLOURS = {"passed": PASSED, "failed": FAILED, "no verdict": NO_VERDICT}
STAGE_COLOURS = {
    "in flight": "#74c0fc",
    "awaiting review": "#f59f00",
    "approved": theme.ACCENT,
    "delivered": PASSED,
    "rejected": "#e8590c",
    "failed": FAILED,
}
CHART_HEIGHT = 300
NO_LAKE_DATA = "Press **Refresh** after takes are generated, or run `trulience lake export`."

_PULSE_CSS = f"""
.pulse-grid {{ display: flex; flex-wrap: wrap; gap: 12px; }}
.pulse-stat {{ border: 1px solid #dee2e6; border-top: 3px solid {theme.ACCENT};
               border-radius: 6px; padding: 8px 14px; min-width: 150px; }}
.pulse-value {{ font-size: 1.8em; font-weight: 700; font-variant-numeric: tabular-nums; }}
.pulse-label {{ color: #495057; }}
"""


def _when(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if moment else "never"


def _frame(table: pa.Table) -> pd.DataFrame:
    """An Arrow table as a DataFrame fit to show: times as UTC text, floats rounded."""
    frame = table.to_pandas()
    for column, dtype in frame.dtypes.items():
        if isinstance(dtype, pd.DatetimeTZDtype):
            frame[column] = frame[column].dt.strftime("%Y-%m-%d %H:%M:%S")
        elif pd.api.types.is_float_dtype(dtype):
            frame[column] = frame[column].round(3)
    return frame


def _table(frame: pd.DataFrame, css_class: str) -> pn.widgets.Tabulator:
    return pn.widgets.Tabulator(
        frame,
        disabled=True,
        show_index=False,
        layout="fit_data_table",
        pagination="local" if len(frame) > 25 else None,
        page_size=25,
        sizing_mode="stretch_width",
        css_classes=[css_class],
    )


def _empty(what: str, how: str = NO_LAKE_DATA) -> pn.pane.Markdown:
    """The explanatory stand-in for a chart or table with nothing to show yet."""
    return pn.pane.Markdown(f"**{what}** {how}", css_classes=["empty-state"])


def _chart(fig: figure, css_class: str) -> pn.pane.Bokeh:
    fig.toolbar.logo = None
    # the pane hands the figure itself to the page: the class goes on the figure
    fig.css_classes = [css_class]
    return pn.pane.Bokeh(fig, sizing_mode="stretch_width")


def _bars(
    title: str, labels: list[str], values: list[float], colours: list[str], unit: str
) -> figure:
    """A vertical bar chart of one value per label."""
    source = ColumnDataSource({"label": labels, "value": values, "colour": colours})
    fig = figure(
        title=title,
        x_range=labels,
        height=CHART_HEIGHT,
        sizing_mode="stretch_width",
        tools="save",
        y_axis_label=unit,
    )
    fig.vbar(x="label", top="value", width=0.7, color="colour", source=source)
    fig.add_tools(HoverTool(tooltips=[("", "@label"), (unit, "@value{0.[000]}")]))
    fig.y_range.start = 0
    fig.xgrid.grid_line_color = None
    return fig


# -- the four dashboards -----------------------------------------------------------------


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


def pulse_view(data: Dashboards) -> list[pn.viewable.Viewable]:
    """PRD-42: characters ready, takes by stage, minutes generated and approved, GPU cost."""
    pulse = data.pulse
    if not data.pulse_by_project:
        return [_empty("No projects in the lake yet.")]
    objects: list[pn.viewable.Viewable] = [stat_cards(pulse)]
    stages = {
        "in flight": pulse.in_flight,
        "awaiting review": pulse.awaiting_review,
        "approved": pulse.approved,
        "delivered": pulse.delivered,
        "rejected": pulse.rejected,
        "failed": pulse.failed,
    }
    if pulse.takes:
        stage_chart = _bars(
            f"Newest takes by stage · {pulse.project}",
            list(stages),
            list(stages.values()),
            [STAGE_COLOURS[s] for s in stages],
            "takes",
        )
        objects.append(
            pn.Row(
                _chart(stage_chart, "pulse-stages"),
                _chart(_minutes_chart(data.pulse_by_project), "pulse-minutes"),
                sizing_mode="stretch_width",
            )
        )
    else:
        objects.append(_empty("No takes yet.", "Generate some (the `scenes` job), then Refresh."))
    rows = pd.DataFrame(
        [
            {
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
                "GPU s / approved min": None
                if p.gpu_s_per_approved_min is None
                else round(p.gpu_s_per_approved_min, 1),
            }
            for p in data.pulse_by_project
        ]
    )
    objects += [pn.pane.Markdown("#### Per project"), _table(rows, "pulse-table")]
    return objects


def _minutes_chart(pulses: list[Pulse]) -> figure:
    """Generated and approved minutes side by side, per project."""
    names = [p.project for p in pulses]
    source = ColumnDataSource(
        {
            "project": names,
            "generated": [p.generated_min for p in pulses],
            "approved": [p.approved_min for p in pulses],
        }
    )
    fig = figure(
        title="Minutes generated and approved",
        x_range=names,
        height=CHART_HEIGHT,
        sizing_mode="stretch_width",
        tools="save",
        y_axis_label="minutes",
    )
    for field, offset, colour in (("generated", -0.17, "#adb5bd"), ("approved", 0.17, PASSED)):
        fig.vbar(
            x=dodge("project", offset, range=fig.x_range),
            top=field,
            width=0.3,
            color=colour,
            legend_label=field,
            source=source,
        )
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("", "@project"),
                ("generated", "@generated{0.00} min"),
                ("approved", "@approved{0.00} min"),
            ]
        )
    )
    fig.y_range.start = 0
    fig.xgrid.grid_line_color = None
    fig.legend.location = "top_left"
    return fig


def _percentile_chart(performance: pa.Table, dimension: str) -> figure:
    """p50 and p95 GPU seconds per segment attempt for each worker or workflow."""
    rows = [r for r in performance.to_pylist() if r["dimension"] == dimension]
    names = [r["name"] for r in rows]
    source = ColumnDataSource(
        {
            "name": names,
            "p50": [r["p50_gpu_s"] for r in rows],
            "p95": [r["p95_gpu_s"] for r in rows],
            "segments": [r["segments"] for r in rows],
            "per_video_s": [r["gpu_s_per_video_s"] for r in rows],
        }
    )
    fig = figure(
        title=f"GPU seconds per segment attempt, by {dimension}",
        x_range=names,
        height=CHART_HEIGHT,
        sizing_mode="stretch_width",
        tools="save",
        y_axis_label="GPU s",
    )
    for field, offset, colour in (("p50", -0.17, theme.ACCENT), ("p95", 0.17, "#91a7ff")):
        fig.vbar(
            x=dodge("name", offset, range=fig.x_range),
            top=field,
            width=0.3,
            color=colour,
            legend_label=field,
            source=source,
        )
    fig.add_tools(
        HoverTool(
            tooltips=[
                (dimension, "@name"),
                ("segments", "@segments"),
                ("p50", "@p50{0.000} s"),
                ("p95", "@p95{0.000} s"),
                ("GPU s per video s", "@per_video_s{0.000}"),
            ]
        )
    )
    fig.y_range.start = 0
    fig.xgrid.grid_line_color = None
    fig.legend.location = "top_left"
    return fig


def _trend_chart(trend: pa.Table) -> figure:
    """Median GPU seconds per segment attempt, day by day, one line per worker · workflow."""
    fig = figure(
        title="Median GPU seconds per segment attempt, by day",
        x_axis_type="datetime",
        height=CHART_HEIGHT,
        sizing_mode="stretch_width",
        tools="pan,wheel_zoom,reset,save",
        y_axis_label="GPU s",
    )
    frame = trend.to_pandas()
    frame["day"] = pd.to_datetime(frame["day"])
    palette = [theme.ACCENT, PASSED, "#e8590c", "#ae3ec9", "#1098ad", "#f59f00"]
    series = frame.groupby(["worker", "workflow"], sort=True)
    for number, ((worker, workflow), rows) in enumerate(series):
        columns = rows.assign(series=f"{worker} · {workflow}")
        source = ColumnDataSource({name: columns[name].to_numpy() for name in columns})
        colour = palette[number % len(palette)]
        label = f"{worker} · {workflow}"
        fig.line(x="day", y="p50_gpu_s", color=colour, legend_label=label, source=source)
        fig.scatter(x="day", y="p50_gpu_s", color=colour, size=8, legend_label=label, source=source)
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("", "@series"),
                ("day", "@day{%F}"),
                ("segments", "@segments"),
                ("median", "@p50_gpu_s{0.000} GPU s"),
                ("GPU s per video s", "@gpu_s_per_video_s{0.000}"),
            ],
            formatters={"@day": "datetime"},
        )
    )
    # half a day either side, so a single day is a point in the middle, not the whole axis
    if len(frame):
        half_day = pd.Timedelta(hours=12)
        fig.x_range = Range1d(frame["day"].min() - half_day, frame["day"].max() + half_day)
    fig.xaxis.formatter = DatetimeTickFormatter(days="%Y-%m-%d", hours="%Y-%m-%d %H:%M")
    fig.y_range.start = 0
    fig.legend.location = "top_left"
    return fig


def performance_view(data: Dashboards) -> list[pn.viewable.Viewable]:
    """PRD-41: GPU time per segment attempt per worker and workflow, and its trend."""
    if data.performance.num_rows == 0:
        return [_empty("No segment attempts in the lake yet.")]
    return [
        pn.Row(
            _chart(_percentile_chart(data.performance, "worker"), "performance-workers"),
            _chart(_percentile_chart(data.performance, "workflow"), "performance-workflows"),
            sizing_mode="stretch_width",
        ),
        _table(_frame(data.performance), "performance-table"),
        _chart(_trend_chart(data.trend), "performance-trend"),
        pn.pane.Markdown("#### By day"),
        _table(_frame(data.trend), "trend-table"),
    ]


def gantt(timeline: pa.Table) -> figure:
    """One bar per segment attempt on its worker's row, from start to finish, coloured by
    its QA verdict; hovering names the scene, segment, attempt and GPU seconds."""
    frame = timeline.to_pandas()
    workers = sorted(frame["worker"].unique(), reverse=True)
    source = ColumnDataSource(
        {
            "worker": frame["worker"].tolist(),
            "start": frame["started_at"].dt.tz_convert(UTC).dt.tz_localize(None),
            "end": frame["finished_at"].dt.tz_convert(UTC).dt.tz_localize(None),
            "scene": (
                frame["character"]
                + " · "
                + frame["scene_type"]
                + " · take "
                + frame["take"].astype(str)
                + " ("
                + frame["project"]
                + ")"
            ).tolist(),
            "scene_id": frame["scene_id"].tolist(),
            "segment": frame["index"].tolist(),
            "attempt": frame["attempt"].tolist(),
            "compute_s": frame["compute_s"].tolist(),
            "qa": frame["qa"].tolist(),
            "failed_gates": frame["failed_gates"].fillna("").tolist(),
            "started": frame["started_at"].dt.strftime("%Y-%m-%d %H:%M:%S").tolist(),
            "finished": frame["finished_at"].dt.strftime("%Y-%m-%d %H:%M:%S").tolist(),
        },
        name="timeline-attempts",
    )
    fig = figure(
        title="Segment attempts per worker (UTC)",
        y_range=FactorRange(*workers),
        x_axis_type="datetime",
        height=max(200, 90 + 50 * len(workers)),
        sizing_mode="stretch_width",
        tools="xpan,xwheel_zoom,reset,save",
        active_scroll="xwheel_zoom",
        y_axis_label="worker",
    )
    # the legend beside the chart, where no bar can hide under it
    fig.add_layout(Legend(title="QA"), "right")
    fig.hbar(
        y="worker",
        left="start",
        right="end",
        height=0.6,
        source=source,
        color=factor_cmap("qa", list(QA_COLOURS.values()), list(QA_COLOURS)),
        legend_field="qa",
    )
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("scene", "@scene"),
                ("segment", "@segment"),
                ("attempt", "@attempt"),
                ("GPU s", "@compute_s{0.000}"),
                ("QA", "@qa @failed_gates"),
                ("started", "@started"),
                ("finished", "@finished"),
            ]
        )
    )
    fig.ygrid.grid_line_color = None
    return fig


def timeline_view(data: Dashboards) -> list[pn.viewable.Viewable]:
    """PRD-90: every segment attempt on its worker, in time, passed or failed."""
    if data.timeline.num_rows == 0:
        return [
            _empty(
                "No segment attempts with start and finish times in this window.",
                "Widen the window, or generate takes and press **Refresh**.",
            )
        ]
    # Tabulator takes a column named "index" for the row index: show it as the segment
    shown = data.timeline.drop_columns(["run_id", "status"])
    shown = shown.rename_columns(["segment" if c == "index" else c for c in shown.column_names])
    return [
        _chart(gantt(data.timeline), "timeline-gantt"),
        pn.pane.Markdown(f"#### Attempts ({data.timeline.num_rows})"),
        _table(_frame(shown), "timeline-table"),
    ]


def failures_view(data: Dashboards) -> list[pn.viewable.Viewable]:
    """PRD-64: QA refusals by cause, workflow and worker; failed orchestrator runs."""
    objects: list[pn.viewable.Viewable] = [pn.pane.Markdown("#### QA gates that refused")]
    if data.failures.num_rows:
        by_cause = count_by(data.failures, "cause", "failures").to_pylist()
        objects.append(
            _chart(
                _bars(
                    "Refused segment attempts, by QA gate",
                    [r["cause"] for r in by_cause],
                    [r["failures"] for r in by_cause],
                    [FAILED] * len(by_cause),
                    "refusals",
                ),
                "failures-causes",
            )
        )
        objects.append(_table(_frame(data.failures), "failures-table"))
    else:
        objects.append(
            _empty("No QA gate has refused a segment attempt.", "Every attempt passed its gates.")
        )
    objects.append(pn.pane.Markdown("#### Failed runs"))
    if data.failed_runs.num_rows:
        jobs = data.failed_runs_by_job.to_pylist()
        objects.append(
            _chart(
                _bars(
                    "Failed runs, by job",
                    [r["job"] for r in jobs],
                    [r["count"] for r in jobs],
                    [FAILED] * len(jobs),
                    "runs",
                ),
                "failed-runs-jobs",
            )
        )
        objects.append(_table(_frame(data.failed_runs), "failed-runs-table"))
    else:
        objects.append(
            _empty(
                "No failed runs in the lake.",
                f"Run facts as of {_when(data.runs_exported_at)} (the Dagster `lake` job "
                "exports them).",
            )
        )
    return objects


# -- the app -----------------------------------------------------------------------------


class DashboardsApp:
    """One browser session of the dashboards; shows nothing until a login with view."""

    def __init__(self, settings: Settings):
        self.url = database_url(settings)
        self.lake: Lake = lake_of(settings)
        self.data: Dashboards | None = None
        self.login = Login(
            self.url, "dashboards", Permission.VIEW, self._signed_in, self._signed_out
        )
        self.login_view = self.login.form

        self.project = pn.widgets.Select(label="Project", options=[ALL], width=180)
        self.project.param.watch(lambda _: self.redraw(), "value")
        self.window = pn.widgets.Select(
            label="Timeline span", options=list(WINDOWS), value="7 days", width=150
        )
        self.window.param.watch(lambda _: self.redraw(), "value")
        refresh = pn.widgets.Button(label="Refresh", color="primary")
        refresh.on_click(lambda _: self.refresh())
        self.as_of = pn.pane.Markdown("", css_classes=["as-of"])
        self.notice = theme.notice()
        self.pulse = pn.Column(sizing_mode="stretch_width", css_classes=["dashboard-pulse"])
        self.performance = pn.Column(
            sizing_mode="stretch_width", css_classes=["dashboard-performance"]
        )
        self.timeline = pn.Column(sizing_mode="stretch_width", css_classes=["dashboard-timeline"])
        self.failures = pn.Column(sizing_mode="stretch_width", css_classes=["dashboard-failures"])
        self.tabs = pn.Tabs(
            ("Studio pulse", self.pulse),
            ("Performance", self.performance),
            ("Render timeline", self.timeline),
            ("Failures", self.failures),
            sizing_mode="stretch_width",
        )
        self.dashboard_view = pn.Column(
            _wrapping(self.login.who, self.login.logout_button),
            _wrapping(self.project, self.window, refresh, self.as_of),
            self.notice,
            self.tabs,
            sizing_mode="stretch_width",
        )
        # Both views stay in the page and only one is visible (see apps/review.py).
        self.body = pn.Column(self.login_view, self.dashboard_view, sizing_mode="stretch_width")
        self._show(self.login_view)
        self.root = theme.page("Dashboards", self.body)

    def view(self) -> pn.Column:
        """The app's root layout, to be made servable."""
        return self.root

    def _show(self, view: pn.Column) -> None:
        for each in (self.login_view, self.dashboard_view):
            each.visible = each is view

    def _signed_in(self, _: SignedIn) -> None:
        self._show(self.dashboard_view)
        self.redraw()

    def _signed_out(self) -> None:
        self.data = None
        for tab in (self.pulse, self.performance, self.timeline, self.failures):
            tab.objects = []
        self._show(self.login_view)

    def _session_holds(self) -> bool:
        """Whether this session may still view; if not, back to the login form, saying why."""
        try:
            with connect(self.url) as conn:
                require(accounts.user_for_session(conn, self.login.token or ""), Permission.VIEW)
        except AuthError as error:
            self.login.expired(error)
            return False
        except TrulienceError as error:
            theme.show(self.notice, refusal(error), "danger")
            return False
        return True

    def redraw(self) -> None:
        """Read the lake for the chosen project and window and draw every dashboard."""
        if self.login.token is None or not self._session_holds():
            return
        project = None if self.project.value == ALL else self.project.value
        try:
            self.data = load(self.lake, project, WINDOWS[self.window.value])
        except TrulienceError as error:
            self.data = None
            self.as_of.object = "Lake as of **never**"
            theme.show(self.notice, refusal(error), "warning")
            for tab in (self.pulse, self.performance, self.timeline, self.failures):
                tab.objects = [
                    _empty("No lake to read yet.", "Press **Refresh** to export the catalog.")
                ]
            return
        if self.notice.alert_type == "warning":
            self.notice.visible = False
        options = [ALL, *self.data.projects]
        if self.project.options != options:
            chosen = self.project.value
            self.project.options = options
            if self.project.value != chosen:  # it left the lake: the filter's watcher redrew
                return
        self.as_of.object = (
            f"as of **{_when(self.data.exported_at)}** "
            f"(run facts {_when(self.data.runs_exported_at)})"
        )
        self.pulse.objects = pulse_view(self.data)
        self.performance.objects = performance_view(self.data)
        self.timeline.objects = timeline_view(self.data)
        self.failures.objects = failures_view(self.data)

    def refresh(self) -> None:
        """Re-export the catalog to the lake (while the session still holds), then redraw.
        A lake that could not be read is rewritten whole."""
        if not self._session_holds():
            return
        try:
            with connect(self.url) as conn:
                reports = export_catalog(conn, self.lake, full=self.data is None)
        except TrulienceError as error:
            theme.show(self.notice, refusal(error), "danger")
            return
        rows = sum(r.rows for r in reports)
        theme.show(self.notice, f"Catalog exported to the lake ({rows} rows written).", "success")
        self.redraw()


def _wrapping(*objects: pn.viewable.Viewable) -> pn.FlexBox:
    """A row that wraps onto the next line when the screen is too narrow for it."""
    return pn.FlexBox(
        *objects, flex_wrap="wrap", align_items="center", gap="12px", sizing_mode="stretch_width"
    )


if __name__.startswith("bokeh"):
    theme.setup()
    pn.extension("tabulator")
    DashboardsApp(Settings.from_env()).view().servable(title="Trulience · Dashboards")
