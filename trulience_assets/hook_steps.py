"""Hooks as steps of their own (PRD-09): the `hook_steps` job runs a take's 'step' hooks
(a project's scripts, e.g. an export or a notification of its own) through dagster-pipes,
launched from the launchpad or a sensor with the take's scene id."""

from dagster import Config, MetadataValue, OpExecutionContext, Output, job, op

from resources import CatalogResource, HooksResource


class HookStepsConfig(Config):
    """Which take the step hooks run on (its scene id)."""

    scene_id: int


@op(description="Run the take's 'step' hooks, in order; a veto or a failing hook fails it.")
def run_step_hooks(
    context: OpExecutionContext,
    config: HookStepsConfig,
    catalog: CatalogResource,
    hooks: HooksResource,
) -> Output[int]:
    """The take's step hooks, each run recorded; how many ran."""
    with catalog.connect(actor=f"dagster:{context.run.run_id}") as conn:
        ran: dict[str, MetadataValue] = hooks.run_stage(context, conn, "step", config.scene_id)
    return Output(len(ran), metadata=ran)


@job(description="Run a take's 'step' hooks (trulience hooks add ... --stage step).")
def hook_steps() -> None:
    run_step_hooks()
