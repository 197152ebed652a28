"""When the lake and the notebooks run without anyone asking: the lake every 15 minutes,
each notebook after every lake export."""

from dagster import (
    AssetSelection,
    AutomationConditionSensorDefinition,
    DefaultScheduleStatus,
    DefaultSensorStatus,
    ScheduleDefinition,
)

from trulience_assets.assets.notebooks import GROUP
from trulience_assets.jobs import lake_job

# The lake is incremental, so a frequent export costs little when nothing changed.
lake_schedule = ScheduleDefinition(
    name="lake_every_15_minutes",
    job=lake_job,
    cron_schedule="*/15 * * * *",
    default_status=DefaultScheduleStatus.RUNNING,
    description="Exports the catalog and the run facts to the Parquet lake every 15 minutes.",
)

# The notebooks' eager condition asks for a run once both lake assets are newer than the
# notebook; this sensor, on by default, evaluates it (every 30 s in the daemon). Apart from
# the lake job, so a notebook's failing cell never fails the export it reads.
notebooks_after_lake = AutomationConditionSensorDefinition(
    "notebooks_after_lake",
    target=AssetSelection.groups(GROUP),
    default_status=DefaultSensorStatus.RUNNING,
    description="Runs each notebook asset after the lake export it reads.",
)
