"""Absent topics: what the clause that asks, about a subject the corpus covers, turns on that the corpus never
discusses ("What is the tattoo policy for pastry chefs?"), measured with the real model (`word_evidence`) and
decided by a pure rule (`absent_topics`). `answer.judge` reads the result as a refusal signal.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

import numpy as np

from advisor.answer.intent import asking_clause
from advisor.profile import mentions
from advisor.schema import Profile
from advisor.text import STOPWORDS, base_word, normalize, plain_words
from advisor.vectors import unit_rows

Embed = Callable[[Sequence[str]], np.ndarray]
Nearest = Callable[[Sequence[str]], list[tuple[str, float]]]  # each word's nearest corpus word and its cosine
Sentences = Callable[[str], tuple[list[str], np.ndarray]]  # a chunk's sentences and their unit vectors
# each text's best cosine to any chunk by the second dense model; empty when there is none
Closest = Callable[[Sequence[str]], list[float]]
_DETERMINERS = frozenset("the a an what which any their his her my your our its some much many no".split())
_CLAUSE_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")  # a word as the retriever's vocabulary check reads it


# An absent topic (`absent_topics`), set on evals/dev/golden-topics.jsonl: a word of the clause that asks
# - whose nearest corpus word is below NEIGHBOUR_SIMILARITY (the absent topics refused: 0.40-0.53; a word of an
#   answerable question passing the other two tests: 0.57 and up),
# - that is about what is asked: its cosine to the question >= CENTRALITY (an adverb or a verb of the frame: 0-0.25),
# - and whose removal brings the question closer to the best of the chunks the main model ranks nearest by more
#   than SUPPORT_DROP (the absent topics refused: 0.063-0.15; a word the chunks support: <= 0.05). Measured
#   against those chunks, not the fused passages, since e5 joined the fusion: other passages moved the test
#   ("pension" fell to -0.02 against the fused top 5, 0.084 against the main model's)
NEIGHBOUR_SIMILARITY = 0.55
CENTRALITY = 0.30
SUPPORT_DROP = 0.06
# A word with a near corpus word ("holiday": "day" 0.58, "gym": "training" 0.60) or said in passing ("sick days") is
# still absent when the second dense model (e5) agrees with the support test: without the word the question comes
# closer to the corpus's best chunk by at least SECOND_SUPPORT_DROP too. Set on all dev sets: the words so
# refused 0.017-0.037; the words of answerable questions that pass the main model's support test at most 0.016
# ("cities"), so the margin is thin (README, "Refusal")
SECOND_SUPPORT_DROP = 0.017
# Two or more such words each hold up the question without the other ("stock options or equity", "paid vacation
# and parental leave"): taken out together, both support tests above decide for all of them. A word joins the group
# when its cosine to the question is at least JOINT_CENTRALITY (set on all dev sets: 0.15 refused 6 more
# unanswerable questions than without it, 0.25 four, no answerable one at either; the answerable groups' second
# drops stay at or below 0.012)
JOINT_CENTRALITY = 0.15


@dataclass(frozen=True)
class WordEvidence:
    """What the corpus offers for one word of a question (plain values: table-testable)."""

    word: str
    neighbour: str  # the corpus word closest in meaning
    similarity: float  # cosine of the word and that neighbour
    centrality: float = 0.0  # cosine of the word and the whole question: is it what is asked about?
    closer_without: float = 0.0  # how much closer the question comes to its best top passage without the word
    second_closer_without: float | None = None  # the same by the second dense model, against the whole corpus
    joint: tuple[float, float] | None = None  # both drops with every central word of the question taken out together


def topic_candidates(question: str, unknown: Sequence[str], profile: Profile) -> list[str]:
    """Words of the clause that asks that the corpus never uses (`unknown`, as the retriever found them),
    other than stop words, the words of the profile's subjects, synonyms and measures, and a subject's verb
    (`_verb_after`: "What does a pastry chef shoulder?") (pure)."""
    vocabulary = [*profile.subjects, *(t for pair in profile.synonyms for t in pair), *(m for m, _ in profile.measures)]
    own = {base_word(w) for text in vocabulary for w in plain_words(text)}
    clause = normalize(asking_clause(question))
    verbs = {v.lower() for s in mentions(clause, profile) if (v := _verb_after(clause[s.end :]))}
    missing = {t.lower() for t in unknown} - verbs
    words = _CLAUSE_WORD.findall(clause.lower())
    return [w for w in dict.fromkeys(words) if w in missing and w not in STOPWORDS and base_word(w) not in own]


def _verb_after(text: str) -> str | None:
    """The word right after a subject when it ends the clause or a function word follows it: the subject's verb
    ("does a pastry chef shoulder?", "Do chefs shoulder a ..."), not a noun it qualifies ("the chef lifestyle
    compared with")."""
    m = re.match(r"\W*([A-Za-z][\w'-]*)\W*([A-Za-z][\w'-]*)?", text)
    return m.group(1) if m and (not m.group(2) or m.group(2).lower() in STOPWORDS) else None


def absent_topics(question: str, evidence: Sequence[WordEvidence]) -> tuple[tuple[str, ...], str]:
    """What the clause that asks turns on that the corpus never discusses, as the question writes it
    (consecutive such words make one phrase: "parental leave"), and the evidence for each (pure).

    A word counts when the corpus has no word near it in meaning, it is about what is asked, and the
    top passages match the question better without it: they speak of the subject, not of the word.
    """
    absent = [
        e
        for e in evidence
        if (
            e.closer_without > SUPPORT_DROP
            and (
                (e.similarity < NEIGHBOUR_SIMILARITY and e.centrality >= CENTRALITY)
                or (e.second_closer_without is not None and e.second_closer_without >= SECOND_SUPPORT_DROP)
            )
        )
        or (e.joint is not None and e.joint[0] > SUPPORT_DROP and e.joint[1] >= SECOND_SUPPORT_DROP)
    ]
    if not absent:
        return (), ""
    words = {e.word.lower() for e in absent}
    clause = [*_CLAUSE_WORD.findall(asking_clause(question)), ""]
    phrases: list[str] = []
    start = None
    for i, w in enumerate(clause):
        if w.lower() in words:
            start = i if start is None else start
            continue
        if start is not None:
            # a noun phrase opened by a determiner goes on to its last word: "the tattoo policy for" -> "tattoo policy"
            opened = start > 0 and clause[start - 1].lower() in _DETERMINERS
            ends = bool(w) and w.lower() not in STOPWORDS and (clause[i + 1].lower() in STOPWORDS or not clause[i + 1])
            phrases.append(" ".join(clause[start : i + 1] if opened and ends else clause[start:i]))
            start = None
    why = "; ".join(
        f"{e.word}: nearest corpus word {e.neighbour!r} {e.similarity:.2f}"
        + (f", second model {e.second_closer_without:+.3f} closer without it" if e.second_closer_without else "")
        + (f", {e.joint[0]:+.3f} / {e.joint[1]:+.3f} closer without all of them" if e.joint else "")
        for e in absent
    )
    return tuple(dict.fromkeys(phrases)), why


def word_evidence(
    question: str,
    words: Sequence[str],
    chunk_ids: Sequence[str],
    embed: Embed,
    nearest: Nearest,
    sentences: Sentences,
    closest: Closest | None = None,
) -> list[WordEvidence]:
    """`WordEvidence` of each of `words` with the real model: its nearest corpus word, its cosine to the
    question and the top passages' best cosine to the question with and without it (chunk vectors are the
    mean of their sentence vectors, as the retriever scores them); with `closest` (the second dense model),
    for a word the top passages support no better than that, the same test against the whole corpus."""
    chunks = [v for v in (sentences(i)[1] for i in chunk_ids) if len(v)]
    if not words or not chunks:
        return []
    near = [WordEvidence(w, n, round(sim, 4)) for w, (n, sim) in zip(words, nearest(words), strict=True)]
    top = unit_rows(np.stack([v.mean(axis=0) for v in chunks]))
    without = {w: _without(question, w) for w in words}
    vectors = unit_rows(embed([question, *words, *without.values()]))
    q, own, rest = vectors[0], vectors[1 : 1 + len(words)], vectors[1 + len(words) :]
    best = float((top @ q).max())
    measured = [
        replace(e, centrality=round(float(v @ q), 4), closer_without=round(float((top @ r).max()) - best, 4))
        for e, v, r in zip(near, own, rest, strict=True)
    ]
    unsupported = [e.word for e in measured if e.closer_without > SUPPORT_DROP]
    group = [e.word for e in measured if e.centrality >= JOINT_CENTRALITY]
    if closest is not None and len(group) >= 2:  # "paid vacation and parental leave": each word alone leaves the rest
        together = question
        for w in group:
            together = _without(together, w)
        joint_main = round(float((top @ unit_rows(embed([together]))[0]).max()) - best, 4)
        opinion = closest([question, together]) if joint_main > SUPPORT_DROP else []  # asked only when unsupported
        if opinion:  # none without a second model
            joint = (joint_main, round(opinion[1] - opinion[0], 4))
            measured = [replace(e, joint=joint) if e.word in group else e for e in measured]
    opinion = closest([question, *(without[w] for w in unsupported)]) if closest is not None and unsupported else []
    if not opinion:
        return measured
    base, *alone = opinion
    second = {w: round(b - base, 4) for w, b in zip(unsupported, alone, strict=True)}
    return [replace(e, second_closer_without=second.get(e.word)) for e in measured]


def _without(question: str, word: str) -> str:
    """The question with `word` taken out."""
    return re.sub(r"\s+", " ", re.sub(rf"\b{re.escape(word)}\b", " ", question, flags=re.I)).strip()
