"""Reading the people a question names, from English word shapes and meaning (no corpus words).

An unknown word shaped like a person noun ("-er", "-ist", "-ian", ...) names a subject the corpus lacks, unless its
meaning is far from a person's (`comparative`: "the safer bet"); a qualifier that grades a person ("a good chef") or
says where they stand ("an aspiring chef") names no kind of work; `near_subjects` finds the kinds of a generic role
that no passage names ("sushi chef"). `answer.judge` reads these as refusal signals.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

import numpy as np

from advisor.answer.intent import asking_clause
from advisor.profile import Mention
from advisor.schema import Profile
from advisor.text import STOPWORDS, normalize, singular
from advisor.vectors import unit_rows

Embed = Callable[[Sequence[str]], np.ndarray]

# A singular word in "-er" this far in meaning from a person is an adjective or an adverb ("the safer bet",
# "harder"), not a person the corpus lacks: comparatives and adverbs 0.14-0.27, people 0.31-0.57 (MiniLM, table in
# tests/integration/test_judge_topics_index.py)
PERSON_SIMILARITY = 0.29
PERSON = ("a person", "someone who does a job", "a worker")  # what a person noun means, in plain English
# English person-noun endings: an unknown word shaped like one names a subject the corpus lacks.
PERSON_NOUN = re.compile(r"^[a-z]{3,}(?:er|or|ist|ian|ant|eer|ee)s?$")
# Words that say where a person stands, not what they do: "an aspiring X" is still an X.
STAGE_WORDS = frozenset(
    """aspiring prospective future would-be budding new young experienced successful fresh grad grads graduate
    recent newly entry entry-level junior""".split()
)
# Words that place a role rather than name a kind of it: "below potter level", "beyond glazier".
PREPOSITIONS = frozenset("below above under over beyond past into onto toward towards than like via near".split())
# Words that grade a person rather than name a kind of work: "a good chef" is still a chef.
GRADE_WORDS = frozenset(
    """
    good great better best top strong successful typical average plain ordinary regular normal standard real
    true effective excellent bad poor solid decent skilled talented qualified professional beginner trainee
    """.split()
)
# Words shaped like person nouns that are not people ("a career", "a degree"), or grade one ("a beginner").
_NOT_PERSONS = (
    frozenset("career number order offer answer matter other paper letter quarter semester degree fee".split())
    | GRADE_WORDS
    | STAGE_WORDS
)
PEOPLE = re.compile(r"^[a-z]{3,}(?:ists|ians|ants|eers)$")  # plural, and rarely anything but people


def asked_people(question: str) -> list[str]:
    """People the clause that asks names after "a"/"an" ("a tax auditor", "a chief data officer"), each up to
    its person noun: the first word within four of the article shaped like one ("-er", "-or", "-ist",
    "-ian", ...), not one that grades ("a beginner"). A person's preamble ("I'm a teacher.") is not
    asked about (pure)."""
    words = re.findall(r"[A-Za-z][\w/'-]*", asking_clause(question))
    out = []
    for i, w in enumerate(words):
        if w.lower() in ("a", "an"):
            end = next((j for j in range(i + 1, min(i + 5, len(words))) if is_person(words[j].lower())), None)
            if end is not None:
                out.append(" ".join(words[i + 1 : end + 1]))
    return list(dict.fromkeys(out))


_QUESTION_WORDS = frozenset("how what which who whom whose why when where much many".split())
# the words that put two roles side by side: "X compared with Y", "X vs Y", "X or Y", "X than Y"
_SIDE_BY_SIDE = re.compile(r"\b(?:compared?\s+(?:with|to)|comparing|vs\.?|versus|than|or|against)\b", re.I)


def compared_people(question: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """People the clause that asks compares with a subject it names, outside that subject's mention (`spans`, in
    `question`): a plural person noun ("-ists", "-ians", ...) with the one or two words before it that are no
    function words ("How much do UK tax accountants earn compared with potters?" -> "UK tax
    accountants"). Only when the clause puts two roles side by side (pure)."""
    clause = asking_clause(question)
    if not _SIDE_BY_SIDE.search(clause):
        return []
    offset = question.rfind(clause)
    out = []
    for m in re.finditer(r"[A-Za-z][\w/'-]*", clause):
        if not PEOPLE.match(m.group(0).lower()):
            continue
        start = m.start()
        words = list(re.finditer(r"[A-Za-z][\w/'-]*", clause[: m.start()]))[-2:]
        for w in reversed(words):
            if w.group(0).lower() in STOPWORDS or w.group(0).lower() in _QUESTION_WORDS:
                break
            start = w.start()
        at, end = offset + start, offset + m.end()
        if not any(a < end and at < b for a, b in spans):
            out.append(clause[start : m.end()])
    return out


def named_in(phrase: str, texts: Sequence[str]) -> bool:
    """The phrase's person noun with the word before it, in singular or plural, occurs in one of `texts`
    (lower-cased, normalised): "research scientists" for "ML research scientists" (pure)."""
    words = phrase.lower().split()[-2:]
    words[-1] = singular(words[-1])
    pattern = re.compile(r"\b" + r"\W+".join(re.escape(w) for w in words) + r"(?:s|es)?\b")
    return any(pattern.search(t) for t in texts)


def people_only(named: list[str], embed: Embed) -> list[str]:
    """`named` without the single words shaped like a person noun that mean no person (`comparative`)."""
    shaped = [w for w in dict.fromkeys(named) if " " not in w and w.lower().endswith("er")]
    if not shaped:
        return named
    vectors = unit_rows(embed([*shaped, *PERSON]))
    sims = (vectors[: len(shaped)] @ vectors[len(shaped) :].T).max(axis=1)
    drop = {w for w, sim in zip(shaped, sims.tolist(), strict=True) if comparative(w, sim)}
    return [w for w in named if w not in drop]


def is_person(word: str) -> bool:
    return bool(PERSON_NOUN.match(word)) and word not in _NOT_PERSONS


def comparative(word: str, similarity: float) -> bool:
    """A singular word in "-er" whose meaning is far from a person's (`similarity`, its cosine to `PERSON`): an
    adjective or adverb shaped like a person noun ("the safer bet"), not a person (pure)."""
    return word.lower().endswith("er") and similarity < PERSON_SIMILARITY


def near_subjects(
    question: str, found: Sequence[Mention], passages: Sequence[str], profile: Profile
) -> tuple[str, ...]:
    """Kinds of a generic role that the question asks about and no passage names (pure).

    "What does a sushi chef earn?" over documents about pastry chefs and head chefs: "chef" is a head
    noun the documents only use qualified (no title names it alone), "sushi chef" appears in no
    retrieved passage, and "sushi" does not grade the person ("a good chef") or say where they stand
    ("an aspiring chef"). Only mentions in the clause that asks count: "I'm a line cook. Can I become
    a pastry chef?" is about pastry chefs.
    """
    asked = normalize(asking_clause(question)).lower()
    titles = [normalize(t).lower() for _, t in profile.documents]
    out = []
    for m in found:
        words = m.qualifier.lower().split()
        kinds = [w for w in words if w not in STAGE_WORDS and w not in GRADE_WORDS and not w.endswith("ly")]
        if any(w in PREPOSITIONS for w in words):
            continue  # "below potter level" places the role
        if after_auxiliary(question, m):
            continue  # "a nurse who has made Charge Nurse": "made" is a verb, not a kind of nurse
        if not kinds or len(m.subject.split()) != 1 or normalize(m.text).lower() not in asked:
            continue  # "a newly qualified plumber" is graded, not a kind of its own
        head = m.subject.lower()
        alone = re.compile(rf"(?:^|[:,.;!?]\s*|\b(?:and|or|vs\.?|versus|an?|the)\s+){re.escape(head)}s?\b")
        if any(alone.search(t) for t in titles):
            continue  # the documents are about the role itself: any kind of it is theirs
        phrase = re.compile(r"\b" + r"\W+".join(re.escape(w) for w in [*words, head]) + r"(?:s|es)?\b")
        if not any(phrase.search(t.lower()) for t in passages):
            out.append(f"{m.qualifier} {m.subject}")
    return tuple(dict.fromkeys(out))


_AUXILIARY = re.compile(
    r"\b(?:has|have|had|having|is|are|was|were|be|been|being|become|became|becomes|get|gets|got"
    # a word right after a subject pronoun or a modal is a verb too: "should I go potter", "you could go"
    r"|i|you|we|they|he|she|can|could|should|would|will|shall|may|might|must)\s*$",
    re.I,
)
_CONTRACTED = re.compile(r"\w['’](?:ve|re|s|d|m|ll)\b", re.I)  # "once they've made partner": a verb follows


def after_auxiliary(question: str, m: Mention) -> bool:
    """The mention's qualifier follows an auxiliary, a subject pronoun or a modal, so it is a verb or a
    complement, not a kind of the subject: "who has made Charge Nurse", "once you are qualified plumber",
    "should I go potter" (pure)."""
    return bool(m.qualifier) and (
        _AUXILIARY.search(question[: m.start]) is not None or _CONTRACTED.search(m.qualifier) is not None
    )
