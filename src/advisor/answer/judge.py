"""Deciding that the corpus does not answer a question.

One cosine threshold is not enough: "nurse salaries in Canada" scores like a weak in-domain
question. The decision combines the best dense similarity, the share of the question's content
words the corpus knows at all, and requests to drop the sources. Thresholds were calibrated on
evals/dev/golden.jsonl (see README, "Refusal").
"""

from __future__ import annotations

import re
from typing import Protocol

from advisor.schema import Retrieval, Verdict

INJECTION = re.compile(
    r"\b(ignore|disregard|forget|bypass)\b.{0,40}\b(sources?|instructions?|rules?|context|documents?|corpus|prompt)\b"
    r"|\b(tell|give)\s+me\s+a\s+(joke|poem|story)\b|\bpretend\s+(to\s+be|you)\b|\byou\s+are\s+now\b"
    r"|\bsystem\s+prompt\b|\bjailbreak\b|\bwithout\s+(using\s+)?(your\s+)?(sources|citations)\b",
    re.IGNORECASE,
)

MIN_SIMILARITY = 0.30  # below this nothing in the corpus is about the question
CONFIDENT_SIMILARITY = 0.55  # above this the question is in-domain even with unknown words
MIN_COVERAGE = 0.6  # share of content words the corpus must know when similarity is middling

SUGGESTIONS = (
    "Should I become an AI architect?",
    "What do AI architects earn compared with AI engineers?",
    "What does a staff AI/ML engineer own?",
    "Which certifications help an aspiring AI architect?",
)


def decide(question: str, top_similarity: float, term_coverage: float, unknown_terms: list[str]) -> Verdict:
    """Whether to refuse, and why (the reason is for logs and evals, not for users)."""
    if INJECTION.search(question):
        return Verdict(True, "asks to set the sources aside")
    other = other_profession(question, unknown_terms)
    if other:
        return Verdict(True, f"asks about another profession ({other})")
    if top_similarity < MIN_SIMILARITY:
        return Verdict(True, f"nothing similar in the corpus (best cosine {top_similarity:.2f})")
    if top_similarity < CONFIDENT_SIMILARITY and term_coverage < MIN_COVERAGE:
        return Verdict(True, f"the corpus does not know {', '.join(unknown_terms)}")
    return Verdict(False, "answerable")


_ROLE_NOUN = re.compile(r"\b([a-z][a-z'-]*)\s+(?:engineer|architect|developer|manager|designer)s?\b", re.I)


def other_profession(question: str, unknown_terms: list[str]) -> str | None:
    """A role noun modified by a word the corpus never uses ("civil engineer", "landscape architect")."""
    unknown = {t.lower() for t in unknown_terms}
    for m in _ROLE_NOUN.finditer(question):
        if m.group(1).lower() in unknown:
            return m.group(0)
    return None


def refusal_text() -> str:
    """The polite refusal with questions the corpus can answer (states no fact)."""
    bullets = "\n".join(f"- {q}" for q in SUGGESTIONS)
    return (
        "I can't answer that from my sources. They cover careers in AI: what AI engineers, architects, "
        "staff and principal engineers do, what they earn, how to move between levels and which "
        f"certifications help. You could ask, for example:\n{bullets}"
    )


class Judge(Protocol):
    """Decides whether the retrieved passages answer the question, and words the refusal when not."""

    name: str

    def judge(self, question: str, retrieval: Retrieval) -> Verdict: ...

    def refusal(self, question: str, verdict: Verdict) -> str: ...


class RuleJudge:
    """The rule-based default: dense similarity, known-word coverage and requests to drop the sources."""

    name = "rules"

    def judge(self, question: str, retrieval: Retrieval) -> Verdict:
        return decide(question, retrieval.top_dense, retrieval.term_coverage, retrieval.unknown_terms)

    def refusal(self, question: str, verdict: Verdict) -> str:
        return refusal_text()
