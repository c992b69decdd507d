"""Benchmarks: speed, memory and scaling, side by side with a naive LangChain RAG, in one run.

Run with `make bench` or `advisor bench`; writes benchmarks/results.json and benchmarks/results.md.
Medians and ratios from one run (these machines are shared and noisy); never asserted by tests.
"""

from __future__ import annotations

import importlib
import inspect
import json
import os
import platform
import random
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

from advisor.answer.intent import is_decision
from advisor.evaluation.golden import first_hit_rank, load_golden
from advisor.evaluation.servers import BIN, free_port, started
from advisor.indexing import CorpusIndex
from advisor.ingest.chunk import chunk_document
from advisor.ingest.load import corpus_files, load_corpus
from advisor.pipeline import Advisor
from advisor.retrieval import corpus_words
from advisor.settings import Settings
from advisor.store.embedding import OnnxEmbedder, SentenceTransformerEmbedder
from advisor.text import split_sentences


def p(values: Sequence[float], q: float) -> float:
    return round(float(np.percentile(values, q)), 2) if values else 0.0


def _wall(cmd: list[str], env: dict, runs: int = 3) -> float:
    """Median process wall time of a command, in seconds."""
    times = []
    for _ in range(runs):
        t0 = time.perf_counter()
        subprocess.run(cmd, env=env, check=True, capture_output=True)
        times.append(time.perf_counter() - t0)
    return round(statistics.median(times), 3)


def synthetic_corpus(source: Path, target: Path, factor: int) -> None:
    """`factor` editions of every real document: distinct ids, paragraphs rotated deterministically."""
    target.mkdir(parents=True, exist_ok=True)
    for path in sorted(source.glob("*.md")):
        text = path.read_text()
        front, _, body = text.partition("\n---\n")
        blocks = body.strip().split("\n## ")
        for i in range(factor):
            rng = random.Random(f"{path.name}:{i}")
            head, rest = blocks[0], blocks[1:]
            rng.shuffle(rest)
            edition = front.replace('title: "', f'title: "Edition {i + 1}: ', 1) if i else front
            out = edition + "\n---\n\n" + "\n## ".join([head, *rest]) + "\n"
            (target / f"{path.stem}-e{i + 1:03d}.md").write_text(out)


def _query_latency(advisor: Advisor, questions: Sequence[str]) -> dict[str, float]:
    stages: dict[str, list[float]] = {"retrieve": [], "generate": [], "total": []}
    for q in questions:
        a = advisor.ask(q)
        for s in stages:
            stages[s].append(a.timings_ms[s])
    return {f"{s}_{k}": p(v, q) for s, v in stages.items() for k, q in (("p50", 50), ("p95", 95))}


def _rss_peak_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return round(int(line.split()[1]) / 1024, 1)
    return 0.0


def golden_questions(limit: int | None = None) -> list[str]:
    """Single-turn questions of the dev golden set: benchmarks ask what the evals ask, not words of our own."""
    root = Path(__file__).resolve().parents[3]
    golden = load_golden([root / "evals" / "dev" / "golden.jsonl"])
    return [g["question"] for g in golden if not g.get("history") and g.get("answerable", True)][:limit]


# Topic benchmarks, each a module with `run(work: Path, log) -> dict` and `markdown(results: dict) -> str`;
# `advisor bench --only NAME` runs one and merges its results into results.json under NAME.
SECTIONS: dict[str, str] = {
    "load": "advisor.evaluation.bench_load",
    "llm": "advisor.evaluation.bench_llm",
    "scaleout": "advisor.evaluation.bench_scaleout",
    "embedders": "advisor.evaluation.bench_embedders",
}


def run_benchmarks(
    out_dir: Path,
    scales: Sequence[int] = (1, 10, 100),
    log: Callable[[str], None] = print,
    only: Sequence[str] = (),
    questions: int | None = None,
    quick: bool = False,
) -> dict:
    """Measure the core numbers (or only the named topic sections); write results.json and results.md.

    `questions` limits the core numbers to the first N golden questions (default all); `quick` times each
    process once instead of taking a median and skips the sentence-transformers comparison (a smoke run)."""
    unknown = [name for name in only if name != "core" and name not in SECTIONS]
    if unknown:
        raise ValueError(f"unknown benchmark {', '.join(unknown)} (available: core, {', '.join(SECTIONS)})")
    path = out_dir / "results.json"
    earlier = json.loads(path.read_text()) if only and path.exists() else {}
    results = _core(scales, log, questions, quick) if not only or "core" in only else earlier
    for name in [n for n in only if n != "core"] if only else SECTIONS:
        work = Path(tempfile.mkdtemp(prefix=f"advisor-bench-{name}-"))
        try:
            section = importlib.import_module(SECTIONS[name]).run
            wants_scales = "scales" in inspect.signature(section).parameters  # sizes from --scale
            results[name] = section(work, log, scales=scales) if wants_scales else section(work, log)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(results, indent=2))
    sections = [importlib.import_module(SECTIONS[n]).markdown(results[n]) for n in SECTIONS if n in results]
    core = [results_markdown(results)] if "indexing" in results else []  # `--only` into a fresh --out: no core
    (out_dir / "results.md").write_text("\n".join([*core, *sections]))
    return results


def _core(scales: Sequence[int], log: Callable[[str], None], limit: int | None = None, quick: bool = False) -> dict:
    """Indexing, warm and cold latency, server memory, the LangChain baseline and scaling."""
    root = Path(__file__).resolve().parents[3]
    corpus = Settings.from_env().corpus_dir
    golden = load_golden([root / "evals" / "dev" / "golden.jsonl"])[:limit]
    questions = [g["question"] for g in golden if not g.get("history")]
    work = Path(tempfile.mkdtemp(prefix="advisor-bench-"))
    results: dict = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "golden_questions": len(questions),
        "quick": quick,
    }
    try:
        models = work / "models"
        exported = OnnxEmbedder(Settings.from_env().models_path).path
        if quick and exported.exists():  # --quick: the export of a fresh install is not timed when one exists
            models.mkdir()
            shutil.copy(exported, models / exported.name)
            results["onnx_export_and_load_s"] = None
        else:
            t0 = time.perf_counter()
            OnnxEmbedder(models).embed_batch(["export"])  # one-time ONNX export, as on a fresh install
            results["onnx_export_and_load_s"] = round(time.perf_counter() - t0, 2)
        embedder = OnnxEmbedder(models)
        t0 = time.perf_counter()
        embedder.embed_batch(["load"])
        results["model_load_s"] = round(time.perf_counter() - t0, 2)
        # Import Chroma, LangChain and the record manager once, so the timed build below measures
        # indexing, not one-off module imports.
        warm = Settings.from_env({}, corpus_dir=work / "warm-corpus", data_dir=work / "warm-index")
        warm.corpus_dir.mkdir(parents=True)
        (warm.corpus_dir / "w.md").write_text("# Warm\n\nA warm-up document with one paragraph.\n")
        CorpusIndex(warm, embedder).update(progress=False)

        # -- indexing --
        log("indexing: full build, raw embedding throughput, no-op and one-file reindex")
        settings = Settings.from_env({}, corpus_dir=work / "corpus", data_dir=work / "index")
        shutil.copytree(corpus, settings.corpus_dir)
        writer = Advisor(settings, CorpusIndex(settings, embedder))  # as `advisor index` builds: with its word cache
        t0 = time.perf_counter()
        report = writer.build_index()
        full_s = time.perf_counter() - t0
        docs, _ = load_corpus(settings.corpus_dir)
        chunks = [c for d in docs for c in chunk_document(d, settings.chunk_tokens, settings.chunk_overlap)]
        sentences = [s for c in chunks for s in split_sentences(c.text, c.section)]
        t0 = time.perf_counter()
        embedder.embed_batch([c.embed_text for c in chunks])
        raw_chunks_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        embedder.embed_batch(sentences)
        raw_sentences_s = time.perf_counter() - t0
        t0 = time.perf_counter()
        words = corpus_words(c.embed_text for c in chunks)
        embedder.embed_batch(words)  # the word cache's vectors
        raw_words_s = time.perf_counter() - t0
        raw_extra_s = 0.0
        if writer.index.extra is not None:  # the second dense model embeds every chunk too
            t0 = time.perf_counter()
            writer.index.extra.embed_batch([c.embed_text for c in chunks])
            raw_extra_s = time.perf_counter() - t0
        raw_s = raw_chunks_s + raw_sentences_s + raw_words_s + raw_extra_s
        st_load_s = st_raw_s = None
        if not quick:
            st = SentenceTransformerEmbedder()
            t0 = time.perf_counter()
            st.embed_batch(["load"])
            st_load_s = round(time.perf_counter() - t0, 2)
            t0 = time.perf_counter()
            st.embed_batch([c.embed_text for c in chunks])
            st.embed_batch(sentences)
            st_raw_s = round(time.perf_counter() - t0, 2)
        # the processes timed below find the exported model in the data dir, as `advisor index` leaves it for later
        # commands; without it the cold ask would time a one-time ONNX export (~9 s here)
        kept = OnnxEmbedder(settings.data_dir / "models").path
        kept.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(embedder.path, kept)
        env = {**os.environ, "ADVISOR_CORPUS_DIR": str(settings.corpus_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}
        noop_s = _wall([str(BIN / "advisor"), "index"], env, runs=1 if quick else 5)
        target = corpus_files(settings.corpus_dir)[0]
        target.write_text(target.read_text() + "\n## Bench\n\nA benchmark paragraph added to one file.\n")
        t0 = time.perf_counter()
        one = writer.build_index()
        one_s = time.perf_counter() - t0
        results["indexing"] = {
            "chunks": report.chunks,
            "sentences": len(sentences),
            "words": len(words),
            "full_index_s": round(full_s, 2),
            "chunks_per_s": round(report.chunks / full_s, 1),
            "raw_embedding_s": round(raw_s, 2),
            "raw_embedding_chunks_s": round(raw_chunks_s, 2),
            "raw_embedding_sentences_s": round(raw_sentences_s, 2),
            "raw_embedding_words_s": round(raw_words_s, 2),
            "raw_embedding_extra_s": round(raw_extra_s, 2),
            "overhead_pct": round(100 * (full_s - raw_s) / raw_s, 1),
            "sentence_transformers_raw_embedding_s": st_raw_s,
            "sentence_transformers_load_s": st_load_s,
            "noop_reindex_process_s": noop_s,
            "one_file_reindex_s": round(one_s, 3),
            "one_file_reindex_embedded": one.embedded,
        }

        # -- answering, warm --
        log("answering: warm latency over the golden questions")
        advisor = Advisor(settings, CorpusIndex(settings, embedder))
        advisor.warm_up()
        _query_latency(advisor, questions[:5])
        results["warm_1x"] = _query_latency(advisor, questions)

        # -- cold start --
        log("cold start: advisor ask as a fresh process; server until first answer")
        results["cold_ask_s"] = _wall([str(BIN / "advisor"), "ask", questions[0]], env, runs=1 if quick else 3)
        results.update(_server_measurements(env, questions))

        # -- baseline --
        log("baseline: LangChain tutorial RAG (1000/200 splitter, Chroma similarity_search k=4)")
        frozen = load_golden([root / "evals" / "test" / "golden.jsonl"])[:limit]  # measured where nothing was tuned
        results["baseline"] = _baseline(corpus, work, embedder, frozen, advisor)

        # -- scaling --
        results["scaling"] = []
        for factor in scales:
            log(f"scaling: {factor}x")
            results["scaling"].append(_scale(corpus, work / f"x{factor}", factor, embedder, questions))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def _server_measurements(env: dict, questions: Sequence[str]) -> dict:
    from gradio_client import Client

    port = free_port()
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(BIN / "advisor"), "serve", "--port", str(port)],
        env={**env, "GRADIO_ANALYTICS_ENABLED": "False"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started(port, proc, "advisor serve")
        client = Client(f"http://127.0.0.1:{port}/", verbose=False, download_files=False)  # the export: not needed
        client.predict(questions[0], [], 5, api_name="/ask")  # question, chat so far, k
        first = time.perf_counter() - t0
        for q in questions:
            client.predict(q, [], 5, api_name="/ask")
        return {"server_first_answer_s": round(first, 2), "server_peak_rss_mb": _rss_peak_mb(proc.pid)}
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _baseline(corpus: Path, work: Path, embedder, golden: list[dict], advisor: Advisor) -> dict:
    """The LangChain tutorial RAG with the same model: 1000/200 character chunks, top-4 similarity search.

    Besides hit@4, our hit within the same context budget: our passages in rank order while their
    characters fit in what the baseline's top 4 hand to the answer step for that question."""
    import chromadb
    from chromadb.config import Settings as ChromaSettings
    from langchain_chroma import Chroma
    from langchain_core.documents import Document
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    from advisor.store.embedding import LangChainEmbeddings

    docs, _ = load_corpus(corpus)
    splitter = RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)
    splits = splitter.split_documents([Document(page_content=d.text, metadata={"source": d.source}) for d in docs])
    client = chromadb.PersistentClient(str(work / "baseline"), settings=ChromaSettings(anonymized_telemetry=False))
    store = Chroma(collection_name="baseline", client=client, embedding_function=LangChainEmbeddings(embedder))
    store.add_documents(splits)
    answerable = [g for g in golden if g.get("answerable", True) and not g.get("history")]
    times, hits, ours, within, budgets = [], 0, 0, 0, []
    for g in answerable:
        t0 = time.perf_counter()
        found = store.similarity_search(g["question"], k=4)
        times.append((time.perf_counter() - t0) * 1000)
        rank = first_hit_rank([d.page_content for d in found], g["evidence"])
        hits += rank is not None
        decision = is_decision(g["question"])  # as the pipeline asks: a decision also gets its advice passage
        mine = [x.chunk.text for x in advisor.retriever.retrieve(g["question"], decision=decision).passages]
        r = first_hit_rank(mine, g["evidence"])
        ours += r is not None and r <= 4
        budgets.append(sum(len(d.page_content) for d in found))
        within += r is not None and sum(map(len, mine[:r])) <= budgets[-1]
    ours_times = []
    for g in answerable:
        t0 = time.perf_counter()
        advisor.retriever.retrieve(g["question"], decision=is_decision(g["question"]))
        ours_times.append((time.perf_counter() - t0) * 1000)
    n = len(answerable)
    return {
        "items": n,
        "baseline_chunks": len(splits),
        "baseline_hit@4": round(hits / n, 3),
        "ours_hit@4": round(ours / n, 3),
        "ours_hit_in_budget": round(within / n, 3),
        "budget_chars_p50": p(budgets, 50),
        "baseline_query_p50_ms": p(times, 50),
        "baseline_query_p95_ms": p(times, 95),
        "ours_retrieve_p50_ms": p(ours_times, 50),
        "ours_retrieve_p95_ms": p(ours_times, 95),
    }


def _scale(corpus: Path, work: Path, factor: int, embedder: OnnxEmbedder, questions: Sequence[str]) -> dict:
    synthetic_corpus(corpus, work / "corpus", factor)
    row: dict = {"factor": factor}
    settings = Settings.from_env({}, corpus_dir=work / "corpus", data_dir=work / "embedded")
    t0 = time.perf_counter()
    report = Advisor(settings, CorpusIndex(settings, embedder)).build_index()
    row.update({"chunks": report.chunks, "embedded_index_s": round(time.perf_counter() - t0, 2)})
    advisor = Advisor(settings, CorpusIndex(settings, embedder))  # queries are never cached
    advisor.warm_up()
    lat = _query_latency(advisor, questions)
    row.update({"embedded_total_p50_ms": lat["total_p50"], "embedded_total_p95_ms": lat["total_p95"]})

    port = free_port()
    proc = subprocess.Popen(
        [str(BIN / "chroma"), "run", "--path", str(work / "server"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        started(port, proc, "chroma run")
        server = Settings.from_env(
            {}, corpus_dir=work / "corpus", data_dir=work / "remote", chroma_url=f"http://127.0.0.1:{port}"
        )
        t0 = time.perf_counter()
        Advisor(server, CorpusIndex(server, embedder)).build_index()
        row["server_index_s"] = round(time.perf_counter() - t0, 2)
        advisor = Advisor(server, CorpusIndex(server, embedder))
        advisor.warm_up()
        lat = _query_latency(advisor, questions)
        row.update({"server_total_p50_ms": lat["total_p50"], "server_total_p95_ms": lat["total_p95"]})
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    return row


def results_markdown(r: dict) -> str:
    """The results as the Markdown table the README quotes."""
    ix, w, b = r["indexing"], r["warm_1x"], r["baseline"]
    lines = [
        "# Benchmark results",
        "",
        f"One run on {r['machine']['cpus']} CPUs, Python {r['machine']['python']}; medians and ratios from that run.",
        "",
        "| measure | value | target |",
        "|---|---|---|",
        f"| full index, {ix['chunks']} chunks + {ix['sentences']} sentences + {ix.get('words', 0)} words "
        f"| {ix['full_index_s']} s "
        f"({ix['chunks_per_s']} chunks/s) | |",
        f"| raw embedding of the same texts (ONNX Runtime, the default; with the extra model's "
        f"{ix.get('raw_embedding_extra_s', 0)} s) | {ix['raw_embedding_s']} s | |",
        f"| raw embedding of the same texts (sentence-transformers) | {_st_raw(ix)} | |",
        f"| indexing overhead over raw embedding | {ix['overhead_pct']}% | ≤ 10% |",
        f"| no-op reindex (process wall) | {ix['noop_reindex_process_s']} s | ≤ 1.5 s |",
        f"| reindex after one file changed (embedded {ix['one_file_reindex_embedded']} chunks) | "
        f"{ix['one_file_reindex_s']} s | |",
        f"| model load: ONNX / sentence-transformers | {r['model_load_s']} s / "
        f"{_seconds(ix['sentence_transformers_load_s'])} | |",
        f"| one-time ONNX export on a fresh install | {_seconds(r['onnx_export_and_load_s'])} | |",
        f"| warm retrieval p50 / p95 | {w['retrieve_p50']} / {w['retrieve_p95']} ms | |",
        f"| warm generation p50 / p95 | {w['generate_p50']} / {w['generate_p95']} ms | |",
        f"| warm full answer p50 / p95 | {w['total_p50']} / {w['total_p95']} ms | ≤ 50 / 150 ms |",
        f"| cold `advisor ask` (process wall) | {r['cold_ask_s']} s | ≤ 4 s |",
        f"| server start to first answer | {r['server_first_answer_s']} s | |",
        f"| server peak RSS after the golden set | {r['server_peak_rss_mb']} MB | ≤ 1024 MB |",
        "",
        "## Against the LangChain tutorial RAG (same model, same run)",
        "",
        "| measure | advisor | baseline | ratio |",
        "|---|---|---|---|",
        f"| hit@4 over {b['items']} single-turn answerable items of the frozen test split | {b['ours_hit@4']} | "
        f"{b['baseline_hit@4']} | {_ratio(b['ours_hit@4'], b['baseline_hit@4'])} |",
        f"| hit within the baseline's context (its top 4: {b['budget_chars_p50']:g} characters, median) | "
        f"{b['ours_hit_in_budget']} | {b['baseline_hit@4']} | {_ratio(b['ours_hit_in_budget'], b['baseline_hit@4'])} |",
        f"| retrieval p50 ms | {b['ours_retrieve_p50_ms']} | {b['baseline_query_p50_ms']} | "
        f"{_ratio(b['ours_retrieve_p50_ms'], b['baseline_query_p50_ms'])} |",
        f"| retrieval p95 ms | {b['ours_retrieve_p95_ms']} | {b['baseline_query_p95_ms']} | "
        f"{_ratio(b['ours_retrieve_p95_ms'], b['baseline_query_p95_ms'])} |",
        "",
        "## Scaling (synthetic editions of the real corpus)",
        "",
        "| size | chunks | index (embedded) s | warm p50 / p95 ms, embedded | index (Chroma server) s "
        "| warm p50 / p95 ms, server |",
        "|---|---|---|---|---|---|",
    ]
    for s in r["scaling"]:
        lines.append(
            f"| {s['factor']}x | {s['chunks']} | {s['embedded_index_s']} | {s['embedded_total_p50_ms']} / "
            f"{s['embedded_total_p95_ms']} | {s['server_index_s']} | {s['server_total_p50_ms']} / "
            f"{s['server_total_p95_ms']} |"
        )
    if len(r["scaling"]) > 1:
        first, last = r["scaling"][0], r["scaling"][-1]
        lines += [
            "",
            f"p50 growth {first['factor']}x → {last['factor']}x: "
            f"{_ratio(last['embedded_total_p50_ms'], first['embedded_total_p50_ms'])} embedded, "
            f"{_ratio(last['server_total_p50_ms'], first['server_total_p50_ms'])} server (target ≤ 2x).",
        ]
    return "\n".join(lines) + "\n"


def _seconds(value: float | None) -> str:
    """A time of the table, or why it is missing (`--quick` skips the sentence-transformers comparison and the
    timing of an export that already exists)."""
    return "not measured (--quick)" if value is None else f"{value} s"


def _st_raw(ix: dict) -> str:
    value = ix["sentence_transformers_raw_embedding_s"]
    return _seconds(value) if value is None else f"{value} s ({_ratio(value, ix['raw_embedding_s'])} of ONNX)"


def _ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}x" if b else "–"
