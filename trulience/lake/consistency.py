"""The consistency report (PRD-94): how close each take of a character stays to the
character's identity, across all its scenes, with the outliers flagged. The rule is the
catalog's view `take_consistency`; the lake holds it as the dataset `consistency` and
`sql/reports/dashboards/consistency.sql` reads it, for the CLI, the dashboards and the
notebook alike."""

from pathlib import Path

import pyarrow as pa

from trulience.lake.dashboards import consistency
from trulience.lake.files import Lake, LakeError
from trulience.lake.reports import as_of, open_lake

NO_SCORES = "no takes with identity scores yet"


def characters(table: pa.Table) -> list[str]:
    """The characters a consistency table holds, in order."""
    return sorted(set(table.column("character").to_pylist()))


def character_consistency(
    lake: "Lake | Path", character: str, project: str | None = None
) -> pa.Table:
    """The consistency of `character`'s takes, as of the lake's last export. Raises
    LakeError naming the character when the lake does not know it or none of its takes has
    identity scores yet."""
    con = open_lake(lake, project=project)
    try:
        known = [r[0] for r in con.sql("SELECT character FROM characters ORDER BY 1").fetchall()]
        if character not in known:
            known_text = f"known: {', '.join(known)}" if known else "no character yet"
            raise LakeError(f"character {character!r} not found in the lake ({known_text})")
        table = consistency(con, project, character)
    finally:
        con.close()
    if table.num_rows == 0:
        raise LakeError(f"{character}: {NO_SCORES} (its takes' segments need QA with a face model)")
    return table.replace_schema_metadata(as_of(lake))
