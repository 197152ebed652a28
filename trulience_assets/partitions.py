"""Partitions: character x scene type, both dynamic; the catalog is the source of truth."""

import psycopg
from dagster import DagsterInstance, DynamicPartitionsDefinition, MultiPartitionsDefinition

from trulience.catalog.characters import list_characters
from trulience.catalog.scene_types import list_scene_types
from trulience.slugs import check_slug

character_partitions = DynamicPartitionsDefinition(name="character")
scene_type_partitions = DynamicPartitionsDefinition(name="scene_type")
character_scene_partitions = MultiPartitionsDefinition(
    {"character": character_partitions, "scene_type": scene_type_partitions}
)


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
