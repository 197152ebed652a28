"""Stage hooks (PRD-09, 77): a studio's scripts run before or after a stage of a take.

spec.py checks a hook's configuration, stage.py runs a stage's hooks and decides what their
outcomes mean, process.py is the timeout wrapper every hook runs under and report.py the
reporter shell and Node hooks call (Python hooks may use `dagster_pipes` directly).
Nothing here imports Dagster: resources/hooks.py runs the scripts through dagster-pipes."""
