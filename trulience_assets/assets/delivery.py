"""Per character x scene type: the deliverable of the approved take."""

import tempfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
from dagster import (
    AssetExecutionContext,
    Failure,
    MaterializeResult,
    MetadataValue,
    asset,
)

from resources import (
    CatalogResource,
    FacesResource,
    HooksResource,
    MediaResource,
    StorageResource,
)
from trulience.catalog.records import Take
from trulience.catalog.scenes import get_take, list_takes
from trulience.delivery.deliver import check_deliverable, deliver_take
from trulience.errors import TrulienceError
from trulience.faces.model_set import FaceModelSet
from trulience.notify import notify
from trulience_assets.assets.operator import check_result
from trulience_assets.assets.scenes import SegmentsConfig, scene_video
from trulience_assets.partitions import (
    character_scene_partitions,
    partition_cell,
    partition_take,
    partitioned_check,
)


class DeliveryConfig(SegmentsConfig):
    """Which take to deliver: the one a reviewer approved (the approvals sensor names it),
    else the partition's newest take."""

    scene_id: int | None = None


@asset(
    partitions_def=character_scene_partitions,
    group_name="delivery",
    deps=[scene_video],
    kinds={"video"},
    check_specs=[
        partitioned_check(
            "complies_with_spec",
            asset="deliverable",
            partitions_def=character_scene_partitions,
            description="The package meets the project's delivery spec.",
        )
    ],
)
def deliverable(
    context: AssetExecutionContext,
    config: DeliveryConfig,
    catalog: CatalogResource,
    storage: StorageResource,
    faces: FacesResource,
    hooks: HooksResource,
    media: MediaResource,
) -> MaterializeResult:
    """The approved take as a delivery package (video, poster, sidecars, manifest), checked
    against the delivery spec; refused with the reason while the take is not approved."""
    character, scene_type = partition_cell(context)
    with (
        catalog.connect(actor=f"dagster:{context.run.run_id}") as conn,
        tempfile.TemporaryDirectory(prefix="trulience-deliver-") as work,
    ):
        take = _take_to_deliver(conn, config, character, scene_type)
        try:
            check_deliverable(conn, take.id)  # no before_delivery hook for a refused take
        except TrulienceError as exc:
            raise Failure(description=str(exc), allow_retries=False) from exc
        hooked = hooks.run_stage(context, conn, "before_delivery", take.id)  # stage hooks
        store = storage.get()
        try:
            delivery = deliver_take(
                conn, store, take.id, Path(work), face_score=face_score(faces.model_set())
            )
        except TrulienceError as exc:
            raise Failure(description=str(exc), allow_retries=False) from exc
        if delivery.status == "packaged":
            notify(
                conn,
                "delivered",
                {"scene_id": take.id, "deliverable": delivery.deliverable_id},
                f"{character} in {scene_type}, take {take.take}, is packaged for delivery",
            )
    found = len(delivery.violations)
    described = (
        f"{found} violation(s) of the delivery spec (none allowed): "
        + "; ".join(v["message"] for v in delivery.violations)
        if found
        else f"take {take.take} meets the project's delivery spec (no violation)."
    )
    return MaterializeResult(
        metadata=hooked
        | {
            "deliverable_id": delivery.deliverable_id,
            "status": delivery.status,
            "manifest": MetadataValue.url(media.link(store.key_of(delivery.uri))),
            "poster_frame": delivery.poster_frame,
        },
        check_results=[
            check_result(
                "complies_with_spec",
                str(context.partition_key),
                passed=not found,
                value=found,
                threshold=0,
                description=described,
            )
        ],
    )


def _take_to_deliver(conn, config: DeliveryConfig, character: str, scene_type: str) -> Take:
    """The approved take the run names (an older take may be approved while a newer one is
    made beside it), checked to be this partition's; else the newest take."""
    if config.scene_id is None:
        take = partition_take(conn, character, scene_type, config.project)
        if take is None:
            raise Failure(description=f"{character}/{scene_type} has no take", allow_retries=False)
        return take
    takes = {t.id for t in list_takes(conn, character=character, scene_type=scene_type)}
    if config.scene_id not in takes:
        raise Failure(
            description=f"take {config.scene_id} is not a take of {character} in {scene_type}",
            allow_retries=False,
        )
    return get_take(conn, config.scene_id)


def face_score(model_set: FaceModelSet) -> Callable[[np.ndarray], float]:
    """Poster choice weighs a clear face with sharpness: the best face's detector score."""

    def score(frame: np.ndarray) -> float:
        found = model_set.detector.detect(frame)
        return max((f.score for f in found), default=0.0)

    return score
