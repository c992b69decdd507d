"""All configuration in one place: a frozen `Settings`, read from `ADVISOR_*` environment variables.

No other module reads the environment. Defaults work out of the box from the project's root.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path

ENV_PREFIX = "ADVISOR_"
DEFAULT_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MAX_FILE_MB = 5


@dataclass(frozen=True)
class Settings:
    """Paths, models and knobs of the advisor; `from_env()` builds one from the environment."""

    corpus_dir: Path = DEFAULT_ROOT / "corpus"
    data_dir: Path = DEFAULT_ROOT / "index"
    chroma_url: str | None = None
    collection: str = "advisor"
    records_url: str | None = None
    writer_id: str | None = None  # who a writer is on a shared Chroma (default: an id kept in the data dir)
    read_only: bool = False
    poll_seconds: int = 2
    embedding_backend: str = "onnx"
    embedding_model: str = "all-MiniLM-L6-v2"
    embedding_batch_size: int = 32
    extra_embedding_model: str = "multilingual-e5-small"  # a second dense ranking fused with the first ("": off)
    chunk_tokens: int = 180
    chunk_overlap: int = 35
    k: int = 5
    candidates: int = 20
    context_tokens: int = 1000
    generator: str = "extractive"
    models_dir: Path | None = None
    llm: str | None = None
    llm_base_url: str | None = None
    llm_connect_timeout: float = 5.0
    llm_first_token_timeout: float = 60.0
    llm_timeout: float = 180.0
    llm_load_timeout: float = 120.0
    llm_context: int = 4096
    llm_passages: int = 4
    llm_max_tokens: int = 400
    llm_threads: int = 0
    llm_unsupported: str = "drop"
    llm_quote_first: int = 2  # source lines quoted before the model's sentences (the answer first); 0: none
    llm_support_threshold: float = 0.61  # evals/support_threshold.json (calibrate_support on evals/dev)
    auth: str | None = None
    operators: str | None = None  # user names (comma-separated) who may reindex from the page
    host: str = "127.0.0.1"
    port: int = 7860
    max_file_mb: int = DEFAULT_MAX_FILE_MB  # corpus files above this size are skipped with a warning; 0: no limit

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from `ADVISOR_<FIELD>` variables (e.g. ADVISOR_CHROMA_URL), then `overrides`."""
        env = os.environ if environ is None else environ
        values: dict[str, object] = {}
        for f in fields(cls):
            raw = env.get(ENV_PREFIX + f.name.upper())
            if raw is None or raw == "":
                continue
            values[f.name] = _coerce(f.name, raw, cls.__dataclass_fields__[f.name].default)
        if values.get("llm") and "generator" not in values:
            values["generator"] = "llm"  # ADVISOR_LLM alone turns LLM answers on
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "read_only" not in values and values.get("chroma_url") and "corpus_dir" not in values:
            values["read_only"] = True  # a stateless reader of a shared index unless told otherwise
        return cls(**values)

    def with_(self, **changes: object) -> Settings:
        """A copy with some fields changed."""
        return replace(self, **changes)

    @property
    def chroma_dir(self) -> Path:
        return self.data_dir / "chroma"

    @property
    def models_path(self) -> Path:
        """Installed model weights (`advisor models install`): ADVISOR_MODELS_DIR, else <data_dir>/models."""
        return self.models_dir or self.data_dir / "models"

    @property
    def tiktoken_cache_dir(self) -> Path:
        return self.data_dir / "tiktoken"

    @property
    def feedback_file(self) -> Path:
        return self.data_dir / "feedback.jsonl"

    def fingerprint(self) -> dict[str, object]:
        """What the stored vectors depend on: a change here forces a full rebuild."""
        from advisor.text import STORAGE_VERSION

        # onnx and sentence-transformers run the same model to the same vectors: not a rebuild.
        key: dict[str, object] = {
            "embedding_model": "hash-bow" if self.embedding_backend == "hash" else self.embedding_model,
            "chunk_tokens": self.chunk_tokens,
            "chunk_overlap": self.chunk_overlap,
            "chunker_version": STORAGE_VERSION,  # the stored key keeps its old name: no rebuild
        }
        if self.extra_embedding_model:  # its chunk vectors are stored with the chunks too
            key["extra_embedding_model"] = self.extra_embedding_model
        return key


def _coerce(name: str, raw: str, default: object) -> object:
    """Turn an environment string into the type of the field's default; one-line error if impossible."""
    if isinstance(default, Path) or name.endswith("_dir"):
        return Path(raw).expanduser().resolve()
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    if isinstance(default, int):
        try:
            return int(raw)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{name.upper()} must be an integer, got {raw!r}") from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a number, got {raw!r}") from None
    if name == "extra_embedding_model" and raw.lower() in {"off", "none"}:
        return ""  # an empty variable means "the default", so switching the model off takes a word
    return raw
