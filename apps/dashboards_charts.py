"""The dashboards' Bokeh charts, each drawn from one lake table or list of pulses: bars per
label, paired bars per project / worker / workflow, the GPU-time trend, the render
timeline's Gantt chart and a character's identity per take. Panel-free: the views put them
in panes."""

from datetime import UTC
from typing import Any

import pandas as pd
import pyarrow as pa
from bokeh.models import (
    ColumnDataSource,
    DatetimeTickFormatter,
    FactorRange,
    HoverTool,
    Legend,
    Range1d,
    Span,
)
from bokeh.plotting import figure
from bokeh.transform import dodge, factor_cmap

from apps import theme
from trulience.lake.dashboards import Pulse

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


def _bar_figure(title: str, labels: list[str], unit: str) -> figure:
    """The frame every bar chart shares: one category per label, values up from zero."""
    fig = figure(
        title=title,
        x_range=labels,
        height=CHART_HEIGHT,
        sizing_mode="stretch_width",
        tools="save",
        y_axis_label=unit,
    )
    fig.y_range.start = 0
    fig.xgrid.grid_line_color = None
    return fig


def bars(
    title: str, labels: list[str], values: list[float], colours: list[str], unit: str
) -> figure:
    """A vertical bar chart of one value per label."""
    source = ColumnDataSource({"label": labels, "value": values, "colour": colours})
    fig = _bar_figure(title, labels, unit)
    fig.vbar(x="label", top="value", width=0.7, color="colour", source=source)
    fig.add_tools(HoverTool(tooltips=[("", "@label"), (unit, "@value{0.[000]}")]))
    return fig


def paired_bars(
    title: str,
    unit: str,
    columns: dict[str, list[Any]],
    pair: tuple[tuple[str, str], tuple[str, str]],
    tooltips: list[tuple[str, str]],
) -> figure:
    """Two bars side by side for each label: `columns` holds the labels under its first key
    and the values under the two keys of `pair` ((field, colour), (field, colour))."""
    label = next(iter(columns))
    fig = _bar_figure(title, columns[label], unit)
    source = ColumnDataSource(columns)
    for (field, colour), offset in zip(pair, (-0.17, 0.17), strict=True):
        fig.vbar(
            x=dodge(label, offset, range=fig.x_range),
            top=field,
            width=0.3,
            color=colour,
            legend_label=field,
            source=source,
        )
    fig.add_tools(HoverTool(tooltips=tooltips))
    fig.legend.location = "top_left"
    return fig


def minutes_chart(pulses: list[Pulse]) -> figure:
    """Generated and approved minutes side by side, per project."""
    columns = {
        "project": [p.project for p in pulses],
        "generated": [p.generated_min for p in pulses],
        "approved": [p.approved_min for p in pulses],
    }
    tooltips = [
        ("", "@project"),
        ("generated", "@generated{0.00} min"),
        ("approved", "@approved{0.00} min"),
    ]
    pair = (("generated", "#adb5bd"), ("approved", PASSED))
    return paired_bars("Minutes generated and approved", "minutes", columns, pair, tooltips)


def percentile_chart(performance: pa.Table, dimension: str) -> figure:
    """p50 and p95 GPU seconds per segment attempt for each worker or workflow."""
    rows = [r for r in performance.to_pylist() if r["dimension"] == dimension]
    columns = {
        "name": [r["name"] for r in rows],
        "p50": [r["p50_gpu_s"] for r in rows],
        "p95": [r["p95_gpu_s"] for r in rows],
        "segments": [r["segments"] for r in rows],
        "per_video_s": [r["gpu_s_per_video_s"] for r in rows],
    }
    tooltips = [
        (dimension, "@name"),
        ("segments", "@segments"),
        ("p50", "@p50{0.000} s"),
        ("p95", "@p95{0.000} s"),
        ("GPU s per video s", "@per_video_s{0.000}"),
    ]
    title = f"GPU seconds per segment attempt, by {dimension}"
    pair = (("p50", theme.ACCENT), ("p95", "#91a7ff"))
    return paired_bars(title, "GPU s", columns, pair, tooltips)


def trend_chart(trend: pa.Table) -> figure:
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


def timeline_source(timeline: pa.Table) -> ColumnDataSource:
    """The render timeline's bars as the browser holds them: one per segment attempt, with
    what hovering names (scene, segment, attempt, GPU seconds, QA, times)."""
    frame = timeline.to_pandas()
    scene = (
        frame["character"]
        + " · "
        + frame["scene_type"]
        + " · take "
        + frame["take"].astype(str)
        + " ("
        + frame["project"]
        + ")"
    )
    return ColumnDataSource(
        {
            "worker": frame["worker"].tolist(),
            "start": frame["started_at"].dt.tz_convert(UTC).dt.tz_localize(None),
            "end": frame["finished_at"].dt.tz_convert(UTC).dt.tz_localize(None),
            "scene": scene.tolist(),
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


def gantt(timeline: pa.Table) -> figure:
    """One bar per segment attempt on its worker's row, from start to finish, coloured by
    its QA verdict; hovering names the scene, segment, attempt and GPU seconds."""
    source = timeline_source(timeline)
    workers = sorted(set(source.data["worker"]), reverse=True)
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


def consistency_source(consistency: pa.Table) -> ColumnDataSource:
    """One character's takes as the identity chart holds them: a label per take (scene
    type · take · project), its median and lowest identity, whether it is an outlier."""
    rows = consistency.to_pylist()
    return ColumnDataSource(
        {
            "take": [f"{r['scene_type']} · {r['take']} ({r['project']})" for r in rows],
            "median": [r["median_identity"] for r in rows],
            "lowest": [r["min_identity"] for r in rows],
            "z": [r["z_score"] for r in rows],
            "flag": ["outlier" if r["outlier"] else "consistent" for r in rows],
            "reason": [r["reason"] or "" for r in rows],
        },
        name="consistency-takes",
    )


def identity_chart(consistency: pa.Table, character: str) -> figure:
    """Median identity per take (the whisker down to its lowest sampled frame), outliers in
    red, and the character's band threshold as a dashed line."""
    source = consistency_source(consistency)
    fig = figure(
        title=f"Identity per take · {character}",
        x_range=FactorRange(*source.data["take"]),
        height=CHART_HEIGHT,
        sizing_mode="stretch_width",
        tools="save",
        y_axis_label="similarity to the character",
    )
    fig.segment(x0="take", x1="take", y0="lowest", y1="median", color="#adb5bd", source=source)
    colours = factor_cmap("flag", [PASSED, FAILED], ["consistent", "outlier"])
    fig.scatter(x="take", y="median", size=10, color=colours, legend_field="flag", source=source)
    thresholds = [t for t in consistency.column("threshold").to_pylist() if t is not None]
    if thresholds:
        fig.add_layout(
            Span(location=max(thresholds), dimension="width", line_dash="dashed", line_color=FAILED)
        )
    fig.add_tools(
        HoverTool(
            tooltips=[
                ("take", "@take"),
                ("median", "@median{0.000}"),
                ("lowest", "@lowest{0.000}"),
                ("z", "@z{0.0}"),
                ("", "@reason"),
            ]
        )
    )
    fig.xaxis.major_label_orientation = 0.8
    fig.xgrid.grid_line_color = None
    fig.legend.location = "bottom_left"
    return fig
