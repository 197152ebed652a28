"""`trulience projects`: projects (productions)."""

import click

from trulience.catalog import projects as project_repo
from trulience.cli.common import Commands, with_catalog


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


COMMANDS = {"projects": projects}
