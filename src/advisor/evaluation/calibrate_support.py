"""Calibrate the support threshold of the LLM sentence checks on evals/dev (never on test).

A drafted sentence counts as supported when its vector is close enough to the best sentence of a passage
it cites. Unsupported pairs: each dev item's evidence phrases against the sentences of passages retrieved
for *other* dev items that hold none of its evidence (on-topic text of the same corpus that does not say
it). The threshold is the 95th percentile of those scores, so about 5% of unsupported sentences would
pass; the recall of supported pairs (evidence phrase vs the passage holding it) is reported beside it.
Evidence phrases are verbatim, so real paraphrases score lower than these positives: the threshold is
set by the negatives only.

    python -m advisor.evaluation.calibrate_support [--golden FILE] [--out evals/support_threshold.json]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from advisor.evaluation.golden import contains, load_golden
from advisor.pipeline import Advisor
from advisor.settings import DEFAULT_ROOT, Settings

FALSE_ACCEPT = 0.05


def calibrate(advisor: Advisor, items: list[dict], false_accept: float = FALSE_ACCEPT) -> dict:
    """Scores of supported and unsupported (phrase, passage) pairs and the threshold they give."""
    answerable = [i for i in items if i.get("answerable", True) and i.get("evidence")]
    retrieved = {i["id"]: advisor.retriever.retrieve(i["question"]).passages for i in answerable}
    positives: list[float] = []
    negatives: list[float] = []
    for item in answerable:
        phrases = item["evidence"]
        vectors = advisor.index.embedder.embed_batch(phrases)
        for phrase, vec in zip(phrases, vectors, strict=True):
            for p in retrieved[item["id"]]:
                if contains(p.chunk.text, phrase):
                    positives.append(_best(advisor, p.chunk.id, vec))
        for other in answerable:
            if other["id"] == item["id"]:
                continue
            for p in retrieved[other["id"]][:2]:
                if not any(contains(p.chunk.text, e) for e in phrases):
                    negatives.extend(_best(advisor, p.chunk.id, v) for v in vectors)
    threshold = round(float(np.quantile(negatives, 1 - false_accept)), 2)
    return {
        "threshold": threshold,
        "false_accept_rate": round(float(np.mean(np.asarray(negatives) >= threshold)), 3),
        "supported_recall": round(float(np.mean(np.asarray(positives) >= threshold)), 3),
        "supported_pairs": len(positives),
        "unsupported_pairs": len(negatives),
        "method": "95th percentile of evidence-vs-other-items'-passages similarity on evals/dev",
        "embedding_model": advisor.index.embedder.name,
    }


def _best(advisor: Advisor, chunk_id: str, vector: np.ndarray) -> float:
    _, vectors = advisor.retriever.sentences(chunk_id)
    return float(np.max(vectors @ vector)) if len(vectors) else 0.0


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="calibrate_support")
    p.add_argument("--golden", type=Path, default=DEFAULT_ROOT / "evals" / "dev" / "golden.jsonl")
    p.add_argument("--out", type=Path, default=DEFAULT_ROOT / "evals" / "support_threshold.json")
    args = p.parse_args(argv)
    result = calibrate(Advisor(Settings.from_env()), load_golden([args.golden]))
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
