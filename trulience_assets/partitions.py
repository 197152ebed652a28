"""Partitions: character x scene type, both dynamic; the catalog is the source of truth.
And from a partition to its take."""

import warnings

import psycopg
from dagster import (
    AddDynamicPartitionsRequest,
    AssetCheckSpec,
    AssetExecutionContext,
    DagsterInstance,
    DynamicPartitionsDefinition,
    MultiPartitionsDefinition,
    PartitionsDefinition,
    PreviewWarning,
)

from trulience.catalog.characters import list_characters
from trulience.catalog.records import Take
from trulience.catalog.scene_types import list_scene_types
from trulience.generation.takes import cell_take, choose_project
from trulience.slugs import check_slug

character_partitions = DynamicPartitionsDefinition(name="character")
scene_type_partitions = DynamicPartitionsDefinition(name="scene_type")
character_scene_partitions = MultiPartitionsDefinition(
    {"character": character_partitions, "scene_type": scene_type_partitions}
)


def partitioned_check(
    name: str, asset: str, partitions_def: PartitionsDefinition, **spec
) -> AssetCheckSpec:
    """A check of `asset` recorded per partition, as its asset is: the Dagster UI shows each
    character's (x scene type's) own verdict. Partitioned checks are a preview in Dagster
    1.13, and exactly what a partitioned asset's checks need."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PreviewWarning)
        return AssetCheckSpec(name, asset=asset, partitions_def=partitions_def, **spec)


def partition_key(slug: str, what: str = "partition") -> str:
    """A slug checked for use as a partition key: a '|' would split a multi-partition key."""
    return check_slug(slug, what)


def missing_partitions(
    instance: DagsterInstance, conn: psycopg.Connection
) -> dict[DynamicPartitionsDefinition, list[str]]:
    """Catalog characters and scene types that have no dynamic partition yet."""
    wanted = {
        character_partitions: [partition_key(c.slug, "character") for c in list_characters(conn)],
        scene_type_partitions: [
            partition_key(t.slug, "scene type") for t in list_scene_types(conn)
        ],
    }
    missing = {}
    for definition, keys in wanted.items():
        known = set(instance.get_dynamic_partitions(definition.name))
        missing[definition] = [k for k in keys if k not in known]
    return missing


def add_requests(
    missing: dict[DynamicPartitionsDefinition, list[str]],
) -> list[AddDynamicPartitionsRequest]:
    """The sensor requests that add the missing partitions (none for a definition with none)."""
    return [definition.build_add_request(keys) for definition, keys in missing.items() if keys]


def partition_cell(context: AssetExecutionContext) -> tuple[str, str]:
    """The character and the scene type of the run's character x scene type partition."""
    keys = context.partition_key.keys_by_dimension
    return keys["character"], keys["scene_type"]


def partition_take(
    conn: psycopg.Connection, character: str, scene_type: str, project: str | None
) -> Take | None:
    """The partition's take runs work on (the newest, or the one whose final is being made),
    in `project` (default: the character's first)."""
    return cell_take(conn, choose_project(conn, character, project), character, scene_type)
