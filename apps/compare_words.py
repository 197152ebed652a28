"""The compare app's words: each attempt's and each take's QA verdict as lines, the change
between two of them, and the labels of takes and attempts (plain functions of catalog
records, shared by the session and its views)."""

import html
import statistics
from typing import Any

from trulience.catalog.comparisons import Attempt, CharacterTake, SegmentedTake, SegmentVerdict


def verdict_lines(qa: dict[str, Any], previous: dict[str, Any] | None) -> list[str]:
    """A QA verdict in words: gates passed and failed, identity median, and what changed
    since the previous attempt."""
    if not qa:
        return ["no QA verdict yet"]
    passed = [name for name, gate in _gates(qa).items() if gate.get("passed")]
    return _words(qa, "gates passed: " + (", ".join(passed) or "none"), previous)


def _gates(qa: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {g["name"]: g for g in qa.get("gates", []) if isinstance(g, dict) and "name" in g}


def _failed(qa: dict[str, Any]) -> list[str]:
    gates = _gates(qa)
    return list(qa.get("failed", [g for g, r in gates.items() if not r.get("passed")]))


def _words(qa: dict[str, Any], passed_line: str, previous: dict[str, Any] | None) -> list[str]:
    """A verdict's lines: passed or failed, `passed_line`, the failures with their message,
    the identity median and the change since `previous`."""
    gates, failed = _gates(qa), _failed(qa)
    lines = [f"QA **{'passed' if qa.get('passed') else 'failed'}**", passed_line]
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


def take_qa(verdicts: list[SegmentVerdict]) -> dict[str, Any]:
    """A take's QA verdict from its current segments' verdicts, in a segment verdict's shape
    (so the same words and change read it): passed when every segment passed, each gate
    named with its segment ("segment 1 black"), the identity median the median of the
    segments' ones, `segments` how many passed of how many; {} when none has a verdict."""
    judged = [v for v in verdicts if v.qa]
    if not judged:
        return {}
    gates, failed, medians = [], [], []
    for verdict in judged:
        named = {name: f"segment {verdict.index} {name}" for name in _gates(verdict.qa)}
        gates += [{**g, "name": named[n]} for n, g in _gates(verdict.qa).items()]
        failed += [named.get(n, f"segment {verdict.index} {n}") for n in _failed(verdict.qa)]
        median = _identity_median(verdict.qa)
        if median is not None:
            medians.append(median)
    passed = sum(1 for v in judged if v.qa.get("passed"))
    return {
        "passed": passed == len(verdicts),
        "failed": failed,
        "gates": gates,
        "segments": {"passed": passed, "of": len(verdicts)},
        "metrics": {"identity_median": statistics.median(medians)} if medians else {},
    }


def take_verdict_lines(qa: dict[str, Any]) -> list[str]:
    """A take's QA verdict (`take_qa`) in words: how many segments passed, the gates that
    failed (each with its segment), the identity median."""
    if not qa:
        return ["no QA verdict yet"]
    segments = qa["segments"]
    return _words(qa, f"segments passed: {segments['passed']} of {segments['of']}", None)


def grid_verdict(qa: dict[str, Any]) -> str:
    """A take's QA verdict (`take_qa`) in one line, as a grid cell shows it."""
    if not qa:
        return "no QA verdict yet"
    if qa["passed"]:
        return f"QA passed · {qa['segments']['of']} segments"
    return "QA failed: " + (", ".join(_failed(qa)) or "a segment without a passing verdict")


def pair_label(take: CharacterTake) -> str:
    """How the two-take choosers name a take of the scene type (character, take, branch)."""
    return f"{take.character} · take {take.take} · {take.branch} ({take.project})"


def take_change_line(
    first: CharacterTake, first_qa: dict[str, Any], second: CharacterTake, second_qa: dict
) -> str:
    """What changed between two compared takes' QA, from the older take to the newer."""
    if first.scene_id == second.scene_id:
        return f"{pair_label(first)} compared with itself"
    (early, early_qa), (late, late_qa) = sorted(
        ((first, first_qa), (second, second_qa)), key=lambda pair: pair[0].scene_id
    )
    names = f"{early.character} take {early.take} → {late.character} take {late.take}"
    if not early_qa or not late_qa:
        return f"{names}: no QA verdict to compare"
    return f"{names}: {_change(late_qa, early_qa)}"


def status_of(attempt: Attempt) -> str:
    """The attempt's machine status as the compare view names it."""
    return f"{attempt.status} · current" if attempt.current else attempt.status


def take_label(take: SegmentedTake) -> str:
    """How the take chooser names a take with segments."""
    return f"{take.character} · {take.scene_type} · take {take.take} ({take.project})"


def attempt_heading(attempt: Attempt) -> str:
    """An attempt's number and status, as a card or the compare player heads it."""
    return f"**Attempt {attempt.attempt}** · status `{status_of(attempt)}`"


def change_line(first: Attempt, second: Attempt) -> str:
    """What changed between two compared attempts, from the earlier to the later."""
    if first.attempt == second.attempt:
        return f"attempt {first.attempt} compared with itself"
    early, late = sorted((first, second), key=lambda a: a.attempt)
    if not early.qa or not late.qa:
        return f"attempt {early.attempt} → {late.attempt}: no QA verdict to compare"
    return f"attempt {early.attempt} → {late.attempt}: {_change(late.qa, early.qa)}"
