"""The review report of a delivery package (PRD-70): every note on the take, in reading
order, with its frame, and for a drawn note the flattened PNG of that frame, kept in the
package under `notes/` and referenced from the report. `review_report.json` is for tools,
`review_report.html` for people; the package manifest checksums all of them."""

import html
import json
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

REPORT_JSON = "review_report.json"
REPORT_HTML = "review_report.html"
NOTES_DIR = "notes"


@dataclass(frozen=True)
class ReportedNote:
    """One note as the report lists it; `picture`: its flattened drawing (PNG), if drawn."""

    id: int
    author: str
    body: str
    frame: int | None
    status: str
    depth: int
    created_at: datetime
    drawing: dict[str, Any] | None = None
    picture: bytes | None = None


def write_review_report(out_dir: Path, title: str, notes: list[ReportedNote]) -> list[Path]:
    """Write the report (JSON and HTML) and each drawn note's PNG into `out_dir`; the
    files written."""
    written = []
    entries = []
    for note in notes:
        picture = None
        if note.picture is not None:
            picture = f"{NOTES_DIR}/{note.id}.png"
            path = out_dir / picture
            path.parent.mkdir(exist_ok=True)
            path.write_bytes(note.picture)
            written.append(path)
        entries.append(
            {
                "id": note.id,
                "author": note.author,
                "body": note.body,
                "frame": note.frame,
                "status": note.status,
                "reply_depth": note.depth,
                "created_at": note.created_at.isoformat(),
                "drawn": picture is not None,
                "drawing": None if picture is None else {"file": picture, "vector": note.drawing},
            }
        )
    report = out_dir / REPORT_JSON
    report.write_text(json.dumps({"title": title, "notes": entries}, indent=2) + "\n")
    page = out_dir / REPORT_HTML
    page.write_text(_page(title, entries))
    return [report, page, *written]


def _page(title: str, entries: list[dict[str, Any]]) -> str:
    """A self-contained page: one row per note, the drawing's PNG beside a drawn one."""
    rows = []
    for entry in entries:
        frame = "" if entry["frame"] is None else str(entry["frame"])
        drawing = entry["drawing"]
        image = ""
        if drawing is not None:
            file = html.escape(drawing["file"])
            image = (
                f'<a href="{file}"><img src="{file}" alt="drawing on frame {frame}" '
                'width="320"></a>'
            )
        indent = "&nbsp;&nbsp;&nbsp;&nbsp;" * entry["reply_depth"]
        rows.append(
            f"<tr><td>{frame}</td><td>{html.escape(entry['author'])}</td>"
            f"<td>{indent}{html.escape(entry['body'])}</td><td>{html.escape(entry['status'])}</td>"
            f"<td>{image}</td></tr>"
        )
    body = "\n".join(rows) or '<tr><td colspan="5">No notes.</td></tr>'
    return (
        "<!doctype html>\n<html><head><meta charset='utf-8'>"
        f"<title>{html.escape(title)}</title>"
        "<style>body{font-family:sans-serif}td,th{padding:4px 8px;vertical-align:top;"
        "border-bottom:1px solid #ddd}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><table><tr><th>Frame</th><th>Reviewer</th>"
        f"<th>Note</th><th>Status</th><th>Drawing</th></tr>\n{body}\n</table></body></html>\n"
    )
