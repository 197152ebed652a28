"""What a committed attempt records about how it was made (PRD-34): the scene type and its
version, the workflow that really ran, prompts, seed, parameters, backend and worker, the seed
frame and the last frame, and when."""

from datetime import UTC, datetime
from typing import Any

from trulience.generation.backend import SegmentRequest, SegmentResult
from trulience.generation.plan import TakePlan
from trulience.generation.seed import SeedFrame
from trulience.storage import StoredObject


def provenance(
    plan: TakePlan,
    request: SegmentRequest,
    result: SegmentResult,
    seed: SeedFrame,
    last_frame: StoredObject,
    last_source: str,
) -> dict[str, Any]:
    """The provenance of one attempt, made from `seed` by `request`, stored with its
    lossless `last_frame` (decoded `last_source`)."""
    config, ran = plan.config, result.ran_workflow
    return {
        "scene_type": plan.cell.scene_type,
        "scene_type_version": config.version,
        "lineage": list(config.lineage),
        # only what ran: a backend that ignores workflows (the preview) made this
        # segment without the scene type's workflow
        "workflow": config.workflow if ran else None,
        "workflow_version": config.workflow_version if ran else None,
        "workflow_sha256": config.workflow_sha256 if ran else None,
        "prompt": plan.prompt,
        "negative_prompt": plan.negative_prompt,
        "missing_prompt_fields": plan.missing_prompt_fields,
        "seed": request.seed,
        "seed_policy": config.seed_policy,
        "params": request.params,
        "fps": str(config.fps),
        "width": config.width,
        "height": config.height,
        "backend": result.backend,
        "worker": result.worker,
        "seed_frame_sha256": seed.sha256,
        "seed_frame_source": seed.source,
        "last_frame_uri": last_frame.uri,
        "last_frame_sha256": last_frame.sha256,
        "last_frame_source": last_source,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
        "committed_at": datetime.now(UTC).isoformat(),
        "compute_s": round(result.compute_s, 3),
        "run_id": plan.run.run_id,
        "backend_metadata": result.metadata,
    }
