"""What operators read in the Dagster UI, in plain Python: the generation loop's events as
sentences with their figures, and a gate's deciding segment."""

from dataclasses import replace
from datetime import UTC, datetime

from dagster import FloatMetadataValue, IntMetadataValue, TextMetadataValue

from trulience.catalog.records import Segment
from trulience_assets.assets.operator import figure, gate_checks, loop_log, loop_sentence

IDENTITY = {"name": "identity", "passed": True, "value": 0.91, "threshold": 0.8, "message": "ok"}
SEAM = {"name": "seam", "passed": True, "value": 1.8, "threshold": 10.0, "message": "ok"}

# every event the loop sends (trulience.generation.loop, attempt, control), as it sends it
EVENTS = [
    ("take", {"scene_id": 7, "take": 2, "resumed": True, "committed": [0, 1], "plan": [24] * 8}),
    ("segment_started", {"index": 2, "attempt": 1}),
    (
        "qa_failed",
        {"index": 2, "attempt": 1, "gates": ["black"], "reason": "12 black frames"},
    ),
    (
        "segment_committed",
        {
            "index": 2,
            "attempt": 2,
            "sha256": "ab" * 32,
            "worker": "gpu-2",
            "backend": "comfyui",
            "compute_s": 41.234,
            "gates": [IDENTITY, SEAM],
        },
    ),
    ("paused", {"scene_id": 7, "by": "paul"}),
    ("resumed", {"scene_id": 7, "by": "paul"}),
    ("take_generated", {"scene_id": 7, "frames": 192}),
    ("unheard_of", {"scene_id": 7, "gates": ["black"], "where": {"worker": "gpu-2"}}),
]


def test_every_loop_event_is_a_sentence_with_its_figures():
    said: list[str] = []
    report = loop_log(said.append)
    for kind, data in EVENTS:
        report(kind, data)
    assert said[0] == "resuming take 2 (scene 7): 8 segment(s), 192 frames, 2 already committed"
    assert said[2] == "segment 3 of 8: attempt 1 failed the black gate(s): 12 black frames"
    assert said[3] == (
        "segment 3 of 8 made by worker gpu-2 in 41.2 s at attempt 2; "
        "identity 0.91 >= 0.8, seam 1.8 <= 10"
    )
    assert said[-1] == "unheard of: scene id 7, gates black, where (worker gpu-2)"
    assert not [s for s in said if "{" in s or "}" in s or "[" in s or "'" in s]


def test_a_segment_made_without_a_worker_names_its_backend():
    data = {"index": 0, "attempt": 1, "backend": "preview", "compute_s": None, "gates": []}
    assert loop_sentence("segment_committed", data) == "segment 1 made by the preview backend"


def segment(index: int, identity: float, *, current: bool = True, attempt: int = 1) -> Segment:
    gates = [IDENTITY | {"value": identity}, SEAM]
    now = datetime.now(UTC)
    return Segment(
        index,
        1,
        index,
        attempt,
        "qa_passed",
        None,
        None,
        24,
        {"gates": gates},
        {},
        current,
        now,
        now,
    )


def test_a_gate_shows_its_worst_segment_and_a_refused_one_its_failure():
    rows = [segment(0, 0.95), segment(1, 0.83), segment(2, 0.90)]
    checks = {c.check_name: c for c in gate_checks("eileen|blink", rows)}
    identity = checks["gate_identity"]
    assert identity.passed and identity.metadata["value"] == FloatMetadataValue(0.83)
    assert identity.metadata["deciding segment"] == IntMetadataValue(2)
    assert identity.description.startswith("identity gate passed: 3 of 3 segment(s) measured;")
    black = checks["gate_black"]  # no segment measured it
    assert black.metadata["value"] == TextMetadataValue("not measured")

    # a refused take: segment 2's attempts all failed; its newest is the one judged
    failing = IDENTITY | {"passed": False, "value": 0.42, "message": "not the character"}
    last = replace(segment(1, 0.0, current=False, attempt=3), qa={"gates": [failing]})
    rows = [segment(0, 0.95), segment(1, 0.5, current=False), last]
    refused = {
        c.check_name: c
        for c in gate_checks("eileen|blink", rows, ("identity",), "segment 2 failed 3 times")
    }["gate_identity"]
    assert not refused.passed and refused.metadata["value"] == FloatMetadataValue(0.42)
    assert refused.description == (
        "identity gate failed: segment 2 of 2 measured 0.42 (at least 0.8): not the character."
        " segment 2 failed 3 times"
    )


def test_figures_keep_their_types():
    assert figure(3) == IntMetadataValue(3) and figure(0.5) == FloatMetadataValue(0.5)
    assert figure("h264") == TextMetadataValue("h264")
    assert figure(None, missing="none") == TextMetadataValue("none")
