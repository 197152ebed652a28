"""New projects from a template project (PRD-74): the new project starts with the
template's settings (QA thresholds and rules, presets, metadata schema, delivery spec:
everything in `projects.settings`) and its chain rules (which scene type follows which),
each enabled as in the template. Scene types are the studio's, shared by every project:
the new project uses the template's scene types as they are, no copy is made.

All in one transaction: a refused slug, or an unknown template, stores nothing."""

import copy
from dataclasses import dataclass

import psycopg

from trulience.catalog import chains, projects
from trulience.catalog.errors import writing
from trulience.catalog.records import Project


@dataclass(frozen=True)
class FromTemplate:
    """A project made from a template: the project, the settings copied (their names),
    the chain rules copied (trigger, event, then), and the scene types they name."""

    project: Project
    template: str
    settings: tuple[str, ...]
    chain_rules: tuple[tuple[str, str, str], ...]
    scene_types: tuple[str, ...]


def create_from_template(
    conn: psycopg.Connection,
    slug: str,
    name: str,
    template: str,
    created_by: str,
    description: str = "",
) -> FromTemplate:
    """Create project `slug` with template project `template`'s settings and chain rules."""
    with writing(conn):
        source = projects.get_project(conn, template)
        settings = copy.deepcopy(source.settings or {})
        project = projects.create_project(
            conn, slug, name, description or source.description, settings
        )
        copied = []
        for rule in chains.list_chain_rules(conn, template):
            made = chains.insert_chain_rule(
                conn,
                slug,
                rule.trigger_scene_type,
                rule.then_scene_type,
                created_by,
                rule.trigger_event,
            )
            if not rule.enabled:
                chains.set_chain_rule_enabled(conn, made.id, False)
            copied.append((rule.trigger_scene_type, rule.trigger_event, rule.then_scene_type))
    used = sorted({s for rule in copied for s in (rule[0], rule[2])})
    return FromTemplate(project, template, tuple(sorted(settings)), tuple(copied), tuple(used))
