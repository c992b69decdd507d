"""The small typed values that flow between the stages, in one place.

load -> `SourceDocument` -> chunk -> `Chunk` -> retrieve -> `Passage` / `Retrieval` -> judge -> `Verdict`
-> compose -> `Answer`, which travels unchanged to the CLI, the UI and the evals. `Turn` is one message
of a conversation; `Profile` is what the corpus is about; `IndexedDocument` is a document opened whole
for a reader; `IndexReport` is what one `advisor index` run did. All are frozen dataclasses.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np


@dataclass(frozen=True)
class SourceDocument:
    """One corpus file, read and normalised to text."""

    source: str  # "corpus/<relative path>", as shown to users and stored with every chunk
    title: str
    text: str
    meta: dict[str, str] = field(default_factory=dict)
    sha256: str = ""


@dataclass(frozen=True)
class Chunk:
    """A passage of one document, the unit of retrieval and citation."""

    id: str
    source: str
    title: str
    section: str | None
    text: str
    position: int  # order of the chunk inside its document
    kind: str | None = None
    set_aside: str | None = None  # why the passage is not career information (`advisor.screen`), if it is not

    @property
    def embed_text(self) -> str:
        """What is embedded and searched: title and section in front of the text."""
        head = f"{self.title} — {self.section}" if self.section else self.title
        return f"{head}\n{self.text}"


@dataclass(frozen=True)
class IndexedDocument:
    """One indexed document as a reader opens it (`Advisor.document`): its whole text, read afresh from
    the corpus folder, or its indexed passages joined when the file cannot be read (`from_file` False)."""

    source: str
    title: str
    text: str
    from_file: bool
    passage: Chunk | None = None  # the passage asked for, when the document holds it


@dataclass(frozen=True)
class IndexReport:
    """What one `advisor index` run did."""

    documents: int
    chunks: int
    added: int
    updated: int
    skipped: int
    deleted: int
    seconds: float
    rebuilt: bool = False
    reason: str | None = None
    embedded: int = 0
    files_deleted: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    version: int = 0
    corpus_documents: int = 0
    copied: int = 0  # unchanged chunks copied from the previous version (vectors included)
    copy_seconds: float = 0.0

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.deleted or self.rebuilt)

    def to_dict(self) -> dict:
        return asdict(self)

    def summary(self) -> str:
        head = "rebuilt from scratch" + (f" ({self.reason})" if self.reason else "") if self.rebuilt else "indexed"
        others = (
            f" ({self.corpus_documents} from this corpus)" if self.corpus_documents not in (0, self.documents) else ""
        )
        return (
            f"{head}: {self.documents} documents{others}, {self.chunks} chunks; "
            f"added {self.added}, updated {self.updated}, skipped {self.skipped}, deleted {self.deleted}; "
            f"{self.seconds:.2f} s"
        )


@dataclass(frozen=True)
class Turn:
    role: str  # "user" | "assistant"
    content: str


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: `rank` starts at 1; `score` is its cosine similarity to the question."""

    chunk: Chunk
    score: float
    rank: int
    # among its document's parallel headings ("Senior X", "Staff X"): True under the one the question names, False
    # under another; None when the question names none (`advisor.retrieval.fusion.asked_section`)
    heading_asked: bool | None = None


@dataclass(frozen=True)
class Retrieval:
    """Passages handed to the answer step plus the signals the refusal decision reads."""

    query: str
    passages: list[Passage]
    query_vector: np.ndarray
    top_dense: float  # best cosine similarity among all candidates
    term_coverage: float  # share of the query's content words that the corpus knows
    unknown_terms: list[str] = field(default_factory=list)  # content words the corpus never uses
    timings_ms: dict[str, float] = field(default_factory=dict)
    # the ids of the chunks the main model alone ranks nearest the query, whatever fusion made of them: what the
    # judge's absent-topic test compares with (it does not move when another ranking brings other passages)
    nearest_chunks: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Verdict:
    """The judge's decision: `reason` is for logs and evals; `missing` names what the sources lack."""

    refuse: bool
    reason: str
    missing: tuple[str, ...] = ()  # e.g. ("vegan chefs",), ("Canada",)
    # what `missing` is: "subject" | "name" | "topic" | "terms" | ""; or "hello" | "thanks" | "bye" | "language"
    kind: str = ""
    # places and employers of the person's own story that no passage mentions: answered, with a notice
    unmentioned: tuple[str, ...] = ()


@dataclass(frozen=True)
class Profile:
    """What the pipeline knows about the corpus's domain, derived from the documents at index time.

    Stored with the index (`profile.json`); `corpus/advisor.yaml` may override or add to it. The UI,
    the CLI, condensing and refusals read it instead of hard-coding any domain's words.
    """

    name: str = "advisor"
    description: str = ""  # one sentence: what the documents cover
    subjects: tuple[str, ...] = ()  # what questions are about (roles, careers, levels), singular, canonical
    examples: tuple[str, ...] = ()  # questions the corpus answers (its FAQ questions)
    synonyms: tuple[tuple[str, str], ...] = ()  # (alias, canonical)
    documents: tuple[tuple[str, str], ...] = ()  # (source, title)
    measures: tuple[tuple[str, str], ...] = ()  # (word stem, figure kind): "earn" asks for currency
    authors: tuple[tuple[str, str], ...] = ()  # (name, source): who wrote or published a document (front matter)

    def to_json(self) -> dict:
        return {
            "name": self.name,
            "description": self.description,
            "subjects": list(self.subjects),
            "examples": list(self.examples),
            "synonyms": [list(p) for p in self.synonyms],
            "documents": [list(p) for p in self.documents],
            "measures": [list(p) for p in self.measures],
            "authors": [list(p) for p in self.authors],
        }

    @classmethod
    def from_json(cls, data: dict) -> Profile:
        return cls(
            name=str(data.get("name") or "advisor"),
            description=str(data.get("description") or ""),
            subjects=tuple(str(s) for s in data.get("subjects", ())),
            examples=tuple(str(s) for s in data.get("examples", ())),
            synonyms=tuple((str(a), str(b)) for a, b in data.get("synonyms", ())),
            documents=tuple((str(a), str(b)) for a, b in data.get("documents", ())),
            measures=tuple((str(a), str(b)) for a, b in data.get("measures", ())),
            authors=tuple((str(a), str(b)) for a, b in data.get("authors", ())),
        )


@dataclass(frozen=True)
class SentenceCheck:
    """One drafted sentence of an LLM answer and what the checks made of it."""

    text: str  # as drafted, markers included
    kept: bool
    reason: str | None = None  # why dropped (or marked): no_citation, number_not_in_source, unsupported, title_only
    cited: tuple[int, ...] = ()  # valid markers
    removed_markers: tuple[int, ...] = ()  # markers that pointed at no passage
    support: float | None = None  # best similarity to a sentence of a cited passage
    factual: bool = True

    def to_json(self) -> dict:
        return {
            "text": self.text,
            "kept": self.kept,
            "reason": self.reason,
            "cited": list(self.cited),
            "removed_markers": list(self.removed_markers),
            "support": None if self.support is None else round(self.support, 3),
            "factual": self.factual,
        }


@dataclass(frozen=True)
class Verification:
    """What the sentence checks did to an LLM draft, and how fast the model was."""

    model: str  # the ADVISOR_LLM backend, e.g. "local:qwen2.5-coder-1.5b"
    sentences: tuple[SentenceCheck, ...] = ()
    fallback: str | None = None  # why the extractive answer replaced the draft, if it did
    ttft_ms: float | None = None
    first_sentence_ms: float | None = None
    tokens: int = 0
    tokens_per_s: float | None = None
    opening: tuple[str, ...] = ()  # the source lines quoted before the draft: the answer first, not the model's

    @property
    def drafted(self) -> int:
        return len(self.sentences)

    @property
    def kept(self) -> int:
        return sum(s.kept for s in self.sentences)

    def to_json(self) -> dict:
        return {
            "model": self.model,
            "drafted": self.drafted,
            "kept": self.kept,
            "dropped": self.drafted - self.kept,
            "fallback": self.fallback,
            "ttft_ms": self.ttft_ms,
            "first_sentence_ms": self.first_sentence_ms,
            "tokens": self.tokens,
            "tokens_per_s": self.tokens_per_s,
            "opening": list(self.opening),
            "sentences": [s.to_json() for s in self.sentences],
        }


@dataclass(frozen=True)
class Composition:
    """A generator's last item: the final text (authoritative over the streamed pieces), who wrote it,
    notices for the user, and the verification of an LLM draft."""

    text: str
    generator: str
    notices: tuple[str, ...] = ()
    verification: Verification | None = None


@dataclass(frozen=True)
class Answer:
    """One answer, unchanged from the generator to the CLI, the UI and the evals."""

    question: str
    standalone_question: str
    text: str
    passages: list[Passage]
    cited: list[int]
    refused: bool
    generator: str
    timings_ms: dict[str, float]
    refusal_reason: str | None = None
    notices: list[str] = field(default_factory=list)
    verification: Verification | None = None
    refusal_kind: str | None = None  # what a refusal found missing: "subject" | "name" | "topic" | "terms" | ...
    refusal_missing: list[str] = field(default_factory=list)  # what it names as missing ("tattoo policy")

    def to_json(self) -> dict:
        """The `advisor ask --json` object of CONTRACTS.md section 1 (plus `notices`, `verification`,
        `refusal_reason`, `refusal_kind`, `refusal_missing`, and each passage's `set_aside` reason, set-aside
        sentences and `heading_asked`)."""
        from advisor.screen import set_aside_sentences

        return {
            "question": self.question,
            "standalone_question": self.standalone_question,
            "answer": self.text,
            "refused": self.refused,
            "cited": self.cited,
            "passages": [
                {
                    "rank": p.rank,
                    "id": p.chunk.id,
                    "source": p.chunk.source,
                    "title": p.chunk.title,
                    "section": p.chunk.section,
                    "text": p.chunk.text,
                    "score": p.score,
                    "set_aside": p.chunk.set_aside,
                    "set_aside_sentences": [
                        {"text": t, "reason": r} for t, r in set_aside_sentences(p.chunk.text, p.chunk.section)
                    ],
                    "heading_asked": p.heading_asked,
                }
                for p in self.passages
            ],
            "generator": self.generator,
            "timings_ms": self.timings_ms,
            "notices": self.notices,
            "verification": self.verification.to_json() if self.verification else None,
            "refusal_reason": self.refusal_reason,
            "refusal_kind": self.refusal_kind,
            "refusal_missing": self.refusal_missing,
        }
