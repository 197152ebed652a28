"""`trulience chains`: a project's triggered chains (PRD-97), rules "when a take of scene
type X is approved (or delivered), run Y for the same character", added, listed, enabled,
disabled and removed. Dagster's chains_sensor carries them out."""

import click

from trulience.cli.common import ID, Commands, actor, with_catalog


@click.group(cls=Commands)
def chains() -> None:
    """Chain rules: when a take of one scene type is approved or delivered, run another for
    its character."""


@chains.command("add")
@click.option("--project", required=True, help="The project whose takes the rule watches.")
@click.option("--when", "when", required=True, help="The scene type whose take sets it off.")
@click.option(
    "--approved",
    "event",
    flag_value="approved",
    help="When that take is approved (after its undo window).",
)
@click.option(
    "--delivered",
    "event",
    flag_value="delivered",
    help="When that take is delivered (its package made).",
)
@click.option("--run", "then", required=True, help="The scene type to run for the character.")
@with_catalog
def chains_add(conn, project: str, when: str, event: str | None, then: str) -> None:
    """Add a chain rule to a project: --approved or --delivered says when it sets off."""
    from trulience.production.chains import add_rule

    if event is None:
        raise click.UsageError("say when the rule sets off: --approved or --delivered")
    click.echo(describe(add_rule(conn, project, when, then, actor(), event)))


@chains.command("list")
@click.option("--project", help="Only this project's rules.")
@with_catalog
def chains_list(conn, project: str | None) -> None:
    """Every chain rule, by project and scene type."""
    from trulience.production.chains import list_rules

    for rule in list_rules(conn, project):
        click.echo(describe(rule))


@chains.command("enable")
@click.argument("rule_id", type=ID)
@with_catalog
def chains_enable(conn, rule_id: int) -> None:
    """Enable chain rule RULE_ID."""
    from trulience.production.chains import enable_rule

    click.echo(describe(enable_rule(conn, rule_id, True)))


@chains.command("disable")
@click.argument("rule_id", type=ID)
@with_catalog
def chains_disable(conn, rule_id: int) -> None:
    """Disable chain rule RULE_ID (it sets off nothing until enabled again)."""
    from trulience.production.chains import enable_rule

    click.echo(describe(enable_rule(conn, rule_id, False)))


@chains.command("remove")
@click.argument("rule_id", type=ID)
@with_catalog
def chains_remove(conn, rule_id: int) -> None:
    """Remove chain rule RULE_ID (the audit log keeps it)."""
    from trulience.production.chains import remove_rule

    remove_rule(conn, rule_id)
    click.echo(f"chain rule {rule_id} removed")


def describe(rule) -> str:
    """One line per rule."""
    state = "" if rule.enabled else " (disabled)"
    return (
        f"{rule.id}: {rule.project}: when {rule.trigger_scene_type} is {rule.trigger_event}, "
        f"run {rule.then_scene_type}{state}, by {rule.created_by}"
    )


COMMANDS = {"chains": chains}
