"""`trulience projects`: projects (productions)."""

import click

from trulience.catalog import projects as project_repo
from trulience.cli.common import Commands, actor, with_catalog


@click.group(cls=Commands)
def projects() -> None:
    """Projects (productions)."""


@projects.command("add")
@click.argument("slug")
@click.argument("name")
@click.option("--description", default="")
@with_catalog
def projects_add(conn, slug: str, name: str, description: str) -> None:
    """Register a project."""
    project = project_repo.create_project(conn, slug, name, description)
    click.echo(f"project {project.slug} created")


@projects.command("list")
@with_catalog
def projects_list(conn) -> None:
    for p in project_repo.list_projects(conn):
        click.echo(f"{p.slug:<24} {p.status:<9} {p.name}")


@projects.command("create")
@click.argument("slug")
@click.argument("name")
@click.option(
    "--from-template",
    "template",
    required=True,
    help="Project whose settings (QA rules, presets, schema) and chain rules are copied.",
)
@click.option("--description", default="")
@with_catalog
def projects_create(conn, slug: str, name: str, template: str, description: str) -> None:
    """Create a project from a template project (PRD-74); scene types are shared."""
    from trulience.production.templates import create_from_template

    made = create_from_template(conn, slug, name, template, actor(), description)
    click.echo(f"project {made.project.slug} created from {made.template}")
    click.echo(f"  settings: {', '.join(made.settings) or 'none'}")
    for when, event, then in made.chain_rules:
        click.echo(f"  chain rule: when {when} is {event}, run {then}")
    if made.scene_types:
        click.echo(f"  scene types (shared): {', '.join(made.scene_types)}")


COMMANDS = {"projects": projects}
