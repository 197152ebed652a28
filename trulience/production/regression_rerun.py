"""One golden take re-run on a workflow version and judged (PRD-65): each segment made again
through the generation backend with the golden's seed and parameters, from the golden's own
seed frame (so a difference is the workflow's, not drift compounded along the chain), then
compared frame by frame (SSIM, PSNR), for identity against the character, and gate by gate
with the golden's QA verdicts. No take is made: the videos are kept under the run's folder
in storage, apart from every take list and the review queue."""

import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import psycopg

from trulience.catalog.records import Workflow
from trulience.catalog.regression import Golden, Thresholds
from trulience.catalog.segments import current_segments
from trulience.generation.backend import GenerationBackend, SegmentRequest
from trulience.generation.continuity import normalise_segment
from trulience.generation.plan import continuity_for, quality_for
from trulience.generation.scene_config import SceneConfig
from trulience.generation.seed import chained_seed, first_seed_frame, reanchored
from trulience.media.trim import trim_to_frames
from trulience.qa.frame_compare import compare_videos
from trulience.qa.video import SegmentMetrics, measure_segment
from trulience.qa.video_gates import evaluate_segment
from trulience.qa.video_rules import Expected
from trulience.storage import Storage, storage_key

if TYPE_CHECKING:  # annotations only: the face models' code is loaded where it runs
    from trulience.faces.model_set import FaceModelSet


@dataclass(frozen=True)
class GoldenResult:
    """A golden's verdict in a run (passed, failed or error), its figures, and each figure
    that missed its threshold, in words."""

    golden: Golden
    verdict: str
    figures: dict[str, Any]
    failures: list[str] = field(default_factory=list)


def _rounded(value: float | None, places: int = 4) -> float | None:
    return None if value is None else round(value, places)


def rerun_golden(
    conn: psycopg.Connection,
    storage: Storage,
    backend: GenerationBackend,
    golden: Golden,
    target: Workflow,
    thresholds: Thresholds,
    work_dir: Path,
    key_prefix: list[str],
    faces: "FaceModelSet | None" = None,
) -> GoldenResult:
    """Re-run every segment of `golden` on `target` and judge it against `thresholds`."""
    config = SceneConfig.from_json(golden.effective_config)
    made = current_segments(conn, golden.scene_id)
    quality = quality_for(conn, golden.character, config, faces)
    continuity = continuity_for(conn, storage, golden.character, config, True)
    folder = work_dir / f"golden-{golden.id}"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    segments: list[dict[str, Any]] = []
    failures: list[str] = []
    previous: SegmentMetrics | None = None
    for index in sorted(made):
        reference = made[index]
        seed = (
            first_seed_frame(conn, storage, golden.character, config)
            if index == 0
            else chained_seed(storage, made[index - 1], folder)
        )
        if continuity.reanchors(index):
            seed = reanchored(seed, continuity.first_stats)
        made_by = reference.provenance
        params = {k: v for k, v in (made_by.get("params") or {}).items() if k != "slots"}
        request = SegmentRequest(
            scene=f"regression/{target.name}/v{target.version}/golden-{golden.id}",
            index=index,
            frames=reference.frames or 0,
            fps=config.fps,
            width=config.width,
            height=config.height,
            seed=int(made_by.get("seed", golden.seeds[index])),
            prompt=made_by.get("prompt", ""),
            negative_prompt=made_by.get("negative_prompt", ""),
            params={**params, "slots": target.slots},
            workflow=target.graph,
        )
        part = folder / f"segment-{index:03d}"
        part.mkdir()
        result = backend.generate_segment(seed.pixels, request, part)
        video = result.video_path
        if result.frames > request.frames:  # as the loop does: cut to the planned length
            video = part / "trimmed.mp4"
            trim_to_frames(result.video_path, video, request.frames)
        if continuity.anchor is not None:
            normalised = part / "normalised.mp4"
            normalise_segment(video, normalised, continuity.anchor, continuity.strength)
            video = normalised
        stored = storage.put_file(
            storage_key(*key_prefix, f"golden-{golden.id}", f"segment-{index:03d}.mp4"), video
        )
        golden_video = storage.local_file(storage.key_of(reference.uri), folder)
        compared = compare_videos(golden_video, video)
        metrics = measure_segment(
            video, faces=quality.faces, identity=quality.identity, previous_last_frame=seed.pixels
        )
        expected = Expected(config.fps, request.frames, config.width, config.height)
        verdict = evaluate_segment(metrics, quality.rules, expected, previous=previous)
        previous = metrics
        golden_identity = _golden_identity(reference.qa, golden_video, quality)
        figures = {
            "index": index,
            "seed": request.seed,
            "frames": compared.candidate_frames,
            "golden_frames": compared.reference_frames,
            "mean_ssim": _rounded(compared.mean_ssim),
            "min_ssim": _rounded(compared.min_ssim),
            "mean_psnr_db": _rounded(compared.mean_psnr_db, 2),
            "min_psnr_db": _rounded(compared.min_psnr_db, 2),
            "ssim": [round(v, 4) for v in compared.ssim],
            "psnr_db": [round(v, 2) for v in compared.psnr_db],
            "identity_golden": _rounded(golden_identity),
            "identity": _rounded(metrics.identity_median),
            "gates": {g.name: g.passed for g in verdict.gates},
            "golden_gates": {
                g["name"]: bool(g["passed"]) for g in reference.qa.get("gates", []) if "name" in g
            },
            "video_uri": stored.uri,
            "golden_uri": reference.uri,
        }
        failures += [f"segment {index}: {f}" for f in _judge(figures, compared, thresholds)]
        segments.append(figures)
    shutil.rmtree(folder, ignore_errors=True)
    overall = _overall(segments)
    return GoldenResult(
        golden, "failed" if failures else "passed", {**overall, "segments": segments}, failures
    )


def _golden_identity(qa: dict, video: Path, quality: Any) -> float | None:
    """The golden segment's median identity: as its QA recorded it, else measured now."""
    recorded = (qa.get("metrics") or {}).get("identity_median")
    if recorded is not None or quality.faces is None or quality.identity is None:
        return recorded
    return measure_segment(video, faces=quality.faces, identity=quality.identity).identity_median


def _judge(figures: dict[str, Any], compared: Any, limits: Thresholds) -> list[str]:
    """Each figure of one segment that misses its threshold, in words."""
    problems = []
    if compared.size_mismatch:
        problems.append(f"frame size {compared.size_mismatch}")
    if compared.candidate_frames != compared.reference_frames:
        problems.append(
            f"{compared.candidate_frames} frames, the golden has {compared.reference_frames}"
        )
    ssim, psnr = figures["mean_ssim"], figures["mean_psnr_db"]
    if ssim is not None and ssim < limits.min_ssim:
        problems.append(f"mean SSIM {ssim:.4f} below the minimum {limits.min_ssim:.4f}")
    if psnr is not None and psnr < limits.min_psnr_db:
        problems.append(f"mean PSNR {psnr:.2f} dB below the minimum {limits.min_psnr_db:.2f} dB")
    before, now = figures["identity_golden"], figures["identity"]
    if before is not None and now is None:
        problems.append("identity: no face found where the golden had one")
    elif before is not None and now is not None:
        drop = round(before - now, 4)
        figures["identity_drop"] = drop
        if drop > limits.max_identity_drop:
            problems.append(
                f"identity dropped {drop:.4f} ({before:.4f} -> {now:.4f}), more than the "
                f"maximum {limits.max_identity_drop:.4f}"
            )
    if limits.qa_must_match:
        for gate, passed in sorted(figures["golden_gates"].items()):
            now_passed = figures["gates"].get(gate)
            if now_passed is not None and now_passed != passed:
                problems.append(
                    f"QA gate {gate} {'failed' if passed else 'passed'}, the golden "
                    f"{'passed' if passed else 'failed'} it"
                )
    return problems


def _overall(segments: list[dict[str, Any]]) -> dict[str, Any]:
    """The golden's figures over all its segments' frames."""
    ssim = [v for s in segments for v in s["ssim"]]
    psnr = [v for s in segments for v in s["psnr_db"]]
    drops = [s["identity_drop"] for s in segments if s.get("identity_drop") is not None]
    return {
        "mean_ssim": _rounded(sum(ssim) / len(ssim)) if ssim else None,
        "min_ssim": min(ssim) if ssim else None,
        "mean_psnr_db": _rounded(sum(psnr) / len(psnr), 2) if psnr else None,
        "min_psnr_db": min(psnr) if psnr else None,
        "max_identity_drop": max(drops) if drops else None,
    }
