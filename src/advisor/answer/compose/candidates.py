"""A candidate sentence of the extractive answer, and the pure rules over candidates: which set-aside
sentences stay (`asked_about`), which sources give different figures (`figures_conflict`), how a passage's
section fits the asked subject (`subject_fit`), and the documents' own answer to a FAQ question like the
asked one (`faq_answer`). The generator (`compose/extractive.py`) scores candidates and lays them out.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from advisor.answer.compose.decisions import FAQ_SIMILARITY, stems
from advisor.answer.intent import COMPARATIVE, Intent, content_terms, names_a
from advisor.profile import same_subject, subject_words
from advisor.quantities import FIGURE_KINDS, figure_kind
from advisor.schema import Passage
from advisor.screen import ASKABLE
from advisor.text import NUMBER

FAQ_ANSWER = 0.1  # the first answer to a FAQ question worded like the asked yes/no question; dev
FAQ_WORDS = 3  # word stems the closest FAQ question shares with the asked one to be it in other words; dev


@dataclass(frozen=True, eq=False)  # compared by identity: a field is a numpy array
class Candidate:
    text: str
    vector: np.ndarray
    passage: Passage
    order: int  # position of the sentence inside its passage
    score: float
    kind: str | None  # the kind of figure the sentence holds
    fit: float = 0.0  # the part of `score` that comes from the passage's section naming the subject
    answers: str | None = None  # the FAQ question this sentence is the first answer to, if it is
    answers_sim: float | None = None  # that question's similarity to the asked one (None: a heading, not embedded)
    set_aside: str | None = None  # why the sentence is not career information (`advisor.screen`)


def lists_in_line(text: str, nouns: Sequence[str]) -> bool:
    """A sentence introduces, before a colon, a list of at least three items of what is asked (pure)."""
    head, colon, items = text.partition(":")
    return bool(colon) and items.count(",") >= 2 and any(n[:6] in content_terms(head) for n in nouns)


def bare_figure(text: str, p: Passage, kind: str) -> bool:
    """A line that is only a figure of the asked kind opening its passage ("3-6 months" under "1. Build the
    Foundations"): what the heading's step takes, quoted as the answer to "how long is that step?" (pure)."""
    return p.chunk.text.lstrip().startswith(text.strip()) and figure_kind(text) in (kind, "any" if kind else None)


# a share of what someone is paid: "40 to 50 percent of a fully qualified glazier's hourly rate"
_SHARE_OF_PAY = re.compile(r"(?:%|\bpercent)\s+of\s+(?:[\w'’-]+\s+){0,6}?(?:pay|rate|wages?|earnings)\b", re.I)


def share_of_pay(text: str, kind: str | None, asked: str | None) -> bool:
    """A money question is answered by a percentage of someone's pay too: it is how documents state trainee
    and part-time pay ("Starting pay is commonly 40 to 50 percent of a qualified rate") (pure)."""
    return asked == "currency" and kind == "percent" and bool(_SHARE_OF_PAY.search(text))


def states_unit(text: str, unit: str) -> bool:
    """A sentence gives a time in the unit a "how many" question counts in ("300 hours" for "how many hours")
    (pure)."""
    return bool(unit) and any(unit in m.group(0).lower() for m in FIGURE_KINDS["duration"].finditer(text))


def states_difference(text: str) -> bool:
    """A sentence gives a figure of a difference ("pays 20% more", "a $5K higher ceiling") (pure)."""
    return bool(COMPARATIVE.search(text) and NUMBER.search(text))


def has_subject(found: Sequence[str], subject: str) -> bool:
    return any(same_subject(f, subject) for f in found)


def subject_fit(asked: Sequence[str], named: Sequence[str], levelled: bool = False) -> float:
    """+1 when a passage's section names a subject asked about (or a kind of it), -1 when it names only others.
    When another passage's section names the asked subject itself (`levelled`: "Head Pastry Chef" for a head
    pastry chef), a section naming only a more general form of it ("Pastry Chef") is another level's: 0 (pure)."""
    if not asked or not named:
        return 0.0
    if any(subject_words(s) <= subject_words(n) for s in asked for n in named):
        return 1.0
    if any(has_subject(named, s) for s in asked):
        return 0.0 if levelled else 1.0
    return -1.0


UNIT_SAYS_WHAT = frozenset({"currency"})  # figure kinds whose unit says what is measured (money)


def figures_conflict(
    figures: Sequence[tuple[str, str, frozenset[str], frozenset[str], frozenset[str]]],
) -> list[str]:
    """Sources that give different figures of the same kind for the same subject (pure).

    Each entry is (source, kind, subjects, numbers, terms) of one strong figure-bearing sentence, `terms`
    its content words other than subject names. Figures conflict only when two sources state figures of
    one kind (pay, share, duration) about the same single subject and the numbers differ; a share or a
    duration must also share a word saying what is measured (money is money, whatever a source calls it):
    three subjects' pay is not a disagreement, nor is a share of job listings against a share of working
    time.
    """
    groups: dict[tuple[str, str], dict[str, tuple[frozenset[str], frozenset[str]]]] = {}
    for source, kind, subjects, numbers, terms in figures:
        if len(subjects) != 1:
            continue
        key = (kind, next(iter(subjects)).lower())
        groups.setdefault(key, {}).setdefault(source, (numbers, terms))
    for key, per_source in groups.items():
        rows = list(per_source.items())
        found = {
            name
            for i, (a, (numbers_a, terms_a)) in enumerate(rows)
            for b, (numbers_b, terms_b) in rows[i + 1 :]
            if numbers_a != numbers_b and (key[0] in UNIT_SAYS_WHAT or terms_a & terms_b)
            for name in (a, b)
        }
        if found:
            return [name for name in per_source if name in found]
    return []


def asked_about(candidates: list[Candidate], question: str = "") -> list[Candidate]:
    """The candidates without set-aside sentences, unless the question is about them: a bio or a
    seller's statement ("It's a four-figure investment") that matches it better than any other
    sentence stays, and so does the seller's first answer to a FAQ question worded like the asked one
    ("Can I do this while working full-time?" -> "Yes, most attendees do."): the person asked the seller
    that question. Calls to action, instructions and promises inform nothing and never stay."""
    best = max((c.score for c in candidates if not c.set_aside), default=float("-inf"))
    faq = max((c.answers_sim for c in candidates if c.answers_sim is not None), default=1.0)
    return [
        c
        for c in candidates
        if not c.set_aside
        or (c.set_aside in ASKABLE and (c.score >= best or (bool(question) and answers_alike(c, question, faq))))
    ]


def names_asked(text: str, intent: Intent) -> bool:
    """The sentence itself names the place or employer asked: its figure, of whatever kind, is the one for
    it ("Leeds potters earn 10 to 20 percent above these figures" for pay in Leeds)."""
    return any(names_a(text, n) for n in intent.names)


def answers_alike(c: Candidate, question: str, best: float) -> bool:
    """`c` is the first answer to the FAQ question most like the person's (`best` is that one's similarity): at
    least `FAQ_SIMILARITY`, or sharing `FAQ_WORDS` word stems with it; or to a heading question (not embedded)
    sharing two word stems with it."""
    if c.answers is None:
        return False
    shared = len(stems(c.answers) & stems(question))
    if c.answers_sim is not None:
        # a long, chatty question is far from any FAQ question in the embedding, however many words they share
        return c.answers_sim >= best - 0.02 and (c.answers_sim >= FAQ_SIMILARITY or shared >= FAQ_WORDS)
    return shared >= 2


def continues(c: Candidate, first: Candidate) -> bool:
    """`c` is the sentence after `first` in its passage: a "Yes, …" goes on with its reason."""
    return c.passage is first.passage and c.order == first.order + 1


def faq_answers_first(candidates: list[Candidate], question: str) -> list[Candidate]:
    """For a yes/no question, the first answer to the FAQ question most like it gains `FAQ_ANSWER`: it is
    the documents' own yes or no ("Yes, most potters rent kiln space.")."""
    best = max((c.answers_sim for c in candidates if c.answers_sim is not None), default=1.0)
    return [
        replace(c, score=c.score + FAQ_ANSWER) if c.answers_sim is not None and answers_alike(c, question, best) else c
        for c in candidates
    ]


def faq_answer(candidates: list[Candidate], question: str) -> list[Candidate]:
    """For a yes/no question, the first answer to the FAQ question most like it (at least `FAQ_SIMILARITY`),
    if there is one: the documents' own answer to the question asked leads, whatever else scores higher
    ("Can I transition into this role from DevOps?" -> "Your expertise in infrastructure … is highly valuable")."""
    best = max((c.answers_sim for c in candidates if c.answers_sim is not None), default=1.0)
    alike = [c for c in candidates if c.answers_sim is not None and answers_alike(c, question, best)]
    return sorted(alike, key=lambda c: -(c.answers_sim or 0.0))[:1]
