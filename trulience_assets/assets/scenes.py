"""Per character x scene type: the recursive generation loop."""

import tempfile
import warnings
from pathlib import Path

from dagster import (
    AssetDep,
    AssetExecutionContext,
    Backoff,
    BetaWarning,
    Config,
    DagsterExecutionInterruptedError,
    Failure,
    MaterializeResult,
    MetadataValue,
    MultiToSingleDimensionPartitionMapping,
    RetryPolicy,
    asset,
)

from resources import (
    CatalogResource,
    FacesResource,
    GenerationResource,
    HooksResource,
    MediaResource,
    StorageResource,
)
from trulience.catalog.records import Take
from trulience.catalog.segments import list_segments
from trulience.delivery.scene import assemble_take
from trulience.errors import TrulienceError
from trulience.generation.backend import TransientBackendError
from trulience.generation.loop import LoopResult, QARefused, run_loop
from trulience.notify import notify
from trulience.qa.video_rules import GATES
from trulience.storage import Storage
from trulience.workers.configured import closing_backend
from trulience_assets.assets.ingest import image_variants
from trulience_assets.assets.operator import gate_checks, loop_log, segment_table, storyboard
from trulience_assets.partitions import (
    character_scene_partitions,
    partition_cell,
    partition_take,
    partitioned_check,
)

with warnings.catch_warnings():
    # the mapping is beta in Dagster 1.13, and exactly what character x scene type needs
    warnings.simplefilter("ignore", BetaWarning)
    CHARACTER_OF_PARTITION = MultiToSingleDimensionPartitionMapping(
        partition_dimension_name="character"
    )


class SegmentsConfig(Config):
    """Which project the take belongs to (default: the character's first project)."""

    project: str | None = None
    max_pause_s: float = 3600.0


@asset(
    partitions_def=character_scene_partitions,
    group_name="scenes",
    deps=[AssetDep(image_variants, partition_mapping=CHARACTER_OF_PARTITION)],
    # transient backend trouble (a worker went away) is retried; the loop resumes after the
    # last committed segment, so a retry never redoes finished work. A terminated run (and an
    # operator's interrupt, a cancel) is not: see the except clauses below.
    retry_policy=RetryPolicy(max_retries=3, delay=2, backoff=Backoff.EXPONENTIAL),
    kinds={"video"},
    pool="generation",
    # one blocking check per quality gate: a take refused by any of them is not assembled
    check_specs=[
        partitioned_check(
            f"gate_{gate}",
            asset="segments",
            partitions_def=character_scene_partitions,
            blocking=True,
            description=f"Every segment of the take passed the {gate} gate.",
        )
        for gate in GATES
    ],
)
def segments(
    context: AssetExecutionContext,
    config: SegmentsConfig,
    catalog: CatalogResource,
    storage: StorageResource,
    generation: GenerationResource,
    faces: FacesResource,
    hooks: HooksResource,
    media: MediaResource,
) -> MaterializeResult:
    """The recursive loop: segment n seeded from segment n-1's last frame until the target
    duration, each segment judged by the quality gates (retaken with a new seed when it
    fails) and committed to the catalog as it passes (the checkpoint)."""
    character, scene_type = partition_cell(context)
    by = f"dagster:{context.run.run_id}"
    store = storage.get()
    with (
        catalog.connect(actor=by) as conn,
        tempfile.TemporaryDirectory(prefix="trulience-loop-") as work,
        closing_backend(generation.backend(holder=by)) as backend,
    ):
        try:
            result = run_loop(
                conn,
                store,
                backend,
                character,
                scene_type,
                Path(work),
                project=config.project,
                run_id=context.run.run_id,
                max_pause_s=config.max_pause_s,
                events=loop_log(context.log.info),
                faces=faces.model_set(),
                before_generation=lambda take: hooks.run_stage(
                    context, conn, "before_generation", take.id
                ),
            )
        except TransientBackendError:
            raise
        except (DagsterExecutionInterruptedError, KeyboardInterrupt) as exc:
            raise _terminated(character, scene_type) from exc
        except QARefused as exc:  # the take stands as made; its failed gate blocks assembly
            take = partition_take(conn, character, scene_type, config.project)
            _tell_refused(conn, take, character, scene_type, exc)
            return _judged(conn, store, media, context, take, exc)
        except TrulienceError as exc:  # permanent: say why, do not retry
            raise Failure(description=str(exc), allow_retries=False) from exc
        hooked = hooks.run_stage(context, conn, "after_qa", result.take.id)  # stage hooks
        return _judged(conn, store, media, context, result.take, made=_made(result) | hooked)


def _terminated(character: str, scene_type: str) -> Failure:
    """Dagster's run termination (SIGTERM, as an interrupt): the RetryPolicy would start the
    step again, which is the opposite of what whoever stopped it wanted."""
    return Failure(
        description=(
            f"{character}/{scene_type}: the run was terminated; its prompt was "
            "cancelled and its committed segments are kept (materialise again to "
            "resume)"
        ),
        allow_retries=False,
    )


def _tell_refused(conn, take: Take, character: str, scene_type: str, exc: QARefused) -> None:
    """A take refused by a gate: the producers told."""
    notify(
        conn,
        "gate_failed",
        {"scene_id": take.id, "character": character, "scene_type": scene_type},
        str(exc),
    )


def _judged(
    conn,
    storage: Storage,
    media: MediaResource,
    context: AssetExecutionContext,
    take: Take,
    refused: QARefused | None = None,
    made: dict | None = None,
) -> MaterializeResult:
    """The take as judged: one check per gate with the deciding segment's figures (failed
    for the gates a refused take failed), and its segments linked over http; `made`: what
    a made take adds (see `_made`)."""
    rows = list_segments(conn, take.id)
    failed, reason = (refused.gates, str(refused)) if refused else ((), "")
    return MaterializeResult(
        metadata=(made or {})
        | {
            "scene_id": take.id,
            "take": take.take,
            "status": take.status,
            "segment table": MetadataValue.md(segment_table(storage, media, rows)),
        },
        check_results=gate_checks(str(context.partition_key), rows, failed, reason),
    )


def _made(result: LoopResult) -> dict:
    """What a made take records on its materialisation."""
    take = result.take
    return {
        "scene_id": take.id,
        "take": take.take,
        "segments": len(result.plan),
        "generated_now": len(result.generated),
        "resumed": result.resumed,
        "frames": result.frames,
        "effective_config": MetadataValue.json(take.effective_config),
    }


@asset(
    partitions_def=character_scene_partitions, group_name="scenes", deps=[segments], kinds={"video"}
)
def scene_video(
    context: AssetExecutionContext,
    config: SegmentsConfig,
    catalog: CatalogResource,
    storage: StorageResource,
    hooks: HooksResource,
    media: MediaResource,
) -> MaterializeResult:
    """The take's segments joined into one scene (seams smoothed, only the seam GOPs
    re-encoded), its browser proxy and its storyboard strip."""
    character, scene_type = partition_cell(context)
    store = storage.get()
    with (
        catalog.connect(actor=f"dagster:{context.run.run_id}") as conn,
        tempfile.TemporaryDirectory(prefix="trulience-assemble-") as work,
    ):
        take = partition_take(conn, character, scene_type, config.project)
        if take is None:
            raise Failure(
                description=f"{character}/{scene_type} has no take to assemble", allow_retries=False
            )
        hooked = hooks.run_stage(context, conn, "before_assembly", take.id)  # stage hooks
        try:
            assembled = assemble_take(conn, store, take.id, Path(work))
        except TrulienceError as exc:
            raise Failure(description=str(exc), allow_retries=False) from exc
        context.log.info(
            f"take {take.take} revision {assembled.revision} assembled by {assembled.method}: "
            f"{assembled.frames} frames, {assembled.reencoded_frames} re-encoded at the seams, "
            f"{assembled.copied_frames} copied"
            + ("" if assembled.new_revision else "; the same file as before, nothing new to review")
        )
        if assembled.new_revision:  # the same file assembled again is nothing new to review
            notify(
                conn,
                "ready_for_review",
                {
                    "scene_id": take.id,
                    "revision": assembled.revision,
                    "character": character,
                    "scene_type": scene_type,
                },
                f"{character} in {scene_type}, take {take.take} revision {assembled.revision},"
                " is ready for review",
            )
    reuse = (
        {"reassembled around segment": assembled.replaced_segment}
        if assembled.replaced_segment is not None
        else {}
    )
    return MaterializeResult(
        metadata=reuse
        | hooked
        | {
            "scene_id": assembled.scene_id,
            "video": MetadataValue.url(media.link(store.key_of(assembled.uri))),
            "proxy": MetadataValue.url(media.link(store.key_of(assembled.proxy_uri))),
            "storyboard": MetadataValue.md(
                storyboard(
                    store,
                    media,
                    assembled.storyboard_uri,
                    f"take {take.take} revision {assembled.revision}: the first frame "
                    "of each segment",
                )
            ),
            "storyboard key": store.key_of(assembled.storyboard_uri),
            "frames": assembled.frames,
            "method": assembled.method,
            "reencoded_frames": assembled.reencoded_frames,
            "copied_frames": assembled.copied_frames,
        }
    )
