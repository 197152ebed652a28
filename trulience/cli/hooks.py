"""`trulience hooks`: a project's stage hooks (PRD-09, 77), scripts in Python, shell or Node
run before or after a stage of its takes, added, listed and removed; and what they said."""

import click

from trulience.cli.common import ID, Commands, with_catalog


@click.group(cls=Commands)
def hooks() -> None:
    """Stage hooks: scripts run before generation, after QA, before assembly or delivery."""


@hooks.command("add")
@click.argument("project")
@click.argument("name")
@click.option(
    "--stage",
    required=True,
    help="before_generation, after_qa, before_assembly, before_delivery, or step (its own "
    "step: the hook_steps job).",
)
@click.option("--runtime", required=True, help="python, shell or node.")
@click.option("--script", required=True, help="The script's path (absolute once stored).")
@click.option("--scene-type", help="Only for this scene type (default: every one).")
@click.option("--arg", "args", multiple=True, help="An argument for the script (repeatable).")
@click.option("--timeout", "timeout_s", default="300", show_default=True, help="Seconds.")
@click.option(
    "--on-failure",
    default="veto",
    show_default=True,
    help="What a non-zero exit or a timeout does: veto the stage, fail the run, or continue.",
)
@with_catalog
def hooks_add(conn, project: str, name: str, **fields) -> None:
    """Add hook NAME to PROJECT."""
    from trulience.production.hooks.stage import add_hook

    hook = add_hook(conn, project, name, **fields)
    click.echo(describe(hook))


@hooks.command("list")
@click.option("--project", help="Only this project's hooks.")
@with_catalog
def hooks_list(conn, project: str | None) -> None:
    """Every hook, by project, stage and name."""
    from trulience.catalog.hooks import list_hooks

    for hook in list_hooks(conn, project):
        click.echo(describe(hook))


@hooks.command("remove")
@click.argument("project")
@click.argument("name")
@with_catalog
def hooks_remove(conn, project: str, name: str) -> None:
    """Remove hook NAME from PROJECT (the record of its runs is kept)."""
    from trulience.catalog.hooks import delete_hook

    delete_hook(conn, project, name)
    click.echo(f"hook {name} removed from {project}")


@hooks.command("runs")
@click.argument("take_id", type=ID)
@with_catalog
def hooks_runs(conn, take_id: int) -> None:
    """What the hooks did on take TAKE_ID (its scene id): outcome, reason, metadata."""
    from trulience.catalog.hooks import runs_of

    for run in runs_of(conn, take_id):
        seconds = (run.finished_at - run.started_at).total_seconds()
        said = f": {run.reason}" if run.reason else ""
        click.echo(
            f"{run.finished_at:%Y-%m-%d %H:%M:%S} {run.stage:<17} {run.hook_name:<20} "
            f"{run.outcome:<9} {seconds:6.1f} s{said}"
        )
        for key, value in run.metadata.items():
            click.echo(f"    {key} = {value}")


def describe(hook) -> str:
    """One line per hook."""
    scope = hook.scene_type or "every scene type"
    args = "".join(f" {a}" for a in hook.args)
    return (
        f"{hook.project}/{hook.name}: {hook.stage} ({scope}), {hook.runtime} "
        f"{hook.script}{args}, timeout {hook.timeout_s:g} s, on failure {hook.on_failure}"
    )


COMMANDS = {"hooks": hooks}
