"""Run config the sensors share."""


def for_project(*assets: str, project: str) -> dict:
    """Run config naming the take's project for each asset of the run."""
    return {"ops": {asset: {"config": {"project": project}} for asset in assets}}
