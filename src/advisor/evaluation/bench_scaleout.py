"""Scale-out benchmark: one writer and two stateless readers on a `chroma run` server, with the
record store and the writer lock in PostgreSQL, over the largest `--scale` synthetic corpus (100x).

Measures the readers' start-up (process start to first answer, embedding no document), their warm
latency through the HTTP API, and the time from the writer's commit of an edit to both readers
serving it. `advisor bench --only scaleout`; heavy (the 100x index takes minutes on 2 cores).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from advisor.evaluation.bench import golden_questions, p, synthetic_corpus
from advisor.evaluation.servers import BIN, chroma_server, free_port, postgres, wait_for_port
from advisor.indexing import CorpusIndex
from advisor.settings import Settings
from advisor.store.embedding import OnnxEmbedder
from advisor.store.snapshot import ids_fingerprint

MARKER = "Trainee lighthouse keepers shadow a mentor for exactly eleven weeks."


class Reader:
    """`advisor serve` with an empty data dir (but the exported model), talking to the Chroma server."""

    def __init__(self, work: Path, name: str, chroma_url: str, collection: str, model: Path) -> None:
        self.data = work / name
        (self.data / "models").mkdir(parents=True)
        shutil.copy(model, self.data / "models" / model.name)
        self.port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("ADVISOR_")}
        env.update(
            {
                "ADVISOR_CHROMA_URL": chroma_url,
                "ADVISOR_COLLECTION": collection,
                "ADVISOR_DATA_DIR": str(self.data),
                "GRADIO_ANALYTICS_ENABLED": "False",
            }
        )
        self.started = time.perf_counter()
        self.proc = subprocess.Popen(
            [str(BIN / "advisor"), "serve", "--port", str(self.port)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        self.client = None

    def first_answer(self) -> float:
        """Seconds from process start to the first answer."""
        from gradio_client import Client

        if not wait_for_port(self.port, self.proc, timeout=900):
            raise RuntimeError(f"reader {self.data.name} did not start")
        self.client = Client(f"http://127.0.0.1:{self.port}/", verbose=False, download_files=False)
        self.ask(golden_questions(1)[0])
        return time.perf_counter() - self.started

    def ask(self, question: str) -> str:
        return str(self.client.predict(question, [], 5, api_name="/ask"))  # question, chat so far, k

    def cpu_seconds(self) -> float:
        """CPU time the reader process has used so far (user + system, all threads)."""
        fields = Path(f"/proc/{self.proc.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return round((int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK"), 2)

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.wait(timeout=30)


def run(work: Path, log: Callable[[str], None], scales: Sequence[int] = (100,)) -> dict:
    """One writer indexes the largest `--scale` edition (100x by default); two readers start,
    answer, and follow an edit."""
    factor = max(scales)
    corpus = work / "corpus"
    synthetic_corpus(Settings.from_env().corpus_dir, corpus, factor)
    embedder = OnnxEmbedder(work / "models")
    results: dict = {"factor": factor, "readers": 2, "load_average_start": _load_average()}
    with postgres() as records_url, chroma_server(work / "chroma") as chroma_url:
        writer = Settings.from_env(
            {}, corpus_dir=corpus, data_dir=work / "writer", chroma_url=chroma_url, records_url=records_url
        )
        log(f"scaleout: writer indexes {factor}x into {chroma_url}")
        t0, cpu0 = time.perf_counter(), time.process_time()
        report = CorpusIndex(writer, embedder).update(progress=False)
        results.update(
            {
                "chunks": report.chunks,
                "writer_index_s": round(time.perf_counter() - t0, 1),
                "writer_index_cpu_s": round(time.process_time() - cpu0, 1),
            }
        )
        before = _published(writer)
        readers = [Reader(work, f"reader{i}", chroma_url, writer.collection, embedder.path) for i in (1, 2)]
        try:
            starts: dict[int, float] = {}
            threads = [
                threading.Thread(target=lambda i=i, r=r: starts.__setitem__(i, r.first_answer()))
                for i, r in enumerate(readers)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            for i, r in enumerate(readers, 1):
                results[f"reader{i}_startup_s"] = round(starts[i - 1], 2)
                results[f"reader{i}_startup_cpu_s"] = r.cpu_seconds()
                results[f"reader{i}_files"] = sorted(x.name for x in r.data.iterdir())
                times = []
                for _ in range(4):
                    for q in golden_questions(5):
                        t = time.perf_counter()
                        r.ask(q)
                        times.append((time.perf_counter() - t) * 1000)
                results[f"reader{i}_warm_p50_ms"] = p(times, 50)
                results[f"reader{i}_warm_p95_ms"] = p(times, 95)
            # readers write nothing: the published version and its chunk collection are as the writer left them
            results["readers_left_index_unchanged"] = _published(writer) == before
            log("scaleout: the writer commits an edit")
            doc = sorted(corpus.glob("*.md"))[0]
            doc.write_text(doc.read_text() + f"\n## Lighthouse keepers\n\n{MARKER}\n")
            t0 = time.perf_counter()
            edit = CorpusIndex(writer, embedder).update(progress=False)
            committed = time.perf_counter()
            results["writer_edit_s"] = round(committed - t0, 2)
            results["writer_edit_embedded"] = edit.embedded
            results["writer_edit_copied"] = edit.copied
            results["writer_edit_copy_s"] = edit.copy_seconds
            question = "How long do trainee lighthouse keepers shadow a mentor?"
            seen: dict[int, float] = {}
            deadline = committed + 600
            while len(seen) < len(readers) and time.perf_counter() < deadline:
                for i, r in enumerate(readers):
                    if i not in seen and "eleven weeks" in r.ask(question):
                        seen[i] = time.perf_counter() - committed
                time.sleep(0.1)
            for i in range(len(readers)):
                results[f"reader{i + 1}_commit_to_serving_s"] = round(seen[i], 2) if i in seen else None
            results["poll_seconds"] = Settings().poll_seconds
        finally:
            for r in readers:
                r.stop()
    results["load_average_end"] = _load_average()
    return results


def _load_average() -> list[float]:
    """The machine's 1/5/15-minute load averages (the numbers above depend on them: shared cores)."""
    return [round(x, 2) for x in os.getloadavg()]


def _published(settings: Settings) -> tuple:
    """The published version and what its collection holds (count, ids fingerprint), read from Chroma."""
    index = CorpusIndex(settings)
    pointer = index.published(refresh=True)
    ids = index.collection(pointer.active).get(include=[])["ids"]
    return pointer.version, pointer.active, len(ids), ids_fingerprint(ids)


def markdown(r: dict) -> str:
    """The scale-out table of results.md and the README."""
    rows = [
        "## Scale-out (one writer, two readers, one `chroma run` server, PostgreSQL records)",
        "",
        "| measure | reader 1 | reader 2 |",
        "|---|---|---|",
        f"| start-up: process start to first answer (s) | {r['reader1_startup_s']} | {r['reader2_startup_s']} |",
        f"| CPU used by then (s) | {r.get('reader1_startup_cpu_s', '-')} | {r.get('reader2_startup_cpu_s', '-')} |",
        f"| warm answer p50 / p95 via the HTTP API (ms) | {r['reader1_warm_p50_ms']} / {r['reader1_warm_p95_ms']} "
        f"| {r['reader2_warm_p50_ms']} / {r['reader2_warm_p95_ms']} |",
        f"| writer's commit to serving the edit (s; poll every {r['poll_seconds']} s) "
        f"| {r['reader1_commit_to_serving_s']} | {r['reader2_commit_to_serving_s']} |",
        f"| files in the reader's data dir | {', '.join(r['reader1_files'])} | {', '.join(r['reader2_files'])} |",
        "",
        f"Corpus: {r['factor']}x synthetic, {r['chunks']} chunks. The writer's first index took "
        f"{r['writer_index_s']} s ({r.get('writer_index_cpu_s', '-')} CPU s); the "
        f"edit took {r['writer_edit_s']} s, embedded {r['writer_edit_embedded']} chunk(s) and copied "
        f"{r.get('writer_edit_copied', '-')} unchanged chunks with their vectors into the new version over HTTP "
        f"in {r.get('writer_edit_copy_s', '-')} s. Readers read chunks, sentence vectors and the profile from "
        "the collection: their start-up CPU is a small fraction of the writer's embedding CPU, and the "
        "published version was unchanged after they started "
        f"({'yes' if r.get('readers_left_index_unchanged') else 'no'}); `tests/test_scaleout.py` counts "
        "what a reader embeds (the questions only). Load average (1/5/15 min) at start "
        f"{r.get('load_average_start', '-')}, at end {r.get('load_average_end', '-')}, on 2 shared cores.",
        "",
    ]
    return "\n".join(rows)


if __name__ == "__main__":  # pragma: no cover - `advisor bench --only scaleout` is the entry point
    sys.exit("run: advisor bench --only scaleout")
