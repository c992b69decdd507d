"""advisor: a local, cited career advisor built on retrieval-augmented generation.

Two pipelines, one folder each: `ingest` (load, chunk) and `store` (embedding, Chroma, records,
snapshot) build the index; `retrieval` and `answer` (condense, judge, compose, citations) answer
from it through `advisor.Advisor`. `apps` holds the CLI and the browser UI, `evaluation` the golden
Q&A harness and the benchmarks. The values passed between stages live in `schema`.
"""

__all__ = ["AdvisorRetriever", "answer_chain"]


def __getattr__(name: str):
    """`advisor.AdvisorRetriever` and `advisor.answer_chain`, imported on first use (no heavy import here)."""
    if name in __all__:
        from advisor import chains

        return getattr(chains, name)
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
