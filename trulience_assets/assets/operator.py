"""What operators read in the Dagster UI: every check evaluation with its partition, the
measured value and the threshold, and a sentence; run logs as sentences with the figures;
a take's segments and storyboard as tables and pictures linked over http."""

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from dagster import AssetCheckResult, AssetCheckSeverity, MetadataValue

from resources import MediaResource
from trulience.catalog.records import Segment
from trulience.qa.video_rules import GATES
from trulience.storage import Storage

Figure = float | int | str | None

# How a gate compares its value with its threshold (trulience.qa.video_gates): identity
# must reach the character's band, the format gates must match, the rest stay at or below.
AT_LEAST = frozenset({"identity"})
EXACT = frozenset({"fps", "frame_count", "resolution", "pix_fmt", "codec"})
# The gates a committed segment's log line quotes.
LOGGED_GATES = ("identity", "identity_drop", "seam")


def shown(value: Figure) -> str:
    """A figure as a sentence says it: 0.9412 -> 0.941, 2 -> 2, None -> not measured."""
    if value is None:
        return "not measured"
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1000 else f"{value:.0f}"
    return str(value)


def figure(value: Figure, missing: str = "not measured") -> MetadataValue:
    """A figure as typed metadata: float, int or text (`missing` when there is none)."""
    if value is None:
        return MetadataValue.text(missing)
    if isinstance(value, bool):
        return MetadataValue.bool(value)
    if isinstance(value, int):
        return MetadataValue.int(value)
    if isinstance(value, float):
        return MetadataValue.float(value)
    return MetadataValue.text(str(value))


def check_result(
    name: str,
    partition: str,
    *,
    passed: bool,
    value: Figure,
    threshold: Figure,
    description: str,
    severity: AssetCheckSeverity = AssetCheckSeverity.ERROR,
    **figures: Figure,
) -> AssetCheckResult:
    """A check evaluation carrying its partition, measured value, threshold, any further
    figures, and the sentence that says what was found."""
    metadata = {
        "partition": MetadataValue.text(partition),
        "value": figure(value),
        "threshold": figure(threshold, missing="none"),
    } | {key.replace("_", " "): figure(v) for key, v in figures.items()}
    return AssetCheckResult(
        check_name=name,
        passed=passed,
        severity=severity,
        description=description,
        metadata=metadata,
    )


def verdict(passed: bool) -> str:
    return "passed" if passed else "failed"


# --- the quality gates of a take ------------------------------------------------------


def judged_segments(rows: Iterable[Segment]) -> list[Segment]:
    """Per segment index, the attempt that stands: the current one, else the newest (the
    last try at the segment a refused take stopped on)."""
    standing: dict[int, Segment] = {}
    for row in sorted(rows, key=lambda r: (r.index, r.current, r.attempt)):
        standing[row.index] = row  # the current attempt sorts last
    return [standing[index] for index in sorted(standing)]


def gate_checks(
    partition: str, rows: Iterable[Segment], failed: tuple[str, ...] = (), reason: str = ""
) -> list[AssetCheckResult]:
    """One evaluation per gate over the take's judged segments: failed for the gates in
    `failed` (those the refused take's last attempt failed, said by `reason`)."""
    judged = judged_segments(rows)
    return [_gate_check(gate, partition, judged, gate not in failed, reason) for gate in GATES]


def _gate_check(
    gate: str, partition: str, judged: list[Segment], passed: bool, reason: str
) -> AssetCheckResult:
    results = [
        (row.index, g) for row in judged for g in row.qa.get("gates", ()) if g["name"] == gate
    ]
    measured = [(index, g) for index, g in results if g.get("value") is not None]
    count = len(judged)
    if not measured:
        why = results[0][1]["message"] if results else "switched off or not applicable"
        threshold = results[0][1].get("threshold") if results else None
        sentence = f"{gate} gate {verdict(passed)}: not measured on the {count} segment(s) ({why})"
        return check_result(
            f"gate_{gate}",
            partition,
            passed=passed,
            value=None,
            threshold=threshold,
            description=_with_reason(sentence, passed, reason),
            segments_judged=count,
        )
    index, worst = _deciding(gate, measured)
    figures = f"measured {shown(worst['value'])} ({_bound(gate)} {shown(worst['threshold'])})"
    if not worst["passed"]:
        sentence = f"{gate} gate failed: segment {index + 1} of {count} {figures}"
    else:
        which = f"segment {index + 1}" if gate in EXACT else f"the worst, segment {index + 1},"
        sentence = (
            f"{gate} gate passed: {len(measured)} of {count} segment(s) measured; {which} {figures}"
        )
    sentence += f": {worst['message']}"
    return check_result(
        f"gate_{gate}",
        partition,
        passed=passed,
        value=worst["value"],
        threshold=worst["threshold"],
        description=_with_reason(sentence, passed, reason),
        segments_judged=count,
        deciding_segment=index + 1,
    )


def _deciding(gate: str, measured: list[tuple[int, dict]]) -> tuple[int, dict]:
    """The segment whose figure the check shows: the first that failed, else the one
    nearest its threshold."""
    failing = [m for m in measured if not m[1]["passed"]]
    if failing:
        return failing[0]
    if gate in EXACT:
        return measured[0]
    if gate in AT_LEAST:
        return min(measured, key=lambda m: m[1]["value"])
    return max(measured, key=lambda m: m[1]["value"])


def _bound(gate: str) -> str:
    if gate in AT_LEAST:
        return "at least"
    return "must be" if gate in EXACT else "at most"


def _with_reason(sentence: str, passed: bool, reason: str) -> str:
    return f"{sentence}. {reason}" if reason and not passed else f"{sentence}."


# --- media over http --------------------------------------------------------------------


def segment_table(storage: Storage, media: MediaResource, rows: Iterable[Segment]) -> str:
    """The take's judged segments as a markdown table: who made each, in how long, its
    identity and seam figures, its video and its last frame (the next segment's seed)
    linked over http."""
    lines = [
        "| segment | attempt | made on | compute s | identity | seam | video | last frame |",
        "|---|---|---|---|---|---|---|---|",
    ]
    judged = judged_segments(rows)
    for row in judged:
        made = row.provenance
        gates = {g["name"]: g for g in row.qa.get("gates", ())}
        video = (
            f"[{row.uri.rsplit('/', 1)[-1]}]({media.link(storage.key_of(row.uri))})"
            if row.uri
            else "-"
        )
        frame_uri = made.get("last_frame_uri")
        frame = f"![last frame]({media.link(storage.key_of(frame_uri))})" if frame_uri else "-"
        lines.append(
            f"| {row.index + 1} of {len(judged)} | {row.attempt} | {_maker(made)} "
            f"| {shown(made.get('compute_s'))} | {_gate_figure(gates.get('identity'))} "
            f"| {_gate_figure(gates.get('seam'))} | {video} | {frame} |"
        )
    return "\n".join(lines)


def storyboard(storage: Storage, media: MediaResource, uri: str, caption: str) -> str:
    """The storyboard strip (each segment's first frame, left to right) as a picture
    linked over http."""
    link = media.link(storage.key_of(uri))
    return f"**{caption}**\n\n[![storyboard]({link})]({link})"


def _maker(made: Mapping[str, Any]) -> str:
    worker = made.get("worker")
    return f"worker {worker}" if worker else f"the {made.get('backend') or 'unknown'} backend"


def _gate_figure(gate: Mapping[str, Any] | None) -> str:
    """`0.94 >= 0.63` for a measured gate, else what it says."""
    if gate is None:
        return "-"
    if gate.get("value") is None:
        return "not measured"
    sign = ">=" if gate["name"] in AT_LEAST else ("=" if gate["name"] in EXACT else "<=")
    return f"{shown(gate['value'])} {sign} {shown(gate['threshold'])}"


# --- the loop's events as sentences -----------------------------------------------------


def loop_log(log: Callable[[str], None]) -> Callable[[str, dict[str, Any]], None]:
    """An `events` callback for the generation loop writing one sentence per event to
    `log` (the take's segment count, from its first event, says "segment 3 of 8")."""
    planned: dict[str, int] = {}

    def report(kind: str, data: dict[str, Any]) -> None:
        if kind == "take":
            planned["segments"] = len(data.get("plan", ()))
        log(loop_sentence(kind, data, planned.get("segments")))

    return report


def loop_sentence(kind: str, data: Mapping[str, Any], segments: int | None = None) -> str:
    """One event of the generation loop as a sentence with its figures."""
    of = f" of {segments}" if segments else ""
    index = data.get("index")
    segment = f"segment {index + 1}{of}" if isinstance(index, int) else ""
    if kind == "take":
        plan = list(data.get("plan", ()))
        done = len(data.get("committed", ()))
        start = "resuming" if data.get("resumed") else "making"
        return (
            f"{start} take {data.get('take')} (scene {data.get('scene_id')}): {len(plan)} "
            f"segment(s), {sum(plan)} frames, {done} already committed"
        )
    if kind == "segment_started":
        return f"{segment}: attempt {data.get('attempt')} started"
    if kind == "segment_committed":
        sentence = f"{segment} made by {_maker(data)}"
        if data.get("compute_s") is not None:
            sentence += f" in {float(data['compute_s']):.1f} s"
        if data.get("attempt", 1) > 1:
            sentence += f" at attempt {data['attempt']}"
        gates = {g["name"]: g for g in data.get("gates", ())}
        figures = [
            f"{name} {_gate_figure(gates[name])}"
            for name in LOGGED_GATES
            if name in gates and gates[name].get("value") is not None
        ]
        return sentence + (f"; {', '.join(figures)}" if figures else "")
    if kind == "qa_failed":
        gates = ", ".join(str(g) for g in data.get("gates", ()))
        reason = f": {data['reason']}" if data.get("reason") else ""
        return f"{segment}: attempt {data.get('attempt')} failed the {gates} gate(s){reason}"
    if kind in ("paused", "resumed"):
        return f"take (scene {data.get('scene_id')}) {kind} by {data.get('by')}"
    if kind == "take_generated":
        return f"take (scene {data.get('scene_id')}) generated: {data.get('frames')} frames"
    return f"{kind.replace('_', ' ')}: {said(data)}"


def said(data: Mapping[str, Any]) -> str:
    """Figures of an event no sentence is written for, as `name value, name value`."""

    def one(value: Any) -> str:
        if isinstance(value, Mapping):
            return f"({said(value)})"
        if isinstance(value, list | tuple | set):
            return ", ".join(one(v) for v in value) or "none"
        return shown(value) if isinstance(value, float | int | None) else str(value)

    return ", ".join(f"{key.replace('_', ' ')} {one(value)}" for key, value in data.items())
