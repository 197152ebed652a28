"""Segment n judged while segment n+1 generates (issue 15): the backend is asked for n+1
before n's QA ends, a refused n discards n+1 and is retaken, commits stay in order, and the
take's control and a killed run behave as in the serial loop. Real preview video, real QA,
real Postgres; the QA is only held back (on an Event) to prove what ran beside what."""

import os
import signal
import subprocess
import sys
import threading

import pytest

from tests import test_operator_interrupt as interrupts
from tests.ingest_files import ASTRONAUT
from tests.test_loop import KILL_SCRIPT, REPO
from tests.test_loop_qa import Planted
from trulience.catalog import characters, projects, scenes
from trulience.catalog.database import connect
from trulience.catalog.siblings import sibling_connection
from trulience.generation import attempt
from trulience.generation.loop import LoopStopped, NotReady, run_loop
from trulience.generation.preview import LocalPreviewBackend
from trulience.generation.scene_config import Definition, define
from trulience.ingest.assess import assess_images, thresholds_for
from trulience.library import add_image_file

SETTINGS = {
    "fps": 12,
    "width": 128,
    "height": 128,
    "segment_duration_s": 1,
    "qa_rules": {"max_takes": 3},
}


@pytest.fixture
def eileen(conn, storage, face_models):
    """Eileen with a primary image, and `walk`: four segments of one second."""
    projects.create_project(conn, "moonbase", "Moonbase")
    characters.create_character(conn, "eileen", "Eileen", {"role": "pilot"}, ["moonbase"])
    add_image_file(conn, storage, "eileen", ASTRONAUT)
    assess_images(conn, storage, face_models, "eileen", thresholds_for(conn, "eileen"))
    define(conn, Definition("walk", "Walk", settings=SETTINGS | {"target_duration_s": 4}))
    return conn


# the fake ComfyUI worker and a studio on it, as the operator-interrupt tests make them
worker, studio = interrupts.worker, interrupts.studio


class Logged(Planted):
    """The preview backend (with planted defects) writing each request to a shared log and
    raising an Event per segment index once it has been asked for it."""

    def __init__(self, log: list[str], defects: dict[int, list[str]] | None = None):
        super().__init__(defects or {})
        self.log = log
        self.asked: dict[int, threading.Event] = {}

    def asked_for(self, index: int) -> threading.Event:
        return self.asked.setdefault(index, threading.Event())

    def generate_segment(self, seed_frame, request, work_dir):
        self.log.append(f"generate {request.index}")
        self.asked_for(request.index).set()
        return super().generate_segment(seed_frame, request, work_dir)


class HeldQA:
    """The real QA of each segment n, held until the backend has been asked for segment
    n+1 (for at most `hold_s`: 0 only looks), with the backend's requests in the same log
    and, per segment, whether the backend had been asked for the next one."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s, self.log = hold_s, []
        self.answered: list[tuple[int, bool]] = []
        self.backend = Logged(self.log)
        self._judge = attempt._judge

    def __call__(self, video, plan, frames, start):
        self.log.append(f"qa start {start.index}")
        if start.index + 1 < len(plan.frame_plan):
            asked = self.backend.asked_for(start.index + 1).wait(self.hold_s)
            self.answered.append((start.index, asked))
        verdict = self._judge(video, plan, frames, start)
        self.log.append(f"qa end {start.index}")
        return verdict


def held_qa(monkeypatch, hold_s: float) -> HeldQA:
    held = HeldQA(hold_s)
    monkeypatch.setattr(attempt, "_judge", held)
    return held


def rows(conn, scene_id):
    return conn.execute(
        "SELECT id, index, attempt, status, current, sha256 FROM segments "
        "WHERE scene_id = %s ORDER BY index, attempt",
        (scene_id,),
    ).fetchall()


def test_the_backend_is_asked_for_the_next_segment_before_qa_of_this_one_ends(
    eileen, storage, tmp_path, monkeypatch
):
    held = held_qa(monkeypatch, hold_s=60)  # a guard: it is answered as soon as asked
    result = run_loop(eileen, storage, held.backend, "eileen", "walk", tmp_path)
    # every held QA of segment n saw the backend asked for n+1 while it waited
    assert held.answered == [(0, True), (1, True), (2, True)]
    log = held.log
    for n in range(3):
        assert log.index(f"generate {n + 1}") < log.index(f"qa end {n}")
    assert result.generated == [0, 1, 2, 3] and result.take.status == "generated"
    made = rows(eileen, result.take.id)
    assert [(i, a, s, c) for _, i, a, s, c, _ in made] == [
        (i, 1, "qa_passed", True) for i in range(4)
    ]
    ids = [row[0] for row in made]
    assert ids == sorted(ids), "segment n is committed before segment n+1"
    # segment n+1 was seeded from n's lossless last frame, as in the serial loop
    current = scenes.current_segments(eileen, result.take.id)
    for n in range(3):
        after, before = current[n + 1].provenance, current[n].provenance
        assert after["seed_frame_sha256"] == before["last_frame_sha256"]
        assert after["seed_frame_source"] == "lossless"


def test_a_refused_segment_discards_the_next_and_is_retaken_as_the_serial_loop_would(
    eileen, storage, tmp_path
):
    overlapped_log: list[str] = []
    events: list[tuple[str, dict]] = []
    overlapped = run_loop(
        eileen,
        storage,
        Logged(overlapped_log, {1: ["black"]}),
        "eileen",
        "walk",
        tmp_path / "a",
        events=lambda kind, data: events.append((kind, data)),
    )
    serial_log: list[str] = []
    serial = run_loop(
        eileen,
        storage,
        Logged(serial_log, {1: ["black"]}),
        "eileen",
        "walk",
        tmp_path / "b",
        overlap=False,
    )
    # segment 2 was asked for while segment 1 (black) was judged, then asked for again
    assert overlapped_log == [f"generate {i}" for i in (0, 1, 2, 1, 2, 3)]
    assert serial_log == [f"generate {i}" for i in (0, 1, 1, 2, 3)]
    discarded = [data for kind, data in events if kind == "segment_discarded"]
    assert discarded == [
        {"index": 2, "attempt": 1, "reason": "segment 1 attempt 1 failed its gates"}
    ]
    kinds = [kind for kind, _ in events]
    assert kinds.index("qa_failed") < kinds.index("segment_discarded")
    # the same segments, attempts and videos, in the same order, as the serial loop made
    a, b = rows(eileen, overlapped.take.id), rows(eileen, serial.take.id)
    assert [r[1:] for r in a] == [r[1:] for r in b]
    assert [(i, n, s) for _, i, n, s, _, _ in a] == [
        (0, 1, "qa_passed"),
        (1, 1, "qa_failed"),
        (1, 2, "qa_passed"),
        (2, 1, "qa_passed"),
        (3, 1, "qa_passed"),
    ]
    # nothing of the discarded segment was stored: every file belongs to a row
    prefix = "scenes/moonbase/eileen/walk/take-1"
    videos = sorted(storage.uri(k) for k in storage.list(prefix) if k.endswith(".mp4"))
    stored = eileen.execute(
        "SELECT uri FROM segments WHERE scene_id = %s ORDER BY uri", (overlapped.take.id,)
    ).fetchall()
    assert videos == [uri for (uri,) in stored]


def test_a_pause_asked_while_the_next_segment_generates_waits_after_this_one_commits(
    eileen, storage, tmp_path, db_url
):
    log: list[str] = []

    class PausingBackend(Logged):
        def generate_segment(self, seed_frame, request, work_dir):
            if request.index == 1:  # the producer pauses while segment 1 is made ahead
                with connect(db_url) as producer:
                    take = scenes.latest_take(producer, "moonbase", "eileen", "walk")
                    scenes.set_take_control(producer, take.id, "pause", "maria")
            return super().generate_segment(seed_frame, request, work_dir)

    def on_event(kind, data):
        log.append(f"{kind} {data.get('index', '')}".strip())
        if kind == "paused":
            with connect(db_url) as producer:
                scenes.set_take_control(producer, data["scene_id"], "run", "maria")

    result = run_loop(
        eileen,
        storage,
        PausingBackend(log),
        "eileen",
        "walk",
        tmp_path,
        poll_s=0.01,
        events=on_event,
    )
    assert result.take.status == "generated" and result.generated == [0, 1, 2, 3]
    assert log.count("paused") == 1 and log.count("resumed") == 1
    order = [log.index(e) for e in ("segment_committed 0", "paused", "resumed")]
    assert order == sorted(order)
    # nothing more was asked of the backend while the take was paused
    assert log.index("generate 2") > log.index("resumed")
    assert log.index("segment_committed 1") > log.index("resumed")


def test_a_cancel_while_the_next_segment_generates_keeps_this_one_and_discards_that(
    eileen, storage, tmp_path, db_url
):
    events: list[tuple[str, dict]] = []

    class CancellingBackend(Logged):
        def generate_segment(self, seed_frame, request, work_dir):
            if request.index == 2:
                with connect(db_url) as producer:
                    take = scenes.latest_take(producer, "moonbase", "eileen", "walk")
                    scenes.set_take_control(producer, take.id, "cancel", "maria")
            return super().generate_segment(seed_frame, request, work_dir)

    backend = CancellingBackend([])
    with pytest.raises(LoopStopped, match="cancelled by maria between segments"):
        run_loop(
            eileen,
            storage,
            backend,
            "eileen",
            "walk",
            tmp_path,
            events=lambda kind, data: events.append((kind, data)),
        )
    take = scenes.latest_take(eileen, "moonbase", "eileen", "walk")
    assert take.status == "cancelled"
    assert sorted(scenes.current_segments(eileen, take.id)) == [0, 1]  # finished work kept
    assert [d["index"] for k, d in events if k == "segment_discarded"] == [2]
    assert backend.log == ["generate 0", "generate 1", "generate 2"]


def test_a_scene_type_can_switch_overlap_off(eileen, storage, tmp_path, monkeypatch):
    held = held_qa(monkeypatch, hold_s=0)  # serially nothing can answer: only look
    steady = SETTINGS | {"target_duration_s": 2, "params": {"overlap_qa": False}}
    define(eileen, Definition("steady", "Steady", settings=steady))
    result = run_loop(eileen, storage, held.backend, "eileen", "steady", tmp_path)
    assert result.generated == [0, 1]
    assert held.log == [
        "generate 0",
        "qa start 0",
        "qa end 0",
        "generate 1",
        "qa start 1",
        "qa end 1",
    ]
    assert held.answered == [(0, False)]
    wobbly = SETTINGS | {"target_duration_s": 2, "params": {"overlap_qa": "sometimes"}}
    define(eileen, Definition("wobbly", "Wobbly", settings=wobbly))
    with pytest.raises(NotReady, match=r"'wobbly': params\.overlap_qa must be true or false"):
        run_loop(eileen, storage, LocalPreviewBackend(), "eileen", "wobbly", tmp_path)


def test_a_sibling_connection_is_the_same_catalog_and_actor(conn):
    with sibling_connection(conn) as sibling:
        assert sibling is not conn and sibling.info.backend_pid != conn.info.backend_pid
        ask = "SELECT current_database(), current_setting('trulience.actor', true)"
        assert sibling.execute(ask).fetchone() == conn.execute(ask).fetchone()
        assert sibling.execute(ask).fetchone()[1] == "tester"


@pytest.mark.slow
def test_a_run_killed_mid_pipeline_resumes_after_its_last_commit(eileen, storage, db_url, tmp_path):
    define(eileen, Definition("walk", "Walk", settings=SETTINGS | {"target_duration_s": 6}))
    process = subprocess.Popen(
        [sys.executable, "-c", KILL_SCRIPT, db_url, storage.url],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for line in process.stdout:
            if line.startswith("segment_started 4"):  # 3 made and being judged, 4 generating
                os.kill(process.pid, signal.SIGKILL)
                break
        process.wait(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == -signal.SIGKILL
    take = scenes.latest_take(eileen, "moonbase", "eileen", "walk")
    before = {i: s.sha256 for i, s in scenes.current_segments(eileen, take.id).items()}
    assert sorted(before) in ([0, 1, 2], [0, 1, 2, 3])  # 3 committed, or not yet: no gap

    result = run_loop(eileen, storage, LocalPreviewBackend(), "eileen", "walk", tmp_path / "w")

    assert result.resumed and result.generated == list(range(len(before), 6))
    after = scenes.current_segments(eileen, take.id)
    assert {i: after[i].sha256 for i in before} == before  # untouched
    counts = eileen.execute(
        "SELECT index, count(*) FROM segments WHERE scene_id = %s GROUP BY index ORDER BY index",
        (take.id,),
    ).fetchall()
    assert counts == [(i, 1) for i in range(6)]  # no duplicate rows
    keys = [k for k in storage.list("scenes") if k.endswith(".mp4")]
    assert sorted(storage.uri(k) for k in keys) == sorted(s.uri for s in after.values())
    first = min(set(range(6)) - set(before))
    assert (
        after[first].provenance["seed_frame_sha256"]
        == (after[first - 1].provenance["last_frame_sha256"])
    )


def test_an_operators_interrupt_hits_the_segment_made_ahead_and_keeps_the_one_judged(
    studio,
    storage,
    db_url,
    worker,
    tmp_path,
    monkeypatch,
):
    """Segment 0's QA is held until the operator has interrupted segment 1's prompt: the
    interrupt stops the take during segment 1, and segment 0 is still committed."""
    LoopThread, cli, history = interrupts.LoopThread, interrupts.cli, interrupts.history
    from trulience.generation.comfyui import ComfyUIBackend
    from trulience.generation.comfyui.errors import PromptInterrupted

    released, judging = threading.Event(), []
    judge = attempt._judge

    def held(video, plan, frames, start):
        if start.index == 0:
            judging.append(released.wait(60))  # a guard: released once the interrupt is sent
        return judge(video, plan, frames, start)

    monkeypatch.setattr(attempt, "_judge", held)
    worker.slow(0.3)
    loop = LoopThread(db_url, storage, ComfyUIBackend(worker.url, idle_timeout_s=30), tmp_path)
    loop.start()
    running = interrupts.wait_for_prompt(studio, 1)  # segment 1 queued while segment 0 is judged
    answer = cli(db_url, storage, tmp_path, "runs", "interrupt", "eileen", "walk")
    released.set()
    loop.join(timeout=60)

    assert answer.exit_code == 0, answer.output
    assert f"prompt {running.prompt_id} interrupted" in answer.output
    assert judging == [True]
    assert isinstance(loop.error, LoopStopped)
    assert "cancelled by cli:maria during segment 1" in str(loop.error)
    assert isinstance(loop.error.__cause__.__cause__, PromptInterrupted)
    assert history(worker, running.prompt_id)["status"]["messages"][-1][0] == (
        "execution_interrupted"
    )
    take = scenes.latest_take(studio, "moonbase", "eileen", "walk")
    assert take.status == "cancelled"
    assert sorted(scenes.current_segments(studio, take.id)) == [0]  # judged, then committed
    assert len(worker.submissions) == 2 and scenes.running_prompts(studio) == []
