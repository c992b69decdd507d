"""Benchmark section `embedders`: each known embedding model on the same corpus and golden sets.

For every model of `advisor.store.embedding.MODELS` that is installed: a full index of `corpus/`
on the ONNX backend (after its one-time export, timed apart), then the dev and test golden sets
through `Advisor.ask` (hit@5, MRR, answer_includes_recall), then the warm full-answer latency over
the dev questions asked again. `advisor bench --only embedders`; the default embedder is chosen
from these numbers (test split quality within the warm p50 budget), see the README.
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

from advisor.evaluation.golden import load_golden, run_golden
from advisor.indexing import CorpusIndex
from advisor.pipeline import Advisor
from advisor.settings import DEFAULT_ROOT, Settings
from advisor.store.embedding import MODELS, EmbedderUnavailable, OnnxEmbedder, model_dir

SPLITS = {split: DEFAULT_ROOT / "evals" / split / "golden.jsonl" for split in ("dev", "test")}
METRICS = ("hit@5", "mrr", "answer_includes_recall", "citation_hit")


def _model(name: str, work: Path, user: Settings, log: Callable[[str], None]) -> dict:
    settings = user.with_(
        corpus_dir=DEFAULT_ROOT / "corpus",
        data_dir=work / name / "index",
        chroma_url=None,
        embedding_backend="onnx",
        embedding_model=name,
        models_dir=user.models_path,
    )
    try:
        model_dir(name, user.models_path)
    except EmbedderUnavailable as exc:
        log(f"embedders: {name} skipped ({exc})")
        return {"installed": False}
    exported = user.data_dir / "models" / f"{name}.onnx"
    cache = settings.data_dir / "models"
    cache.mkdir(parents=True)
    t0 = time.perf_counter()
    if exported.exists():
        shutil.copy2(exported, cache / exported.name)
    embedder = OnnxEmbedder(cache, model=name, models_dir=user.models_path)
    embedder.embed_batch(["load"])
    load_s = time.perf_counter() - t0

    log(f"embedders: indexing corpus/ with {name}")
    t0 = time.perf_counter()
    report = CorpusIndex(settings, embedder).update(progress=False)
    index_s = time.perf_counter() - t0

    advisor = Advisor(settings, CorpusIndex(settings, embedder))
    out: dict = {
        "installed": True,
        "dim": MODELS[name].dim,
        "chunks": report.chunks,
        "index_s": round(index_s, 2),
        "export_and_load_s": round(load_s, 2),
    }
    for split, path in SPLITS.items():
        log(f"embedders: {name} on {split}")
        run = run_golden(lambda q, h: advisor.ask(q, h).to_json(), load_golden([path]), split, progress=False)
        summary = run.summary
        out[split] = {m: summary[m] for m in METRICS}
    questions = [i["question"] for i in load_golden([SPLITS["dev"]]) if not i.get("history")]
    totals = sorted(advisor.ask(q).timings_ms["total"] for q in questions)
    embeds = sorted(advisor.retriever.retrieve(q).timings_ms["embed"] for q in questions)
    out["warm_p50_ms"] = round(totals[len(totals) // 2], 2)
    out["query_embed_p50_ms"] = round(embeds[len(embeds) // 2], 2)
    return out


def run(work: Path, log: Callable[[str], None]) -> dict:
    """Every known embedding model that is installed, measured on the same corpus and golden sets."""
    user = Settings.from_env()
    return {name: _model(name, work, user, log) for name in MODELS}


def markdown(results: dict) -> str:
    """The README table: model, hit@5 / MRR on dev and test, index time, warm p50."""
    rows = [
        "| model | dim | dev hit@5 / MRR | test hit@5 / MRR | test answer_includes | index corpus/ | "
        "warm p50 (query embed p50) |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, r in results.items():
        if not r.get("installed"):
            rows.append(f"| {name} | | not installed (`advisor models install {name}`) | | | | |")
            continue
        dev, test = r["dev"], r["test"]
        rows.append(
            f"| {name} | {r['dim']} | {dev['hit@5']:.3f} / {dev['mrr']:.3f} | {test['hit@5']:.3f} / "
            f"{test['mrr']:.3f} | {test['answer_includes_recall']:.3f} | {r['index_s']:.1f} s ({r['chunks']} chunks) | "
            f"{r['warm_p50_ms']:.1f} ms ({r['query_embed_p50_ms']:.1f} ms) |"
        )
    return "## Embedding models\n\n" + "\n".join(rows) + "\n"
