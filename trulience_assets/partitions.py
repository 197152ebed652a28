"""Partitions: character x scene type, both dynamic; the catalog is the source of truth."""

from dagster import DynamicPartitionsDefinition, MultiPartitionsDefinition

from trulience.slugs import check_slug

character_partitions = DynamicPartitionsDefinition(name="character")
scene_type_partitions = DynamicPartitionsDefinition(name="scene_type")
character_scene_partitions = MultiPartitionsDefinition(
    {"character": character_partitions, "scene_type": scene_type_partitions}
)


def partition_key(slug: str, what: str = "partition") -> str:
    """A slug checked for use as a partition key: a '|' would split a multi-partition key."""
    return check_slug(slug, what)
