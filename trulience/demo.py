"""The demo library: a sample project with characters from photos in installed packages."""

import psycopg

from trulience.catalog import characters, projects, source_images
from trulience.catalog.errors import NotFound
from trulience.catalog.tags import Subject, tag
from trulience.library import add_image_file
from trulience.samples import sample_characters
from trulience.storage import Storage

DEMO_PROJECT = "demo"


def load_sample_library(conn: psycopg.Connection, storage: Storage) -> list[str]:
    """Create (or find, on a second run) the demo project and its characters; report lines."""
    report = []
    projects.ensure_project(
        conn, DEMO_PROJECT, "Demo: Moonbase", "Sample production made by `make demo`"
    )
    for sample in sample_characters():
        try:
            characters.get_character(conn, sample.slug)
            created = False
        except NotFound:
            characters.create_character(conn, sample.slug, sample.name, sample.metadata)
            created = True
        characters.add_to_project(conn, DEMO_PROJECT, sample.slug)
        added = [add_image_file(conn, storage, sample.slug, path) for path in sample.images]
        images = source_images.list_source_images(conn, sample.slug)
        if images and not any(i.is_primary for i in images):
            source_images.set_primary(conn, sample.slug, images[0].id)
        tag(conn, "demo", Subject(character=sample.slug))
        new_images = sum(1 for a in added if a is not None)
        report.append(
            f"character {sample.slug:<8} {'created' if created else 'exists '}"
            f"  images: {len(images)} ({new_images} new)"
        )
    return report
