"""A regression run's report (PRD-65), as markdown for people and JSON for tools: the
workflow version and model set, the thresholds, each golden's verdict and figures, and each
figure that missed its threshold."""

import json
from typing import Any

from trulience.catalog.regression_runs import RegressionRun
from trulience.production.regression_rerun import GoldenResult


def report_json(run: RegressionRun, status: str, results: list[GoldenResult]) -> dict[str, Any]:
    """The run's report as data."""
    return {
        "run": run.id,
        "workflow": run.workflow,
        "version": run.version,
        "models_fingerprint": run.models_fingerprint,
        "verdict": status,
        "thresholds": run.thresholds,
        "requested_by": run.requested_by,
        "reason": run.reason,
        "goldens": [
            {
                "golden": r.golden.id,
                "take": f"{r.golden.character}/{r.golden.scene_type} take {r.golden.take}",
                "scene_id": r.golden.scene_id,
                "made_with_version": r.golden.workflow_version,
                "verdict": r.verdict,
                "failures": r.failures,
                "figures": r.figures,
            }
            for r in results
        ],
    }


def _figure(value: Any, unit: str = "") -> str:
    if value is None:
        return "-"
    return f"{value:.4f}{unit}" if isinstance(value, float) else f"{value}{unit}"


def report_markdown(data: dict[str, Any]) -> str:
    """The report as markdown: a summary line, the thresholds, a table of goldens and each
    failing figure under its golden."""
    t = data["thresholds"]
    lines = [
        f"# Regression run {data['run']}: {data['workflow']} v{data['version']} "
        f"{data['verdict'].upper()}",
        "",
        f"Models fingerprint `{data['models_fingerprint'][:16]}`; requested by "
        f"{data['requested_by']}" + (f" ({data['reason']})" if data["reason"] else "") + ".",
        "",
        f"Thresholds: mean SSIM >= {t['min_ssim']}, mean PSNR >= {t['min_psnr_db']} dB, "
        f"identity drop <= {t['max_identity_drop']}, QA verdicts "
        + ("must match" if t["qa_must_match"] else "not compared")
        + ".",
        "",
        "| golden | take | verdict | mean SSIM | min SSIM | mean PSNR | identity drop |",
        "|---|---|---|---|---|---|---|",
    ]
    for g in data["goldens"]:
        f = g["figures"]
        lines.append(
            f"| {g['golden']} | {g['take']} | {g['verdict']} | {_figure(f.get('mean_ssim'))} "
            f"| {_figure(f.get('min_ssim'))} | {_figure(f.get('mean_psnr_db'), ' dB')} "
            f"| {_figure(f.get('max_identity_drop'))} |"
        )
    for g in data["goldens"]:
        if g["failures"]:
            lines += ["", f"## Golden {g['golden']} ({g['take']}): {g['verdict']}", ""]
            lines += [f"- {failure}" for failure in g["failures"]]
    return "\n".join(lines) + "\n"


def encoded(data: dict[str, Any]) -> bytes:
    """The JSON report as stored."""
    return json.dumps(data, indent=2, sort_keys=True).encode()
