"""`trulience takes show`: a take's status, whether it is a preview or a final (PRD-59) and
the link between them, and its revisions (registered on `trulience takes`)."""

import click

from trulience.cli.common import ID, with_catalog


@click.command("show")
@click.argument("take_id", type=ID)
@with_catalog
def takes_show(conn, take_id: int) -> None:
    """A take: its cell, status and size; preview or final, the final's link to the
    approved preview revision and its review; and every revision with its decision."""
    from trulience.production.finals import show_take

    shown = show_take(conn, take_id)
    for line in describe_take(shown):
        click.echo(line)


def describe_take(shown) -> list[str]:
    """The lines of `takes show`."""
    take, stage = shown.take, shown.stage
    config = take.effective_config
    lines = [
        f"take {take.take} (scene {take.id}) of {shown.cell}: {take.status}, "
        f"{config.get('width', '?')}x{config.get('height', '?')}, "
        f"segments planned {take.planned_segments or '?'}"
    ]
    if stage is None:
        lines.append("stage: full resolution (its scene type makes no preview)")
    elif stage.final_id is None:
        lines.append(
            f"stage: preview at {config.get('width')}x{config.get('height')}; its final "
            f"({config.get('preview', {}).get('final', 'rerender')} at "
            f"{config.get('full_width')}x{config.get('full_height')}) is made once the "
            "preview is approved"
        )
    else:
        made = (
            f"revision {stage.final_revision}" if stage.final_revision is not None else "being made"
        )
        how = stage.method + (f" by workflow {stage.workflow}" if stage.workflow else "")
        by = f" by {stage.reviewer}" if stage.reviewer else ""
        lines.append(
            f"stage: final at {stage.width}x{stage.height} ({how}), {made}; of the preview "
            f"revision {stage.preview_revision} ({stage.preview_width}x{stage.preview_height}) "
            f"approved in review {stage.review_id}{by}"
        )
    for v in shown.revisions:
        lines.append(
            f"  revision {v.revision}: {v.stage or 'take'}, {v.frames} frames, "
            f"{v.decision or 'undecided'}, {(v.sha256 or '?')[:12]}"
        )
    return lines
