"""Ingest benchmark: source image throughput per stage, and face search in pgvector.

1. Ingest: N generated 1024×1024 face PNGs go through the real path: decode → detect →
   QA → embed → catalog writes (character, stored file, QA verdict, embedding). Today's
   path, image by image with onnxruntime's SFace, prints the time per stage; the pipelined
   path (trulience.ingest.pipeline: worker threads, batched embeddings by OpenCV's dnn)
   runs on the same images; each prints images/s as the median of 3 runs, side by side,
   with the load average while they ran, and how close their embeddings are.
2. Face search: M synthetic clustered 128-d embeddings bulk-loaded into `face_embeddings`
   under `sface-2021dec`, the partial HNSW index built by `ensure_face_model`, then p50/p95
   latency and recall@10 of the HNSW query against the exact scan at two `hnsw.ef_search`,
   and how many of the query identity's own images each mode finds.

Starts its own embedded Postgres in a temporary folder and removes both when done:

    .venv/bin/python benchmarks/ingest.py [--images N] [--vectors N] [--quick]
                                          [--build-memory 512MB]

Every statement goes through trulience.catalog (embeddings.py holds the bulk load and the
raw index search), and the QA payload is trulience.ingest.assess.qa_record.

Why this module is long: each file in benchmarks/ is one runnable benchmark
(tests/test_benchmarks.py runs every `benchmarks/*.py --quick` and checks its figures), so
its synthetic data, its two measured parts and their tables stay in one script.
"""

import argparse
import os
import platform
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import psycopg
import skimage
from PIL import Image, ImageEnhance, ImageOps

from trulience.catalog import migrations
from trulience.catalog.characters import create_character
from trulience.catalog.database import check_server, connect, create_database, embedded_server
from trulience.catalog.embeddings import (
    analyze_faces,
    ensure_face_model,
    explain_search,
    index_size,
    load_synthetic_faces,
    nearest_characters,
    pgvector_version,
    search_embeddings,
    search_statement,
    set_local,
    set_session,
    show_settings,
    store_embedding,
    synthetic_identity_of_embeddings,
)
from trulience.catalog.projects import create_project
from trulience.catalog.source_images import record_qa
from trulience.faces import FaceModelSet, FaceRecognizer, default_model_set
from trulience.ingest.assess import qa_record
from trulience.ingest.identity import register_model
from trulience.ingest.pipeline import analyse_images
from trulience.library import add_image_file
from trulience.media.image_decode import decode_image
from trulience.qa.image_checks import QAThresholds, evaluate
from trulience.storage import Storage

ASTRONAUT = Path(skimage.__file__).parent / "data" / "astronaut.png"
# The astronaut's face (x, y, w, h) in the 512×512 original, as YuNet finds it.
ASTRONAUT_FACE = (178, 62, 90, 114)
IMAGE_SIDE = 1024
# ComfyUI's SaveImage writes PNG at zlib level 4; decode cost depends on it.
PNG_COMPRESS_LEVEL = 4
IMAGES_PER_CHARACTER = 20
SEED = 20240611

MODEL = "sface-2021dec"
DIMENSION = 128
IMAGES_PER_IDENTITY = 5
# Per-image noise norm: two images of one identity then score cosine ≈ 1/√((1+a²)(1+b²)),
# 0.61-0.89, the spread SFace gives one real person (FACTS.md: median 0.82, p5 0.42).
NOISE_RANGE = (0.35, 0.8)
QUERIES = 200
EF_SEARCHES = (40, 100)
K = 10
PRODUCTION_QUERIES = 20

STAGES = ("decode", "detect", "QA", "embed", "database")

INDEX = "face_embeddings_hnsw_" + MODEL.replace("-", "_")
EXACT = "exact scan"

SEARCH = search_statement(MODEL, DIMENSION, K)


# --- 1. ingest ---------------------------------------------------------------------------


def make_face_image(job: tuple[int, Path]) -> Path:
    """One seeded variation of the astronaut (rotation, crop around the face, flip, light),
    resized to IMAGE_SIDE² and written as PNG."""
    index, folder = job
    rng = np.random.default_rng([SEED, index])
    image = Image.open(ASTRONAUT).convert("RGB")
    x, y, w, h = ASTRONAUT_FACE
    cx, cy = x + w / 2, y + h / 2
    # Mid grey fills the rotated-in corners: it counts neither as clipped nor as crushed.
    image = image.rotate(
        float(rng.uniform(-8, 8)),
        resample=Image.Resampling.BICUBIC,
        center=(cx, cy),
        fillcolor=(128, 128, 128),
    )
    # A square crop that keeps the face with a margin on every side; smaller crops make
    # bigger (and softer, once upscaled) faces.
    side = float(rng.uniform(1.9 * h, image.width))
    left = float(rng.uniform(max(0.0, x + 1.3 * w - side), min(x - 0.3 * w, image.width - side)))
    top = float(rng.uniform(max(0.0, y + 1.3 * h - side), min(y - 0.3 * h, image.height - side)))
    image = image.crop((round(left), round(top), round(left + side), round(top + side)))
    if rng.random() < 0.5:
        image = ImageOps.mirror(image)
    image = ImageEnhance.Brightness(image).enhance(float(rng.uniform(0.8, 1.2)))
    image = ImageEnhance.Contrast(image).enhance(float(rng.uniform(0.8, 1.2)))
    image = image.resize((IMAGE_SIDE, IMAGE_SIDE), Image.Resampling.LANCZOS)
    path = folder / f"face-{index:04d}.png"
    image.save(path, compress_level=PNG_COMPRESS_LEVEL)
    return path


def make_face_images(folder: Path, count: int) -> list[Path]:
    """`count` seeded face images in `folder`, made on every core (not part of the figures)."""
    folder.mkdir(parents=True, exist_ok=True)
    with ProcessPoolExecutor(max_workers=os.cpu_count()) as pool:
        return list(pool.map(make_face_image, [(i, folder) for i in range(count)]))


@dataclass
class StageClock:
    """Seconds spent per stage, summed over images."""

    seconds: dict[str, float] = field(default_factory=lambda: dict.fromkeys(STAGES, 0.0))

    @contextmanager
    def stage(self, name: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - start


RUNS = 3


def ingest_images(
    conn: psycopg.Connection,
    storage: Storage,
    faces: FaceModelSet,
    paths: list[Path],
    run: str = "",
    embeddings: list[np.ndarray | None] | None = None,
) -> tuple[StageClock, dict[str, int]]:
    """Ingest every image through today's code path, one at a time, timing each stage;
    the characters are named after `run`, and each image's embedding goes to `embeddings`."""
    clock = StageClock()
    counts = {"characters": 0, "faces": 0, "qa_passed": 0}
    thresholds = QAThresholds()
    for index, path in enumerate(paths):
        slug = f"astronaut{run}-{index // IMAGES_PER_CHARACTER:03d}"
        with clock.stage("decode"):
            decoded = decode_image(path)
        with clock.stage("detect"):
            detected = faces.detector.detect(decoded.pixels)
        with clock.stage("QA"):
            result = evaluate(decoded, detected, thresholds)
        embedding = None
        if detected:
            with clock.stage("embed"):
                embedding = faces.recognizer.embed(decoded.pixels, detected[:1])[0]
        if embeddings is not None:
            embeddings.append(embedding)
        with clock.stage("database"):
            if index % IMAGES_PER_CHARACTER == 0:
                create_character(
                    conn, slug, f"Astronaut {slug[-3:]}", {"source": "benchmark"}, ["bench"]
                )
                counts["characters"] += 1
            image = add_image_file(conn, storage, slug, path, decoded)
            if image is None:  # same bytes as an earlier image of this character
                continue
            record_qa(
                conn, image.id, result.passed, qa_record(result, detected, decoded, faces.code)
            )
            if embedding is not None:
                face = detected[0]
                store_embedding(conn, image.id, faces.code, embedding, face.score, face.box)
        counts["faces"] += embedding is not None
        counts["qa_passed"] += result.passed
    return clock, counts


def ingest_pipelined(
    conn: psycopg.Connection,
    storage: Storage,
    faces: FaceModelSet,
    paths: list[Path],
    run: str,
    embeddings: list[np.ndarray | None],
) -> tuple[float, dict[str, int]]:
    """Ingest every image through trulience.ingest.pipeline: the catalog writes here while
    worker threads analyse the next images. Returns the seconds spent writing."""
    counts = {"characters": 0, "faces": 0, "qa_passed": 0}
    writing = 0.0
    for index, analysed in enumerate(analyse_images(paths, faces, QAThresholds())):
        embeddings.append(analysed.embedding)
        assert analysed.decoded is not None and analysed.result is not None
        start = time.perf_counter()
        slug = f"astronaut{run}-{index // IMAGES_PER_CHARACTER:03d}"
        if index % IMAGES_PER_CHARACTER == 0:
            create_character(
                conn, slug, f"Astronaut {slug[-3:]}", {"source": "benchmark"}, ["bench"]
            )
            counts["characters"] += 1
        # One commit per image, not one per statement: an image, its verdict and its
        # embedding are stored together or not at all.
        with conn.transaction():
            image = add_image_file(conn, storage, slug, analysed.source, analysed.decoded)
            if image is not None:
                record_qa(
                    conn,
                    image.id,
                    analysed.result.passed,
                    qa_record(analysed.result, analysed.detected, analysed.decoded, faces.code),
                )
                if analysed.embedding is not None:
                    face = analysed.detected[0]
                    store_embedding(
                        conn, image.id, faces.code, analysed.embedding, face.score, face.box
                    )
                counts["faces"] += analysed.embedding is not None
                counts["qa_passed"] += analysed.result.passed
        writing += time.perf_counter() - start
    return writing, counts


def bench_ingest(url: str, work: Path, count: int) -> None:
    """Generate `count` face images, ingest them by today's path and the pipelined one
    (alternating, RUNS times each) and print the per-stage table and both throughputs."""
    start = time.perf_counter()
    paths = make_face_images(work / "images", count)
    generated = time.perf_counter() - start

    start = time.perf_counter()
    faces = default_model_set(work / "models")
    # Today's recogniser: insightface's onnxruntime session, one face per run.
    today = replace(
        faces, recognizer=FaceRecognizer(faces.recognizer.model_path, preprocessing="embedded")
    )
    # The first run of each model allocates its buffers: keep it out of the figures.
    warm = decode_image(paths[0]).pixels
    for model_set in (faces, today):
        model_set.recognizer.embed(warm, model_set.detector.detect(warm)[:1])
    models = time.perf_counter() - start

    storage = Storage((work / "storage").as_uri())
    walls: dict[str, list[float]] = {"today": [], "pipelined": []}
    # This process's CPU (all its threads, not the Postgres server's): less skewed by load.
    cpus: dict[str, list[float]] = {"today": [], "pipelined": []}
    loads = []
    with connect(url, actor="benchmark") as conn:
        create_project(conn, "bench", "Benchmark")
        start = time.perf_counter()
        register_model(conn, faces)  # creates the (empty) partial HNSW index, as ingest does
        registered = time.perf_counter() - start
        for run in range(RUNS):
            old_embeddings: list[np.ndarray | None] = []
            start, cpu = time.perf_counter(), time.process_time()
            clock, counts = ingest_images(
                conn, storage, today, paths, f"-today{run}", old_embeddings
            )
            walls["today"].append(time.perf_counter() - start)
            cpus["today"].append(time.process_time() - cpu)
            loads.append(os.getloadavg()[0])
            new_embeddings: list[np.ndarray | None] = []
            start, cpu = time.perf_counter(), time.process_time()
            writing, new_counts = ingest_pipelined(
                conn, storage, faces, paths, f"-new{run}", new_embeddings
            )
            walls["pipelined"].append(time.perf_counter() - start)
            cpus["pipelined"].append(time.process_time() - cpu)
            loads.append(os.getloadavg()[0])

    print(
        f"\n== Ingest: {count} images {IMAGE_SIDE}×{IMAGE_SIDE} PNG (zlib {PNG_COMPRESS_LEVEL}), "
        f"{counts['characters']} characters"
    )
    print(
        f"setup (not timed below): images generated in {generated:.1f} s, models converted "
        f"and warmed in {models:.1f} s, register_model {registered * 1e3:.0f} ms"
    )
    total = sum(clock.seconds.values())
    print(f"today's path, last run: {'stage':<10} {'total s':>8} {'ms/image':>9} {'share':>6}")
    for name in STAGES:
        seconds = clock.seconds[name]
        print(
            f"{'':<23} {name:<10} {seconds:>8.2f} {seconds / count * 1e3:>9.1f} "
            f"{seconds / total:>6.0%}"
        )
    print(f"{'':<23} {'all':<10} {total:>8.2f} {total / count * 1e3:>9.1f} {1:>6.0%}")
    old_rate = count / statistics.median(walls["today"])
    new_rate = count / statistics.median(walls["pipelined"])
    print(
        f"pipelined path, last run: catalog writes {writing:.2f} s on the calling thread, "
        f"{writing / count * 1e3:.1f} ms/image, overlapped with the analysis"
    )
    same = [
        float(np.dot(a, b))
        for a, b in zip(old_embeddings, new_embeddings, strict=True)
        if a is not None and b is not None
    ]
    found = sum(e is not None for e in new_embeddings)
    print(
        f"embeddings today vs pipelined: lowest cosine {min(same, default=1.0):.6f} over "
        f"{len(same)} faces; faces found {counts['faces']}/{count} vs {found}/{count}, "
        f"QA passed {counts['qa_passed']}/{count} vs {new_counts['qa_passed']}/{count}"
    )
    print(
        f"median of {RUNS} runs each, alternating, load average {min(loads):.1f}-"
        f"{max(loads):.1f} on {os.cpu_count()} cores (other work skews both alike)"
    )
    old_cpu, new_cpu = (statistics.median(cpus[k]) / count * 1e3 for k in ("today", "pipelined"))
    print(
        f"CPU of this process: {old_cpu:.0f} ms/image today, {new_cpu:.0f} ms/image pipelined "
        f"(at most {2e3 / new_cpu:.0f} images/s on 2 idle cores, before Postgres' own CPU)"
    )
    print(f"throughput: {old_rate:.1f} images/s today")
    print(
        f"throughput: {new_rate:.1f} images/s pipelined, ratio pipelined / today "
        f"{new_rate / old_rate:.2f}"
    )


# --- 2. face search ----------------------------------------------------------------------


@dataclass(frozen=True)
class SearchData:
    """Identity centres, their images' embeddings (identity-major: vector i is image
    i % IMAGES_PER_IDENTITY of identity i // IMAGES_PER_IDENTITY), and the queries."""

    centres: np.ndarray
    vectors: np.ndarray
    query_identities: np.ndarray
    queries: np.ndarray


def unit(vectors: np.ndarray) -> np.ndarray:
    """The vectors scaled to length 1."""
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def noisy_samples(centres: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """One unit-length sample around each centre, with a per-sample noise norm."""
    norms = rng.uniform(*NOISE_RANGE, size=(len(centres), 1))
    noise = rng.standard_normal(centres.shape) * norms / np.sqrt(centres.shape[1])
    return unit(centres + noise).astype(np.float32)


def search_data(vector_count: int) -> SearchData:
    """Seeded clustered embeddings, and fresh samples of random identities as queries."""
    rng = np.random.default_rng(SEED)
    identities = max(vector_count // IMAGES_PER_IDENTITY, 2)
    centres = unit(rng.standard_normal((identities, DIMENSION)))
    vectors = noisy_samples(np.repeat(centres, IMAGES_PER_IDENTITY, axis=0), rng)
    picked = rng.integers(0, identities, size=QUERIES)
    return SearchData(centres, vectors, picked, noisy_samples(centres[picked], rng))


def load_embeddings(conn: psycopg.Connection, vectors: np.ndarray) -> float:
    """Bulk-load the minimum parent rows and the vectors; return the seconds it took.

    The catalog's triggers stay on (audit log, dimension check): this is what importing
    that many embeddings costs.
    """
    start = time.perf_counter()
    # The model row only: its index comes after the load (building it once is far cheaper
    # than growing it row by row).
    load_synthetic_faces(conn, MODEL, DIMENSION, vectors, IMAGES_PER_IDENTITY)
    # Fresh statistics, as autovacuum would give a table this size soon after the load.
    analyze_faces(conn)
    return time.perf_counter() - start


def build_index(conn: psycopg.Connection, build_memory: str | None) -> str:
    """Build the partial HNSW index through `ensure_face_model`; describe how it went."""
    if build_memory:
        set_session(conn, "maintenance_work_mem", build_memory)
    settings = show_settings(conn, ("maintenance_work_mem", "max_parallel_maintenance_workers"))
    notices: list[str] = []
    conn.add_notice_handler(lambda notice: notices.append(notice.message_primary))
    start = time.perf_counter()
    ensure_face_model(conn, MODEL, DIMENSION)
    built = time.perf_counter() - start
    size = index_size(conn, INDEX)
    lines = [
        f"HNSW build (ensure_face_model): {built:.1f} s, index {size}, "
        + ", ".join(f"{k}={v}" for k, v in settings.items())
    ]
    return "\n".join(lines + [f"  notice: {n}" for n in notices])


def ground_truth_summary(data: SearchData) -> str:
    """What the exact top 10 holds, computed in numpy: why recall@10 and identity recall
    differ."""
    similarities = data.queries @ data.vectors.T
    top = -np.sort(-np.partition(similarities, -(K + 1), axis=1)[:, -(K + 1) :], axis=1)
    nearest = np.argsort(-similarities, axis=1)[:, :IMAGES_PER_IDENTITY] // IMAGES_PER_IDENTITY
    own_first = np.mean((nearest == data.query_identities[:, None]).all(axis=1))
    rest = top[:, IMAGES_PER_IDENTITY:K]
    return (
        f"exact top {K}: the query's own {IMAGES_PER_IDENTITY} images rank first in "
        f"{own_first:.0%} of queries (median cosine "
        f"{np.median(top[:, :IMAGES_PER_IDENTITY]):.2f}); ranks {IMAGES_PER_IDENTITY + 1}-{K} "
        f"are other identities at median {np.median(rest):.2f}, rank {K} vs {K + 1} differ by "
        f"{np.median(top[:, K - 1] - top[:, K]):.4f} (median)"
    )


def plan_summary(conn: psycopg.Connection, query: np.ndarray) -> str:
    """The plan's nodes on one line (COSTS OFF), e.g. 'Limit → Index Scan using ...'."""
    lines = explain_search(conn, SEARCH, query)
    nodes = [line.strip().removeprefix("->").strip() for line in lines]
    skip = ("Order By", "Filter", "Sort Key", "Workers")
    return " → ".join(n for n in nodes if not n.startswith(skip))


def timed_queries(
    conn: psycopg.Connection, queries: np.ndarray, setup: Callable[[], None]
) -> tuple[list[float], list[list[int]]]:
    """Run the search for each query in its own transaction after `setup`; return the
    latencies (s) and the ids found."""
    latencies, found = [], []
    for query in queries:
        with conn.transaction():
            setup()
            start = time.perf_counter()
            # Planned afresh each time, under its mode's settings, as the EXPLAIN shows; a
            # prepared statement may move to a cached generic plan, which a later
            # SET LOCAL would not change.
            ids = search_embeddings(conn, SEARCH, query)
            latencies.append(time.perf_counter() - start)
        found.append(ids)
    return latencies, found


def print_search_table(
    figures: dict[str, tuple[list[float], list[list[int]]]],
    identity_of: dict[int, int],
    query_identities: np.ndarray,
) -> None:
    """Latency, recall@10 against the exact scan, and the share of the query identity's
    own images found."""
    exact = figures[EXACT][1]
    print(f"{'mode':<20} {'p50 ms':>7} {'p95 ms':>7} {'recall@10':>10} {'identity recall':>16}")
    p95 = {}
    for name, (latencies, found) in figures.items():
        recall = statistics.fmean(
            len(set(got) & set(want)) / K for got, want in zip(found, exact, strict=True)
        )
        own = statistics.fmean(
            sum(identity_of[i] == identity for i in got) / IMAGES_PER_IDENTITY
            for got, identity in zip(found, query_identities.tolist(), strict=True)
        )
        p95[name] = float(np.percentile(latencies, 95))
        print(
            f"{name:<20} {np.percentile(latencies, 50) * 1e3:>7.2f} {p95[name] * 1e3:>7.2f} "
            f"{recall:>10.3f} {own:>16.3f}"
        )
    for name in figures:
        if name != EXACT:
            print(f"p95 exact / p95 {name}: {p95[EXACT] / p95[name]:.1f}×")


def bench_search(url: str, vector_count: int, build_memory: str | None) -> None:
    """Load clustered embeddings, build the HNSW index and print latency and recall."""
    data = search_data(vector_count)
    same = np.einsum(
        "ij,ij->i", data.vectors[0::IMAGES_PER_IDENTITY], data.vectors[1::IMAGES_PER_IDENTITY]
    )
    half = len(data.vectors) // 2
    others = np.einsum("ij,ij->i", data.vectors[:half], data.vectors[half : 2 * half])
    with connect(url, actor="benchmark") as conn:
        loaded = load_embeddings(conn, data.vectors)
        identity_of = synthetic_identity_of_embeddings(conn)
        print(
            f"\n== Face search: {len(data.vectors):,} embeddings ({len(data.centres):,} "
            f"identities × {IMAGES_PER_IDENTITY}), {DIMENSION}-d, model {MODEL}, "
            f"{QUERIES} queries, k={K}"
        )
        print(
            f"same-identity cosine median {np.median(same):.2f} (p5 {np.percentile(same, 5):.2f}"
            f", p95 {np.percentile(same, 95):.2f}); other identities p99 "
            f"{np.percentile(others, 99):.2f}"
        )
        print(f"bulk load (binary COPY, audit triggers on) + ANALYZE: {loaded:.1f} s")
        print(build_index(conn, build_memory))
        print(ground_truth_summary(data))

        def ef_search(value: int) -> Callable[[], None]:
            return lambda: set_local(conn, {"hnsw.ef_search": str(int(value))})

        def exact_scan() -> None:
            set_local(conn, {"enable_indexscan": "off"})

        modes = {f"hnsw ef_search={ef}": ef_search(ef) for ef in EF_SEARCHES} | {EXACT: exact_scan}
        for name, setup in modes.items():
            with conn.transaction():
                setup()
                print(f"plan, {name}: {plan_summary(conn, data.queries[0])}")
        figures = {name: timed_queries(conn, data.queries, setup) for name, setup in modes.items()}
        print_search_table(figures, identity_of, data.query_identities)

        production = []
        for query in data.queries[:PRODUCTION_QUERIES]:
            start = time.perf_counter()
            nearest_characters(conn, MODEL, DIMENSION, query, ef_search=EF_SEARCHES[0])
            production.append(time.perf_counter() - start)
        print(
            f"nearest_characters (k=20 faces grouped by character, ef_search={EF_SEARCHES[0]}): "
            f"p50 {np.percentile(production, 50) * 1e3:.2f} ms over {PRODUCTION_QUERIES} queries"
        )


# --- the run -----------------------------------------------------------------------------


def new_catalog(server_url: str, name: str) -> str:
    """A freshly migrated catalog database on the benchmark's server."""
    url = create_database(server_url, name)
    with connect(url) as conn:
        migrations.migrate(conn)
    return url


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, help="face images to ingest (default 200)")
    parser.add_argument("--vectors", type=int, help="embeddings to search (default 100000)")
    parser.add_argument("--quick", action="store_true", help="smoke run: 8 images, 5k vectors")
    parser.add_argument(
        "--build-memory",
        help="maintenance_work_mem for the HNSW build, e.g. 512MB (default: the server's)",
    )
    args = parser.parse_args()
    args.images = args.images or (8 if args.quick else 200)
    args.vectors = args.vectors or (5_000 if args.quick else 100_000)
    return args


def main() -> None:
    args = parse_args()
    work = Path(tempfile.mkdtemp(prefix="trulience-bench-"))
    server = None
    try:
        server = embedded_server(work / "pg", cleanup_mode="delete")
        server_url = server.get_uri()
        ingest_url = new_catalog(server_url, "bench_ingest")
        search_url = new_catalog(server_url, "bench_search")
        postgres = check_server(ingest_url)
        with connect(ingest_url) as conn:
            pgvector = pgvector_version(conn)
        print(
            f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"PostgreSQL {postgres} (embedded pgserver), pgvector {pgvector}, "
            # other work on a small machine skews every figure below
            f"load average {os.getloadavg()[0]:.1f}"
        )
        bench_ingest(ingest_url, work, args.images)
        bench_search(search_url, args.vectors, args.build_memory)
    finally:
        if server is not None:
            server.cleanup()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
