"""advisor: a local, cited career advisor built on retrieval-augmented generation.

Two pipelines: `ingest` (load, chunk, derive the profile) feeds `indexing`, which builds the versioned
index in `store`; `retrieval` and `answer` (condense, judge, compose) answer from it through the facade
`advisor.Advisor` (`pipeline.py`), the only thing the faces in `apps` (CLI, browser UI) use. `text`,
`profile`, `screen` and `quantities` hold what both pipelines share, `schema` the values passed between
stages, `settings` the configuration; `evaluation` holds the golden Q&A harness and the benchmarks.
"""

__all__ = ["Advisor", "AdvisorRetriever", "answer_chain"]

_HOMES = {"Advisor": "advisor.pipeline", "AdvisorRetriever": "advisor.chains", "answer_chain": "advisor.chains"}


def __getattr__(name: str):
    """`advisor.Advisor`, `advisor.AdvisorRetriever` and `advisor.answer_chain`, imported on first use
    (importing `advisor` loads nothing heavy)."""
    if name in _HOMES:
        import importlib

        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'advisor' has no attribute {name!r}")
