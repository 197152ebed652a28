"""What a shell or Node hook calls to report back through dagster-pipes:

    "$TRULIENCE_PYTHON" -m trulience.production.hooks.report log "measured 12 faces"
    "$TRULIENCE_PYTHON" -m trulience.production.hooks.report metadata faces 12
    "$TRULIENCE_PYTHON" -m trulience.production.hooks.report veto "the light is too low"

Each call appends one pipes message (JSON, one line) to the messages file that Dagster
named in DAGSTER_PIPES_MESSAGES: a log line for the run, metadata (its value read as JSON
when it parses, else kept as text) or a veto with its reason. A Python hook says the same
with `dagster_pipes`: `pipes.log.info(...)`, `pipes.report_custom_message({"metadata":
{...}})` or `report_asset_materialization(metadata=...)`, and `report_custom_message(
{"veto": "reason"})`."""

import argparse
import json
import os
import sys
from typing import Any

from dagster_pipes import (
    DAGSTER_PIPES_MESSAGES_ENV_VAR,
    PIPES_PROTOCOL_VERSION,
    PIPES_PROTOCOL_VERSION_FIELD,
    PipesFileMessageWriterChannel,
    decode_param,
)

from trulience.errors import TrulienceError


class NotInAHook(TrulienceError):
    """The reporter was called outside a hook run: there is nobody to report to."""


def channel(environ: dict[str, str] | None = None) -> PipesFileMessageWriterChannel:
    """The messages file of the hook run this process belongs to."""
    encoded = (environ if environ is not None else os.environ).get(DAGSTER_PIPES_MESSAGES_ENV_VAR)
    if not encoded:
        raise NotInAHook(f"{DAGSTER_PIPES_MESSAGES_ENV_VAR} is not set: run this inside a hook")
    params = decode_param(encoded)
    if "path" not in params:
        raise NotInAHook(f"{DAGSTER_PIPES_MESSAGES_ENV_VAR} names no messages file: {params}")
    return PipesFileMessageWriterChannel(params["path"])


def message(method: str, params: dict[str, Any]) -> dict[str, Any]:
    """A pipes protocol message."""
    return {
        PIPES_PROTOCOL_VERSION_FIELD: PIPES_PROTOCOL_VERSION,
        "method": method,
        "params": params,
    }


def _value(text: str) -> Any:
    """JSON when the text parses as JSON (NaN and Infinity stay text: the catalog's jsonb
    has no such numbers), else the text."""
    try:
        return json.loads(text, parse_constant=lambda _: text)
    except ValueError:
        return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="trulience.production.hooks.report")
    kinds = parser.add_subparsers(dest="kind", required=True)
    log = kinds.add_parser("log", help="a line for the run's log")
    log.add_argument("text")
    log.add_argument("--level", default="info", choices=["debug", "info", "warning", "error"])
    metadata = kinds.add_parser("metadata", help="one metadata entry, recorded with the run")
    metadata.add_argument("key")
    metadata.add_argument("value")
    veto = kinds.add_parser("veto", help="refuse the stage, with the reason")
    veto.add_argument("reason")
    args = parser.parse_args(argv)
    try:
        out = channel()
    except NotInAHook as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.kind == "log":
        out.write_message(message("log", {"message": args.text, "level": args.level}))
    elif args.kind == "metadata":
        payload = {"metadata": {args.key: _value(args.value)}}
        out.write_message(message("report_custom_message", {"payload": payload}))
    else:
        out.write_message(message("report_custom_message", {"payload": {"veto": args.reason}}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
