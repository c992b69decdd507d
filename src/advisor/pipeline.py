"""`Advisor.ask(question, history) -> Answer`: the one entry point of the CLI, the UI and the evals.

Question + history -> condense -> retrieve -> judge answerability -> compose (cited) -> `Answer`.
Each step is a small protocol (`Condenser`, `Retriever`, `Judge`, `Generator`) with a rule-based
default; pass another implementation to slot a model-backed one in. Constructing an `Advisor` is
cheap: the index, the model and the snapshot load on first use.
"""

from __future__ import annotations

import contextlib
import json
import re
import threading
import time
import unicodedata
from collections.abc import Iterator, Mapping, Sequence

import numpy as np

from advisor.answer.compose import Generator, make_generator
from advisor.answer.condense import Condenser, RuleCondenser
from advisor.answer.intake import REASONS as INTAKE_REASONS
from advisor.answer.intake import intake_verdict
from advisor.answer.intent import is_decision
from advisor.answer.judge import Judge, RuleJudge
from advisor.indexing import CorpusIndex, profile_of, read_document
from advisor.profile import PROFILE, authored_sources, load_profile, measure_in, subjects_in
from advisor.retrieval import HybridRetriever, Mode, Retriever
from advisor.schema import Answer, Composition, IndexedDocument, IndexReport, Profile, Turn, Verdict
from advisor.settings import Settings
from advisor.store.reader import IndexBusy, IndexUnavailable
from advisor.text import cited_numbers, drop_invalid_markers, neutral_markers
from advisor.timing import ms_since

__all__ = [
    "HISTORY_SHAPE",
    "INTAKE_REASONS",
    "Advisor",
    "IndexBusy",
    "IndexReport",
    "IndexUnavailable",
    "InvalidHistory",
    "InvalidQuestion",
    "clean_question",
    "parse_history",
]

MAX_QUESTION_CHARS = 2000
# What earlier turns may hold: the question is capped when asked, but a history arrives whole (a browser's
# store, an API caller's chat, a --history file); condensing reads every user turn, so one user with a
# megabyte of history held an answer slot for an hour. Longer turns are cut, older turns dropped.
MAX_TURN_CHARS = 4000  # one earlier turn (an answer is longer than a question)
MAX_HISTORY_CHARS = 40_000  # all earlier turns together, the most recent kept
MAX_HISTORY_TURNS = 100


class InvalidQuestion(ValueError):
    """Bad input to `ask`: a question that cannot be asked or a malformed history; the message is for users."""


class InvalidHistory(InvalidQuestion):
    """A history that is not a list of {"role": "user"|"assistant", "content": str} turns."""


HISTORY_SHAPE = '{"role": "user"|"assistant", "content": "..."}'


def valid_unicode(text: str) -> bool:
    """False when `text` holds a lone surrogate (invalid UTF-8 in argv, or a bad escape in JSON)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def story_notice(verdict: Verdict, refused: bool) -> list[str]:
    """What an answer says of the places and employers of the person's story that no passage mentions: the
    question is answered, and the person told the answer is not specific to them."""
    if refused or not verdict.unmentioned:
        return []
    names = " or ".join(verdict.unmentioned)
    return [f"The sources say nothing about {names} in particular; this is what they say in general."]


def clean_question(question: object) -> tuple[str, list[str]]:
    """Strip control characters and excess whitespace, cap the length; raise if nothing usable is left."""
    if question is not None and not isinstance(question, str):
        raise InvalidQuestion(f"the question must be text, not {type(question).__name__}")
    if question and not valid_unicode(question):
        raise InvalidQuestion("the question is not valid text (invalid UTF-8 or a lone surrogate): retype it")
    notices: list[str] = []
    text = "".join(" " if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") else ch for ch in question or "")
    text = neutral_markers(re.sub(r"\s+", " ", text).strip())
    if not text:
        raise InvalidQuestion("the question is empty: type a question about the indexed documents")
    if len(text) > MAX_QUESTION_CHARS:
        notices.append(f"Your question was {len(text):,} characters; only the first {MAX_QUESTION_CHARS:,} were used.")
        text = text[:MAX_QUESTION_CHARS].rsplit(" ", 1)[0]
    return text, notices


def parse_history(history: object) -> list[Turn]:
    """Earlier turns, oldest first, as `Turn`s; raise `InvalidHistory` naming the first bad turn.

    Accepts `Turn`s or mappings shaped like ``{"role": "user"|"assistant", "content": str}``.
    """
    if history is None:
        return []
    if isinstance(history, str | bytes | Mapping) or not isinstance(history, Sequence):
        raise InvalidHistory(f"the history must be a list of {HISTORY_SHAPE} turns, not {type(history).__name__}")
    turns: list[Turn] = []
    for n, t in enumerate(history, 1):
        if isinstance(t, Turn):
            role, content = t.role, t.content
        elif isinstance(t, Mapping):
            role, content = t.get("role"), t.get("content")
        else:
            raise InvalidHistory(f"history turn {n} must be {HISTORY_SHAPE}, not {type(t).__name__}")
        if role not in ("user", "assistant") or not isinstance(content, str):
            raise InvalidHistory(f"history turn {n} must be {HISTORY_SHAPE}")
        if not valid_unicode(content):
            raise InvalidHistory(f"history turn {n} is not valid text (invalid UTF-8 or a lone surrogate)")
        turns.append(Turn(role, content))
    return turns


def cap_history(turns: Sequence[Turn]) -> tuple[list[Turn], list[str]]:
    """The most recent turns within `MAX_HISTORY_TURNS` / `MAX_HISTORY_CHARS`, each cut to `MAX_TURN_CHARS`,
    and a notice for each kind of cut (pure)."""
    notices: list[str] = []
    cut = [Turn(t.role, _cut(t.content, MAX_TURN_CHARS)) for t in turns]
    longest = max((len(t.content) for t in turns), default=0)
    if longest > MAX_TURN_CHARS:
        notices.append(f"An earlier message was {longest:,} characters; only the first {MAX_TURN_CHARS:,} were read.")
    kept: list[Turn] = []
    total = 0
    for t in reversed(cut[-MAX_HISTORY_TURNS:]):
        total += len(t.content)
        if total > MAX_HISTORY_CHARS:
            break
        kept.insert(0, t)
    if len(kept) < len(cut):
        notices.append(
            f"The conversation is long: only its last {len(kept)} of {len(cut)} messages were read "
            "to understand your question."
        )
    return kept, notices


def _cut(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, at a space when there is one."""
    if len(text) <= limit:
        return text
    head = text[:limit]
    return head.rsplit(" ", 1)[0] if " " in head else head


class Advisor:
    """Answers questions from the indexed corpus, with citations."""

    def __init__(
        self,
        settings: Settings | None = None,
        index: CorpusIndex | None = None,
        *,
        condenser: Condenser | None = None,
        retriever: Retriever | None = None,
        judge: Judge | None = None,
        generator: Generator | None = None,
    ) -> None:
        self.settings = settings or Settings.from_env()
        self.index = index or CorpusIndex(self.settings)
        self.condenser = condenser or RuleCondenser()
        self.retriever = retriever or HybridRetriever(self.index, self._subjects, authored=self._authored)
        nearest = getattr(self.retriever, "nearest_words", None)  # a retriever of one's own may not offer it
        closest = getattr(self.retriever, "closest", None)
        self.judge = judge or RuleJudge(
            embed=self._embed, nearest=nearest, sentences=self.retriever.sentences, closest=closest
        )
        self._generator = generator
        self._reindex_lock = threading.Lock()
        self._profile: tuple[float, Profile] | None = None
        for stage in (self.condenser, self.judge):  # rule-based stages read the corpus profile
            if getattr(stage, "has_profile", True) is False:
                stage.bind_profile(lambda: self.profile)

    @property
    def profile(self) -> Profile:
        """What the indexed corpus is about, reloaded when it changes: `profile.json` of a writer's
        data dir, else the profile published with the index version (stateless readers).

        An index built before profiles existed gets one derived from the loaded snapshot's chunks,
        without writing anything; with no index at all it is the empty profile.
        """
        path = self.settings.data_dir / PROFILE
        pointer = None
        if not path.exists():
            with contextlib.suppress(IndexUnavailable):
                pointer = self.index.published()
        stamp = path.stat().st_mtime if path.exists() else (pointer.stamp, pointer.profile) if pointer else 0.0
        if self._profile is None or self._profile[0] != stamp:
            profile = load_profile(self.settings.data_dir)
            if profile is None and pointer is not None:
                published = json.loads(pointer.profile) if pointer.profile else None
                profile = Profile.from_json(published) if published else profile_of(self.index.snapshot(pointer).chunks)
            self._profile = (stamp, profile or Profile())
        return self._profile[1]

    @property
    def generator(self) -> Generator:
        if self._generator is None:
            self._generator = make_generator(
                self.settings.generator,
                self.retriever.sentences,
                self.settings,
                self._embed,
                self._subjects,
                lambda text: measure_in(text, self.profile),
            )
        return self._generator

    def _subjects(self, text: str) -> list[str]:
        """The corpus profile's subjects named in `text` (comparisons, subject fit, conflicting figures)."""
        return subjects_in(text, self.profile)

    def _authored(self, text: str) -> frozenset[str]:
        """The documents whose author or publisher `text` names ("what does <publisher> recommend?")."""
        return authored_sources(text, self.profile)

    def _embed(self, texts: Sequence[str]) -> np.ndarray:
        return self.index.embedder.embed_batch(texts)

    def close(self) -> None:
        """Release what the generator holds (a local model server); a generator without `close` holds nothing."""
        close = getattr(self._generator, "close", None)
        if close is not None:
            close()

    def warm_up(self) -> None:
        """Load the index snapshot and the embedding model now rather than on the first question.

        Never builds: a missing index raises `IndexUnavailable` (run `advisor index`)."""
        self.retriever.retrieve("warm up", k=1)

    def ask(self, question: str, history: Sequence[Turn | dict] = (), **options) -> Answer:
        """Answer `question` given earlier turns (oldest first)."""
        answer = None
        for item in self.stream(question, history, **options):
            if isinstance(item, Answer):
                answer = item
        assert answer is not None
        return answer

    def stream(
        self,
        question: str,
        history: Sequence[Turn | dict] = (),
        *,
        k: int | None = None,
        mode: Mode = "hybrid",
        use_history: bool = True,
        use_refusal: bool = True,
    ) -> Iterator[str | Answer]:
        """Yield answer text as it is produced, then the finished `Answer`."""
        t_start = time.perf_counter()
        cleaned, notices = clean_question(question)
        turns, cut = cap_history(parse_history(history))
        notices += cut

        t0 = time.perf_counter()
        standalone = self.condenser.condense(cleaned, turns) if use_history else cleaned
        t_condense = ms_since(t0)

        t0 = time.perf_counter()
        retrieval = self.retriever.retrieve(standalone, k=k, mode=mode, decision=is_decision(standalone))
        t_retrieve = ms_since(t0)

        t0 = time.perf_counter()
        composition: Composition | None = None
        # a greeting, or a question in another language, is told what the advisor does (`intake`)
        verdict = intake_verdict(cleaned, retrieval.unknown_terms) or self.judge.judge(standalone, retrieval)
        refused = use_refusal and verdict.refuse
        if refused:
            text = self.judge.refusal(standalone, verdict)
            yield text
        else:
            pieces: list[str] = []
            for piece in self.generator.generate(standalone, retrieval.passages, retrieval.query_vector, turns):
                if isinstance(piece, Composition):
                    composition = piece
                    continue
                pieces.append(piece)
                yield piece
            final = composition.text if composition else "".join(pieces)
            text = drop_invalid_markers(final.strip(), len(retrieval.passages))
            if not text:
                refused, text = True, self.judge.refusal(standalone, verdict)
                yield text
        t_generate = ms_since(t0)
        yield Answer(
            question=cleaned,
            standalone_question=standalone,
            text=text,
            passages=retrieval.passages,
            cited=[] if refused else cited_numbers(text),
            refused=refused,
            # a refusal is the judge's own rule-based text, whatever generator is configured
            generator="extractive" if refused else composition.generator if composition else self.generator.name,
            timings_ms={
                "condense": t_condense,
                "retrieve": t_retrieve,
                "generate": t_generate,
                "total": ms_since(t_start),
                **{f"retrieve.{k}": v for k, v in retrieval.timings_ms.items()},
            },
            refusal_reason=verdict.reason if refused else None,
            refusal_kind=(verdict.kind or None) if refused else None,
            refusal_missing=list(verdict.missing) if refused else [],
            notices=[*notices, *story_notice(verdict, refused), *(composition.notices if composition else ())],
            verification=composition.verification if composition else None,
        )

    # -- what the faces may ask besides questions (they import nothing below this facade) ------------------------
    def status(self) -> dict:
        """The published index: documents, chunks, version, build time, Chroma and embedding model, and a
        `problem` when it cannot be read (never raises, never builds)."""
        return self.index.status()

    def problems(self, deep: bool = False, serving: bool = False) -> list[str]:
        """Every way the index's parts disagree, one line each with its fix (empty when healthy); with
        `serving`, also whether what answering reads first (the snapshot) loads. `deep` reads every row."""
        problems = list(self.index.check(deep=deep))
        if serving:
            try:
                _ = getattr(self.retriever, "snapshot", None)  # loaded once, then cached
            except IndexUnavailable as exc:
                problems.append(str(exc))
            except Exception as exc:  # a reader's page shows a line, never a traceback
                problems.append(f"The index cannot be read ({type(exc).__name__}); run `advisor index --full`.")
        return problems

    def documents(self) -> list[tuple[str, str]]:
        """(source, title) of every indexed document: the profile's list, else the served snapshot's."""
        if self.profile.documents:
            return [(str(source), str(title)) for source, title in self.profile.documents]
        snapshot = self._snapshot()
        seen: dict[str, str] = {}
        for c in snapshot.chunks if snapshot else []:
            seen.setdefault(c.source, c.title)
        return sorted(seen.items())

    def document(self, source: str, chunk_id: str | None = None) -> IndexedDocument | None:
        """The indexed document `source` opened whole, with its passage `chunk_id`; None when the index
        does not hold it (a reader may only open what was indexed). The text is read afresh from the
        corpus folder, else its indexed passages are joined."""
        snapshot = self._snapshot()
        chunks = sorted(
            (c for c in (snapshot.chunks if snapshot else []) if c.source == source), key=lambda c: c.position
        )
        if not chunks:
            return None
        text = read_document(self.settings.corpus_dir, source)
        return IndexedDocument(
            source=source,
            title=chunks[0].title,
            text=text if text is not None else "\n\n".join(c.text for c in chunks),
            from_file=text is not None,
            passage=next((c for c in chunks if c.id == chunk_id), None),
        )

    def _snapshot(self):
        """The snapshot answering reads, or None when there is none to read."""
        try:
            return getattr(self.retriever, "snapshot", None)
        except Exception:
            return None

    def build_index(self, full: bool = False, progress: bool = False) -> IndexReport:
        """Bring the index in line with the corpus folder (`advisor index`): incremental, or from scratch
        with `full`; `IndexBusy` when another writer holds the writer lock. The vectors of new corpus words
        (the judge's absent-topic signal) are computed now too, so readers only read them."""
        report = self.index.update(full=full, progress=progress)
        cache_words = getattr(self.retriever, "cache_words", None)
        if cache_words is not None:
            cache_words(changed=bool(report.added or report.updated or report.deleted or report.rebuilt))
        return report

    def reindex(self, full: bool = False) -> IndexReport:
        """Reindex from a serving advisor (refused when it is read-only); the next question is answered
        from the new version."""
        if self.settings.read_only:
            raise IndexUnavailable("this advisor is read-only (a reader of a shared index): reindex on the writer")
        with self._reindex_lock:
            report = self.build_index(full=full)
        refresh = getattr(self.retriever, "refresh", None)
        if refresh is not None:
            refresh()
        return report
