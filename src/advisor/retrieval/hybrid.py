"""The hybrid retriever: dense search in Chroma plus BM25 (bm25s) over the same chunks, fused
(`retrieval.fusion`), near-duplicates dropped, and the context kept inside a token budget.

BM25 and sentence vectors come from the snapshot of the published index version. The retriever polls
the version pointer (`ADVISOR_POLL_SECONDS`) and loads a new version in the background while the old
one keeps serving, so a reindex by any writer is picked up live and no request waits for it.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Literal, Protocol

import numpy as np

from advisor.retrieval.fusion import (
    asked_section,
    cover_sides,
    cover_subject,
    name_pattern,
    near_duplicate,
    prefer_section,
    promote_advice,
    promote_one_of,
    rrf,
    shingles,
    subject_queries,
    zfuse,
)
from advisor.schema import Passage, Retrieval
from advisor.store.chroma import Pointer
from advisor.store.embedding import ExtraEmbedder, cached_vectors
from advisor.store.reader import IndexReader
from advisor.store.snapshot import Snapshot
from advisor.text import CONDITION, career_start, count_tokens, is_advice, spelled_in_full
from advisor.timing import ms_since
from advisor.vectors import unit_rows

Mode = Literal["hybrid", "dense", "bm25"]
# Score fusion with an extra dense model: weights of the main dense, BM25 and extra dense z-scores
# (chosen on evals/dev: BM25 at 0.5 gave dev hit@5 0.957 / MRR 0.824 against 0.971 / 0.792 at 1.0).
Z_WEIGHTS = (1.0, 0.5, 1.0)
log = logging.getLogger(__name__)


class _Loaded:
    """Snapshot plus structures derived from it (BM25 index, chunk vectors, vocabulary)."""

    def __init__(self, snapshot: Snapshot, stamp: str, dense: tuple[np.ndarray, np.ndarray] | None = None) -> None:
        import bm25s

        logging.getLogger("bm25s").setLevel(logging.WARNING)  # bm25s sets DEBUG on import

        self.snapshot = snapshot
        self.stamp = stamp
        self.uid_to_idx = {uid: i for i, uid in enumerate(snapshot.uids)}
        self.bm25 = bm25s.BM25()
        tokens = bm25s.tokenize(
            [c.embed_text for c in snapshot.chunks], stopwords="en", stemmer=_stemmer(), show_progress=False
        )
        self.bm25.index(tokens, show_progress=False)
        self.vocab = set(self.bm25.vocab_dict)
        self.chunk_tokens = [count_tokens(c.text) for c in snapshot.chunks]
        self.shingles = [shingles(c.text) for c in snapshot.chunks]
        self.chunk_vectors = _chunk_vectors(snapshot)
        self.dense = dense  # with an extra model: (main vectors, extra vectors) of every chunk, in order
        by_chunk: dict[int, list[int]] = {}
        for sent_idx, chunk_idx in enumerate(snapshot.sentence_chunk.tolist()):
            by_chunk.setdefault(chunk_idx, []).append(sent_idx)
        self.sentences = {
            c.id: (
                [snapshot.sentences[j] for j in by_chunk.get(i, [])],
                snapshot.sentence_vectors[by_chunk.get(i, [])],
            )
            for i, c in enumerate(snapshot.chunks)
        }
        self._words: tuple[list[str], np.ndarray] | None = None
        self._words_lock = threading.Lock()

    def word_vectors(self, embed: Callable[[Sequence[str]], np.ndarray]) -> tuple[list[str], np.ndarray]:
        """Every word of the corpus and its unit vector, embedded (or read from a cache) once per version, on
        first use."""
        with self._words_lock:
            if self._words is None:
                words = corpus_words(c.embed_text for c in self.snapshot.chunks)
                self._words = (words, _unit(embed(words)) if words else np.zeros((0, 1), dtype=np.float32))
            return self._words

    @functools.cached_property
    def _advice_rows(self) -> list[int]:
        """The sentences that decide for someone ("Choose X if you want Y", "If you're early in your career,
        ..."), outside passages set aside as not career information; found once per loaded version."""
        snap = self.snapshot
        return [
            j
            for j, (sentence, chunk) in enumerate(zip(snap.sentences, snap.sentence_chunk.tolist(), strict=True))
            if is_advice(sentence) and not sentence.rstrip().endswith("?") and not snap.chunks[chunk].set_aside
        ]

    @property
    def advice(self) -> tuple[np.ndarray, np.ndarray]:
        """The chunk index and vector of every advice sentence (`_advice_rows`)."""
        rows = self._advice_rows
        return self.snapshot.sentence_chunk[rows], self.snapshot.sentence_vectors[rows]

    @functools.cached_property
    def starting_advice(self) -> list[int]:
        """The chunks holding advice whose condition is the start of a career ("If you're early in your career")."""
        snap = self.snapshot
        return sorted(
            {int(snap.sentence_chunk[j]) for j in self._advice_rows if _starting_condition(snap.sentences[j])}
        )

    @functools.cached_property
    def heading_paths(self) -> dict[str, list[tuple[int, tuple[str, ...]]]]:
        """Per document, each chunk's heading path ("Senior X > Common gaps": two headings); found once per version."""
        out: dict[str, list[tuple[int, tuple[str, ...]]]] = {}
        for i, c in enumerate(self.snapshot.chunks):
            if c.section and not c.set_aside:
                out.setdefault(c.source, []).append((i, tuple(c.section.split(" > "))))
        return out

    def section_asked(self, terms: set[str]) -> tuple[Callable[[int], bool | None], Callable[[str], list[int]]]:
        """For `prefer_section`: whether a chunk sits under the heading the question's stems name in its document
        (`asked_section` over the headings of one depth that label sections, not a FAQ's questions, the shallowest
        depth where one is named), False under another such heading of that depth sharing a word with it, else
        None; and the named heading's chunks of a document."""
        named: dict[str, tuple[int, tuple[str, ...]] | None] = {}

        def heading(source: str) -> tuple[int, tuple[str, ...]] | None:
            if source not in named:
                named[source] = None
                paths = [p for _, p in self.heading_paths.get(source, [])]
                for depth in range(1, max((len(p) for p in paths), default=0) + 1):
                    heads = list(dict.fromkeys(p[:depth] for p in paths if len(p) >= depth and _label(p[depth - 1])))
                    at = asked_section(terms, [_stems(h[-1]) for h in heads]) if len(heads) > 2 else None
                    if at is not None:
                        named[source] = (depth, heads[at])
                        break
            return named[source]

        def asked(i: int) -> bool | None:
            c = self.snapshot.chunks[i]
            head = heading(c.source)
            if head is None or not c.section or c.set_aside:
                return None
            depth, path = head
            own = tuple(c.section.split(" > "))
            if own[:depth] == path:
                return True
            parallel = len(own) >= depth and _label(own[depth - 1]) and _stems(own[depth - 1]) & _stems(path[-1])
            return False if parallel else None

        def pool(source: str) -> list[int]:
            head = heading(source)
            if head is None:
                return []
            return [i for i, p in self.heading_paths[source] if p[: head[0]] == head[1]]

        return asked, pool


def _label(heading: str) -> bool:
    """A heading that labels a section ("Senior X"), not a FAQ's question: questions are no parallel sections."""
    return not heading.rstrip().endswith("?")


@functools.cache
def _stems(heading: str) -> frozenset[str]:
    return frozenset(_query_terms(heading))


def _starting_condition(sentence: str) -> bool:
    """A sentence whose condition is the start of a career ("If you're early in your career, …") (pure)."""
    m = CONDITION.search(sentence)
    return m is not None and career_start(next((g for g in m.groups() if g), ""))


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def _chunk_vectors(snap: Snapshot) -> np.ndarray:
    """Mean of each chunk's sentence vectors, normalised: a cheap local cosine for passage scores."""
    dim = snap.sentence_vectors.shape[1] if snap.sentence_vectors.ndim == 2 else 0
    out = np.zeros((len(snap.chunks), dim), dtype=np.float32)
    np.add.at(out, snap.sentence_chunk, snap.sentence_vectors)
    return unit_rows(out)


def _unit(m: np.ndarray) -> np.ndarray:
    return unit_rows(np.asarray(m, dtype=np.float32))


class Retriever(Protocol):
    """Finds the passages for a (standalone) question, with the signals the judge reads."""

    def retrieve(
        self, query: str, k: int | None = None, mode: Mode = "hybrid", decision: bool = False
    ) -> Retrieval: ...

    def sentences(self, chunk_id: str) -> tuple[list[str], np.ndarray]: ...


class HybridRetriever:
    """Dense + BM25 retrieval over one published index; it owns which version it serves."""

    def __init__(
        self,
        index: IndexReader,
        subjects: Callable[[str], list[str]] | None = None,
        extra: ExtraEmbedder | None = None,
        authored: Callable[[str], frozenset[str]] | None = None,
    ) -> None:
        self.index = index
        self.settings = index.settings
        self.extra = extra or index.extra
        self.subjects = subjects or (lambda text: [])
        self.authored = authored or (lambda text: frozenset())
        self._loaded: _Loaded | None = None
        self.serving: Pointer | None = None  # the version whose snapshot is loaded (and dense search asks)
        self._lock = threading.Lock()
        self._reloading: threading.Thread | None = None

    def _state(self) -> _Loaded:
        """The loaded version; a newer published one is loaded in the background meanwhile."""
        pointer = self.index.published()
        with self._lock:
            if self._loaded is None:
                self._swap(self._load(pointer), pointer)
            elif self._loaded.stamp != pointer.stamp and self._reloading is None:
                self._reloading = threading.Thread(target=self._reload, args=(pointer,), name="reload", daemon=True)
                self._reloading.start()
            return self._loaded

    def _load(self, pointer: Pointer) -> _Loaded:
        """The snapshot of `pointer` and, with an extra model, every chunk's two vectors, both read from the
        collection (the writer stored the extra model's with each chunk). A chunk without its extra vector
        (an index built before that model was stored) is embedded here, in memory: reads never write."""
        snap = self.index.snapshot(pointer)
        if self.extra is None:
            return _Loaded(snap, pointer.stamp)
        stored, stored_extra = self.index.chunk_vectors(pointer.active)
        main = np.stack([stored[u] for u in snap.uids]) if snap.uids else np.zeros((0, self.index.embedder.dim))
        missing = [i for i, u in enumerate(snap.uids) if u not in stored_extra]
        if missing:
            log.warning(
                "%d of %d chunks have no %s vectors stored: embedding them now (`advisor index --full` stores them)",
                len(missing),
                len(snap.uids),
                self.extra.name,
            )
            fresh = self.extra.embed_batch([snap.chunks[i].embed_text for i in missing])
            stored_extra = {**stored_extra, **{snap.uids[i]: v for i, v in zip(missing, fresh, strict=True)}}
        extra = np.stack([stored_extra[u] for u in snap.uids]) if snap.uids else np.zeros((0, self.extra.dim))
        return _Loaded(snap, pointer.stamp, (_unit(main), _unit(extra)))

    def _swap(self, loaded: _Loaded, pointer: Pointer) -> None:
        self._loaded = loaded
        self.serving = pointer

    def _reload(self, pointer: Pointer) -> None:
        try:
            loaded = self._load(pointer)
        except Exception as exc:  # keep serving the version we have
            log.warning("could not load index version %s (%s); still serving the previous one", pointer.version, exc)
        else:
            with self._lock:
                self._swap(loaded, pointer)
        finally:
            self._reloading = None

    def refresh(self) -> None:
        """Load the published version now (after this process wrote it)."""
        pointer = self.index.published(refresh=True)
        if self._loaded is None or self._loaded.stamp != pointer.stamp:
            loaded = self._load(pointer)
            with self._lock:
                self._swap(loaded, pointer)

    @property
    def snapshot(self) -> Snapshot:
        return self._state().snapshot

    def sentences(self, chunk_id: str) -> tuple[list[str], np.ndarray]:
        """A chunk's sentences and their precomputed unit vectors."""
        return self._state().sentences.get(chunk_id, ([], np.zeros((0, self.index.embedder.dim), dtype=np.float32)))

    def _words_path(self) -> Path:
        model = re.sub(r"[^\w.-]", "_", str(getattr(self.index.embedder, "name", "model")))
        return self.settings.data_dir / f"vectors-words-{model}.npz"  # by word: a new version embeds only new words

    def cache_words(self, changed: bool = True) -> None:
        """The writer's step after indexing: embed the corpus words the cache lacks and write it, so a reader
        finds every word's vector without embedding it (and reads never write). Nothing to do when the
        corpus did not change and the cache exists."""
        path = self._words_path()
        if not changed and path.exists():
            return
        snap = self.index.snapshot(self.index.published(refresh=True))
        words = corpus_words(c.embed_text for c in snap.chunks)
        if words:
            cached_vectors(path, words, words, self.index.embedder.embed_batch, write=True)

    def nearest_words(self, words: Sequence[str]) -> list[tuple[str, float]]:
        """The corpus word closest in meaning to each of `words`, and the cosine of their embeddings
        ("stove": "oven"); ("", 0.0) when the corpus has no words."""
        if not words:
            return []
        embed = self.index.embedder.embed_batch
        path = self._words_path()  # written by the writer (`cache_words`); a reader embeds what it lacks in memory
        vocab, vectors = self._state().word_vectors(
            lambda vocab: cached_vectors(path, vocab, vocab, embed, write=False)
        )
        if not vocab:
            return [("", 0.0) for _ in words]
        known = set(vocab)  # a word the corpus uses as written is its own neighbour ("well-known"): no embedding
        fresh = list(dict.fromkeys(w for w in words if w not in known))
        found: dict[str, tuple[str, float]] = {w: (w, 1.0) for w in words if w in known}
        if fresh:
            sims = _unit(embed(fresh)) @ vectors.T
            best = sims.argmax(axis=1)
            found |= {
                w: (vocab[int(b)], float(sims[i, int(b)])) for i, (w, b) in enumerate(zip(fresh, best, strict=True))
            }
        return [found[w] for w in words]

    def closest(self, texts: Sequence[str]) -> list[float]:
        """Each text's best cosine to any chunk by the extra dense model, asked as a question (the judge's
        second opinion on what the corpus supports); empty without an extra model."""
        state = self._state()
        if self.extra is None or state.dense is None or not texts:
            return []
        return (state.dense[1] @ _unit(self.extra.embed_queries(list(texts))).T).max(axis=0).tolist()

    def _dense(self, vectors: np.ndarray, state: _Loaded, n: int) -> list[list[int]]:
        """Chroma's ranking (chunk indices) for each query vector, in one request."""
        version = self.serving.active if self.serving else None
        found = self.index.dense_search(vectors, min(n, len(state.snapshot.chunks)), version)
        return [[state.uid_to_idx[u] for u in ids if u in state.uid_to_idx] for ids in found]

    @staticmethod
    def _bm25(query: str, state: _Loaded, n: int) -> list[int]:
        terms = _query_terms(query)
        if not terms:
            return []
        docs, scores = state.bm25.retrieve([terms], k=min(n, len(state.snapshot.chunks)), show_progress=False)
        return [int(d) for d, s in zip(docs[0], scores[0], strict=True) if s > 0]

    def retrieve(self, query: str, k: int | None = None, mode: Mode = "hybrid", decision: bool = False) -> Retrieval:
        """The best `k` passages for `query` (fewer if the context token budget is reached). For a
        `decision` ("should I ...?") whose top `k` holds no advice sentence, the passage of the one closest
        to it, from the documents it found, joins them (`promote_advice`): the sentence that decides is
        often worded unlike the person's situation."""
        k = k or self.settings.k
        state = self._state()
        n = self.settings.candidates
        timings: dict[str, float] = {}

        asked = self.subjects(query)  # the corpus's subjects the question names, read once
        focused = subject_queries(query, asked) if mode == "hybrid" else []
        t0 = time.perf_counter()
        # both models read the question with its short forms written out, as BM25 does ("comp": "compensation")
        vectors = self.index.embedder.embed_batch([spelled_in_full(query), *focused])
        qvec = vectors[0]
        timings["embed"] = ms_since(t0)

        queries = [query, *focused]
        fused_by_scores = mode == "hybrid" and state.dense is not None
        t0 = time.perf_counter()
        if fused_by_scores:  # exact in memory: every chunk's score is needed, not Chroma's top n
            main, extra = state.dense
            extra_q = self.extra.embed_queries([spelled_in_full(q) for q in queries])
            dense_scores = [(main @ v, extra @ e) for v, e in zip(vectors, extra_q, strict=True)]
        else:
            dense = self._dense(vectors, state, n) if mode in ("hybrid", "dense") else [[] for _ in vectors]
        timings["dense"] = ms_since(t0)

        t0 = time.perf_counter()
        query_terms = _query_terms(query)
        if fused_by_scores:
            bm25_scores = [_bm25_scores(q, state) for q in queries]
        else:
            bm25 = [self._bm25(q, state, n) if mode in ("hybrid", "bm25") else [] for q in queries]
        timings["bm25"] = ms_since(t0)

        t0 = time.perf_counter()
        named, pool = state.section_asked(set(query_terms) if mode == "hybrid" and not focused else set())
        if mode == "hybrid":
            if fused_by_scores:
                ranked = [zfuse([d, b, e], Z_WEIGHTS)[:n] for (d, e), b in zip(dense_scores, bm25_scores, strict=True)]
            else:
                ranked = [rrf([d, b]) for d, b in zip(dense, bm25, strict=True)]
            fused = ranked[0]
            if focused:  # a comparison: each side's best passage makes the top k
                names = [name_pattern(s) for s in asked[:2]]
                fused = cover_sides(fused, ranked[1:], names, lambda i: state.snapshot.chunks[i].embed_text, k)
            if len(asked) == 1:  # one subject: a top k about another one only gives way to a passage about it

                def sections(i: int) -> list[str]:  # a passage set aside (an advert) is about no one
                    c = state.snapshot.chunks[i]
                    return [] if c.set_aside else self.subjects(c.section or "")

                fused = cover_subject(fused, asked[0], sections, k)
            # among a document's parallel sections ("Senior X", "Staff X"), the named one first (comparisons name none)
            fused = prefer_section(fused, named, lambda i: state.snapshot.chunks[i].source, pool, k)
            # a question naming a document's author or publisher asks what that document says: its passages first
            authored = self.authored(query)
            if authored:
                fused = sorted(fused, key=lambda i: state.snapshot.chunks[i].source not in authored)
            chunks, vectors = state.advice if decision else ((), ())
            # only the documents the question found: another career's advice never decides this one
            sources = {state.snapshot.chunks[i].source for i in fused[:k]}
            own = np.array([state.snapshot.chunks[int(c)].source in sources for c in chunks], dtype=bool)
            if own.any():
                fused = promote_advice(fused, chunks[own], vectors[own] @ qvec, k)
            if decision and career_start(query):  # a person starting out: the documents' advice for them joins
                # from the documents of the next passages too: few documents hold such advice
                near = sources | {state.snapshot.chunks[i].source for i in fused[: 2 * k]}
                starting = [c for c in state.starting_advice if state.snapshot.chunks[c].source in near]
                fused = promote_one_of(fused, starting, [float(state.chunk_vectors[c] @ qvec) for c in starting], k)
        else:
            fused = dense[0] or bm25[0]
        sims = state.chunk_vectors @ qvec if len(state.chunk_vectors) else np.zeros(0)
        passages: list[Passage] = []
        kept: list[int] = []
        budget = self.settings.context_tokens
        for idx in fused:
            if len(passages) >= k:
                break
            if any(near_duplicate(state.shingles[idx], state.shingles[j]) for j in kept):
                continue
            if passages and state.chunk_tokens[idx] > budget:
                continue
            budget -= state.chunk_tokens[idx]
            kept.append(idx)
            passages.append(
                Passage(state.snapshot.chunks[idx], round(float(sims[idx]), 4), len(passages) + 1, named(idx))
            )
        counted = [t for t in query_terms if t not in _conjunction_stems()]  # BM25 still weighs "while"
        known = [t for t in counted if t in state.vocab]
        unknown = unknown_words(query, state.vocab)
        timings["fuse"] = ms_since(t0)
        return Retrieval(
            query=query,
            passages=passages,
            query_vector=qvec,
            top_dense=float(sims.max()) if len(sims) else 0.0,
            term_coverage=len(known) / len(counted) if counted else 1.0,
            unknown_terms=unknown,
            timings_ms=timings,
            nearest_chunks=[state.snapshot.chunks[int(i)].id for i in np.argsort(-sims, kind="stable")[:k]],
        )


def _bm25_scores(query: str, state: _Loaded) -> np.ndarray:
    """BM25 score of every chunk for `query` (zeros when it has no content word)."""
    terms = _query_terms(query)
    if not terms:
        return np.zeros(len(state.snapshot.chunks), dtype=np.float32)
    return np.asarray(state.bm25.get_scores(terms), dtype=np.float32)


# Words that carry no topic: a question's frame, not its subject.
QUESTION_WORDS = frozenset(
    """
    how much many do does did what which who whom whose when where why should would could can
    will i me my mine you your we us our they them their it its is are was were be been being am
    the a an of in on at to for from with and or but vs versus about tell give get know want
    like more most less any some all this that these those there here please just also really
    very so if than then one ones thing things someone something
    """.split()
    # chat English: how a question is typed, not what it is about ("tbh", "gonna", "ive")
    + """
    tbh ngl imo imho idk lol btw gonna wanna gotta kinda sorta nah yeah yep yup tho thru bc cuz coz pls plz
    ive im id dont doesnt cant wont isnt arent hey hi ok okay ur ya
    anyway anyways actually basically literally seriously rn
    """.split()
    # how long something goes on, whatever it is ("how long does the first stage last?")
    + ["last", "lasts"]
)


def _query_terms(query: str) -> list[str]:
    """The query's content words, stemmed as BM25 stems them."""
    import bm25s
    from bm25s.stopwords import STOPWORDS_EN

    stop = list(QUESTION_WORDS | set(STOPWORDS_EN))
    query = spelled_in_full(query)
    return bm25s.tokenize(query, stopwords=stop, stemmer=_stemmer(), return_ids=False, show_progress=False)[0]


def corpus_words(texts: Iterable[str]) -> list[str]:
    """The distinct content words of `texts`, lower case, in order of first use (pure)."""
    words = (w for t in texts for w in re.findall(r"[a-z][a-z'-]*[a-z]", t.lower()))
    return [w for w in dict.fromkeys(words) if len(w) > 2 and w not in QUESTION_WORDS]


def unknown_words(query: str, vocab: set[str]) -> list[str]:
    """The query's content words (as typed) whose stem never occurs in the corpus; a contraction or
    possessive is its first word ("I'm", "it's": function words; "Acme's": "acme")."""
    stemmer = _stemmer()
    words = [w.split("'")[0] for w in re.findall(r"[a-z][a-z0-9'-]*", spelled_in_full(query).lower())]
    return [
        w
        for w in dict.fromkeys(words)
        if w not in QUESTION_WORDS | CONJUNCTIONS | _CONTRACTED and stemmer.stemWord(w) not in vocab and len(w) > 2
    ]


# words that join clauses: no corpus lacks them ("Once I'm at staff, …"), though BM25 may weigh them
CONJUNCTIONS = frozenset("once unless until whenever although though whereas because since while".split())
_CONTRACTED = frozenset("don doesn didn isn aren wasn weren won can couldn shouldn wouldn hasn haven let".split())


@functools.cache
def _conjunction_stems() -> frozenset[str]:
    return frozenset(_stemmer().stemWords(sorted(CONJUNCTIONS)))
