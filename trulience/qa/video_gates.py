"""The segment gates (PRD-49): pure functions of a segment's SegmentMetrics against the
QARules in force and what the scene type expected, each giving a GateResult whose message
says what was seen and what was allowed.
"""

from fractions import Fraction

from trulience.qa.video import SegmentMetrics
from trulience.qa.video_rules import Expected, GateResult, QARules, SegmentVerdict


def evaluate_segment(
    metrics: SegmentMetrics,
    rules: QARules,
    expected: Expected,
    previous: SegmentMetrics | None = None,
) -> SegmentVerdict:
    """Run every switched-on gate on a measured segment. Seam needs the previous last frame
    at measurement; identity drop needs `previous`; gates without their input are left out."""
    gates: list[GateResult | None] = []
    if rules.check_black:
        gates.append(_black(metrics, rules))
    if rules.check_frozen:
        gates.append(_frozen(metrics, rules))
    if rules.check_flicker:
        gates.append(_flicker(metrics, rules))
    if rules.check_face_missing:
        gates.append(_face_missing(metrics, rules))
    if rules.check_identity:
        gates.append(_identity(metrics, rules))
    if rules.check_identity_drop and previous is not None:
        gates.append(_identity_drop(metrics, rules, previous))
    if rules.check_seam and metrics.seam_difference is not None:
        gates.append(_seam(metrics, rules))
    gates.extend(_format(metrics, rules, expected))
    results = tuple(g for g in gates if g is not None)
    return SegmentVerdict(passed=all(g.passed for g in results), gates=results)


def _is_black(metrics: SegmentMetrics, rules: QARules, frame: int) -> bool:
    # Only when the black gate runs: then it alone reports black frames, and the frozen and
    # face gates do not repeat the same defect in other words.
    return rules.check_black and metrics.luminance[frame] < rules.black_luminance


def _black(metrics: SegmentMetrics, rules: QARules) -> GateResult:
    black = [i for i, value in enumerate(metrics.luminance) if value < rules.black_luminance]
    share = len(black) / max(len(metrics.luminance), 1)
    passed = len(black) <= rules.black_max_frames and share <= rules.black_max_share
    if not black:
        message = "no black frames"
    else:
        first = black[0] / metrics.fps
        message = (
            f"{len(black)} black frames ({share:.0%} of the segment) from {float(first):.1f} s; "
            f"at most {rules.black_max_frames} frames and {rules.black_max_share:.0%} allowed"
        )
    return GateResult("black", passed, len(black), rules.black_max_frames, message)


def _frozen(metrics: SegmentMetrics, rules: QARules) -> GateResult:
    longest, start = _longest_still_run(metrics, rules)
    # A run of k still steps holds one picture for k + 1 frames.
    seconds = float((longest + 1) / metrics.fps) if longest else 0.0
    passed = seconds <= rules.frozen_max_s
    if not longest:
        message = "no frozen frames"
    else:
        message = (
            f"{_seconds(seconds)} s of frozen frames from {_seconds(start / metrics.fps)} s; "
            f"at most {_seconds(rules.frozen_max_s)} s allowed"
        )
    return GateResult("frozen", passed, round(seconds, 3), rules.frozen_max_s, message)


def _seconds(value: float | Fraction) -> str:
    # Two decimals at most, so 1.54 s never reads as the 1.5 s it exceeds.
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _longest_still_run(metrics: SegmentMetrics, rules: QARules) -> tuple[int, int]:
    """(still steps, first frame) of the longest run of near-identical consecutive frames."""
    differences = metrics.frame_difference
    still = [
        d < rules.frozen_difference and not _is_black(metrics, rules, i + 1)
        for i, d in enumerate(differences)
    ]
    # Bridge one keyframe refresh between two still steps (see QARules).
    for i in range(1, len(differences) - 1):
        if still[i - 1] and still[i + 1] and differences[i] < rules.frozen_refresh_difference:
            still[i] = True
    best, best_start, run, run_start = 0, 0, 0, 0
    for i, is_still in enumerate(still):
        if is_still:
            if run == 0:
                run_start = i
            run += 1
            if run > best:
                best, best_start = run, run_start
        else:
            run = 0
    return best, best_start


def _flicker(metrics: SegmentMetrics, rules: QARules) -> GateResult:
    luminance = metrics.luminance
    jumps = [
        i + 1
        for i in range(len(luminance) - 1)
        if abs(luminance[i + 1] - luminance[i]) > rules.flicker_jump
    ]
    passed = len(jumps) <= rules.flicker_max_jumps
    if not jumps:
        message = "no flicker"
    else:
        message = (
            f"{len(jumps)} brightness jumps over {rules.flicker_jump:g} levels from "
            f"{float(jumps[0] / metrics.fps):.1f} s; at most {rules.flicker_max_jumps} allowed"
        )
    return GateResult("flicker", passed, len(jumps), rules.flicker_max_jumps, message)


def _face_missing(metrics: SegmentMetrics, rules: QARules) -> GateResult | None:
    samples = [s for s in metrics.identity_samples if not _is_black(metrics, rules, s.frame)]
    if metrics.identity_band is None or not samples:
        return None
    missing = [s for s in samples if s.similarity is None]
    share = len(missing) / len(samples)
    passed = share <= rules.face_missing_max_share
    if not missing:
        message = f"face found in all {len(samples)} sampled frames"
    else:
        message = (
            f"face missing in {len(missing)} of {len(samples)} sampled frames, first at "
            f"{missing[0].time_s:.1f} s; at most {rules.face_missing_max_share:.0%} allowed"
        )
    return GateResult(
        "face_missing", passed, round(share, 3), rules.face_missing_max_share, message
    )


def _identity(metrics: SegmentMetrics, rules: QARules) -> GateResult | None:
    band = metrics.identity_band
    if band is None:
        return GateResult(
            "identity",
            True,
            None,
            None,
            "not checked: measured without a face model or the character's identity",
        )
    median, worst = metrics.identity_median, metrics.identity_min
    if median is None or worst is None:
        # No face at all: the face_missing gate reports it; fail here only if it is off.
        return GateResult(
            "identity",
            rules.check_face_missing,
            None,
            band.threshold,
            "no face found to compare with the character",
        )
    floor = band.threshold - rules.identity_min_slack
    if median < band.threshold:
        message = (
            f"face is another person: similarity {median:.2f}, "
            f"this character needs ≥ {band.threshold:.2f}"
        )
    elif worst < floor:
        moment = next(s for s in metrics.identity_samples if s.similarity == worst)
        message = (
            f"face changes at {moment.time_s:.1f} s: similarity {worst:.2f}, "
            f"this character needs ≥ {floor:.2f} in every sampled frame"
        )
    else:
        message = f"face is the character: similarity {median:.2f} (≥ {band.threshold:.2f})"
    passed = median >= band.threshold and worst >= floor
    return GateResult("identity", passed, round(median, 4), round(band.threshold, 4), message)


def _identity_drop(
    metrics: SegmentMetrics, rules: QARules, previous: SegmentMetrics
) -> GateResult | None:
    now, before = metrics.identity_median, previous.identity_median
    if now is None or before is None:
        return None
    drop = before - now
    passed = drop <= rules.identity_max_drop
    if passed:
        message = f"identity held from the previous segment ({before:.2f} to {now:.2f})"
    else:
        message = (
            f"identity fell from {before:.2f} in the previous segment to {now:.2f}; "
            f"at most {rules.identity_max_drop:.2f} drop allowed"
        )
    return GateResult("identity_drop", passed, round(drop, 4), rules.identity_max_drop, message)


def _seam(metrics: SegmentMetrics, rules: QARules) -> GateResult:
    jump = metrics.seam_difference or 0.0
    passed = jump <= rules.seam_max_difference
    if passed:
        message = f"seam is continuous (difference {jump:.1f})"
    else:
        message = (
            f"jump at the seam: the first frame differs from the previous segment's last by "
            f"{jump:.1f} levels; at most {rules.seam_max_difference:g} allowed"
        )
    return GateResult("seam", passed, round(jump, 3), rules.seam_max_difference, message)


def _format(metrics: SegmentMetrics, rules: QARules, expected: Expected) -> list[GateResult]:
    gates = []
    if rules.check_fps:
        fps, wanted = float(metrics.fps), float(expected.fps)
        passed = abs(fps - wanted) <= rules.fps_tolerance
        message = f"{fps:g} fps" + ("" if passed else f", the scene type needs {wanted:g} fps")
        gates.append(GateResult("fps", passed, fps, wanted, message))
    if rules.check_frame_count:
        passed = metrics.frames == expected.frames
        message = f"{metrics.frames} frames" + (
            "" if passed else f", the scene type needs exactly {expected.frames}"
        )
        gates.append(GateResult("frame_count", passed, metrics.frames, expected.frames, message))
    if rules.check_resolution:
        size, wanted_size = (
            f"{metrics.width}x{metrics.height}",
            f"{expected.width}x{expected.height}",
        )
        passed = size == wanted_size
        message = size + ("" if passed else f", the scene type needs {wanted_size}")
        gates.append(GateResult("resolution", passed, size, wanted_size, message))
    if rules.check_pix_fmt:
        passed = metrics.pix_fmt == rules.pix_fmt
        message = f"pixel format {metrics.pix_fmt}" + ("" if passed else f", needs {rules.pix_fmt}")
        gates.append(GateResult("pix_fmt", passed, metrics.pix_fmt, rules.pix_fmt, message))
    if rules.check_codec:
        passed = metrics.codec == rules.codec
        message = f"codec {metrics.codec}" + ("" if passed else f", needs {rules.codec}")
        gates.append(GateResult("codec", passed, metrics.codec, rules.codec, message))
    return gates
