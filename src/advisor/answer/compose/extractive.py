"""The default, offline answer generator: it composes the answer from the passages' own sentences.

It can never state what the sources do not say. Sentences are scored by semantic similarity to the
question (vectors precomputed at index time) plus lexical overlap, boosted by the question's intent
(salary figures, decision criteria, both sides of a comparison), picked with maximal marginal
relevance so it does not repeat itself, and ordered by passage. Every sentence ends with its [n].
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from advisor.answer.citations import attach_marker
from advisor.answer.condense import roles_in
from advisor.schema import Passage, Turn

_SALARY = re.compile(r"\b(earn\w*|pay\w*|paid|salar\w*|compensation|income|money|lpa|wage\w*|make)\b|\$", re.I)
_COMPARE = re.compile(
    r"\b(vs\.?|versus|difference|differ\w*|compare\w*|comparison|better|which\s+(one|role|path|pays))\b", re.I
)
_DECIDE = re.compile(
    r"\b(should\s+i|shall\s+i|is\s+it\s+worth|right\s+for\s+me|am\s+i\s+ready|do\s+i\s+need|can\s+i|"
    r"i\s+have|i'm|i\s+am|i\s+love|i\s+like|i\s+enjoy|i\s+want|my\s+\d+|years?\s+of\s+experience)\b",
    re.I,
)
_MONEY = re.compile(r"[$₹€£]\s?\d|\b\d+(?:\.\d+)?\s?(?:k|lpa|crore)\b|\b\d+(?:-\d+)?%", re.I)
_DECISION_CUES = re.compile(
    r"\b(if\s+you|stay|choose|pursue|consider|signs?|ready|typically\s+after|early\s+in\s+your\s+career|"
    r"love|enjoy|prefer|depends|first|start)\b",
    re.I,
)
_WORD = re.compile(r"[a-z0-9$₹%]+")
_STOP = frozenset(
    """
    a an the of to in on for and or is are do does i my me you your what how which who should
    would can with as at by be it this that from about more most
    """.split()
)


@dataclass(frozen=True)
class Intent:
    salary: bool
    comparison: bool
    decision: bool
    roles: tuple[str, ...]


def detect_intent(question: str) -> Intent:
    """What kind of answer the question wants (pure; table-tested)."""
    roles = tuple(roles_in(question))
    return Intent(
        salary=bool(_SALARY.search(question)),
        comparison=bool(_COMPARE.search(question)) or len(roles) >= 2,
        decision=bool(_DECIDE.search(question)),
        roles=roles,
    )


@dataclass(frozen=True, eq=False)  # compared by identity: a field is a numpy array
class _Candidate:
    text: str
    vector: np.ndarray
    passage: Passage
    order: int  # position of the sentence inside its passage
    score: float


_LEVELS = ("principal", "distinguished", "staff", "senior", "junior", "lead")


def level_fit(question_roles: tuple[str, ...], section: str | None) -> float:
    """+1 when a passage's section names the seniority level asked about, -1 when it names another."""
    asked = {lv for r in question_roles for lv in _LEVELS if lv in r.lower()}
    if not asked or not section:
        return 0.0
    named = {lv for lv in _LEVELS if re.search(rf"\b{lv}\b", section, re.I)}
    if asked & named:
        return 1.0
    return -1.0 if named or re.search(r"\b(engineer|architect)\b", section, re.I) else 0.0


def _terms(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(text.lower()) if w not in _STOP}


def _mentions(text: str, role: str) -> bool:
    head = role.lower().split()[-1].rstrip("s")
    quals = [w for w in role.lower().split()[:-1] if w not in {"ai", "ml", "ai/ml"}]
    low = text.lower()
    return head in low and all(q in low for q in quals)


class ExtractiveGenerator:
    """Answers by selecting and citing sentences of the retrieved passages."""

    name = "extractive"

    def __init__(self, sentences: Callable[[str], tuple[list[str], np.ndarray]], max_sentences: int = 5) -> None:
        self.sentences = sentences
        self.max_sentences = max_sentences

    def generate(
        self, question: str, passages: list[Passage], query_vector: np.ndarray, history: Sequence[Turn] = ()
    ) -> Iterator[str]:
        """Yield the answer in pieces (a lead line, then one cited sentence or bullet at a time)."""
        intent = detect_intent(question)
        candidates = self._candidates(question, passages, query_vector, intent)
        if not candidates:
            return
        conflict = intent.salary and self._figures_conflict(candidates)
        limit = self.max_sentences + (1 if intent.comparison or conflict else 0)
        chosen = self._select(candidates, limit, intent, conflict)
        chosen.sort(key=lambda c: (c.passage.rank, c.order))
        lead = _lead(intent, conflict)
        if lead:
            yield lead + "\n\n"
        bullets = len(chosen) >= 3
        for i, c in enumerate(chosen):
            line = attach_marker(c.text, c.passage.rank)
            yield (f"- {line}\n" if bullets else line + ("" if i == len(chosen) - 1 else " "))

    def _candidates(self, question: str, passages: list[Passage], qv: np.ndarray, intent: Intent) -> list[_Candidate]:
        qterms = _terms(question)
        out: list[_Candidate] = []
        for p in passages:
            texts, vectors = self.sentences(p.chunk.id)
            context = _terms(f"{p.chunk.title} {p.chunk.section or ''}")
            fit = 0.12 * level_fit(intent.roles, p.chunk.section)
            for order, (text, vec) in enumerate(zip(texts, vectors, strict=True)):
                words = text.split()
                if len(words) < 4 or text.rstrip().endswith("?"):
                    continue
                sim = float(vec @ qv)
                own = _terms(text)
                lex = (len(qterms & own) + 0.5 * len(qterms & (context - own))) / len(qterms) if qterms else 0.0
                score = 0.65 * sim + 0.35 * lex + 0.05 / p.rank + fit
                if intent.salary and _MONEY.search(text):
                    score += 0.2
                if intent.decision and _DECISION_CUES.search(text):
                    score += 0.12
                if len(words) > 60:
                    score -= 0.1  # long sentences read badly in a short answer
                out.append(_Candidate(text, vec, p, order, score))
        return out

    def _figures_conflict(self, candidates: list[_Candidate]) -> bool:
        """Salary figures come from more than one document among the strong candidates."""
        best = max(c.score for c in candidates)
        sources = {c.passage.chunk.source for c in candidates if _MONEY.search(c.text) and c.score >= best - 0.25}
        return len(sources) >= 2

    def _select(self, candidates: list[_Candidate], limit: int, intent: Intent, conflict: bool) -> list[_Candidate]:
        """MMR over candidates, with the intent's coverage requirements seeded first."""
        pool = sorted(candidates, key=lambda c: -c.score)
        chosen: list[_Candidate] = []
        if conflict:
            for source in dict.fromkeys(c.passage.chunk.source for c in pool if _MONEY.search(c.text)):
                first = next(c for c in pool if c.passage.chunk.source == source and _MONEY.search(c.text))
                if len(chosen) < 3:
                    chosen.append(first)
        if intent.comparison and len(intent.roles) >= 2:
            for role in intent.roles[:2]:
                if not any(_mentions(c.text, role) for c in chosen):
                    hit = next((c for c in pool if _mentions(c.text, role) and c not in chosen), None)
                    if hit is not None and hit.score >= pool[0].score - 0.3:
                        chosen.append(hit)
        if not chosen:
            chosen.append(pool[0])
        floor = pool[0].score - 0.25
        while len(chosen) < limit:
            best, best_val = None, -1e9
            for c in pool:
                if c in chosen or c.score < floor:
                    continue
                redundancy = max(float(c.vector @ x.vector) for x in chosen)
                if redundancy > 0.92:
                    continue
                val = 0.7 * c.score - 0.3 * redundancy
                if val > best_val:
                    best, best_val = c, val
            if best is None:
                break
            chosen.append(best)
        return chosen


def _lead(intent: Intent, conflict: bool) -> str | None:
    """A framing line that states no fact of its own."""
    if conflict:
        return "The sources give different figures, so each is shown with its own source:"
    if intent.decision:
        return "Here is what the sources say that bears on your decision:"
    if intent.comparison:
        return "How the sources compare the roles:"
    return None
