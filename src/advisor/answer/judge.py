"""Deciding that the corpus does not answer a question, and saying what is missing.

Answerability is read from signals, not from lists of domain words (`signals` -> `Signals`, then
`decide`, a pure function):

- does the question ask to set the sources aside ("ignore your sources", "system prompt")?
- does it name a subject the corpus does not cover — a qualified form of one of the corpus's
  subjects whose qualifier the corpus never uses ("vegan chef"), or an unknown person noun?
- do the top passages speak about the subjects it names (every word of the subject in one passage)?
- does it name a place or employer (a capitalised name), or a year, that no top passage mentions
  (with the asked subject)? A name counts as mentioned when a passage names it another way whose
  embedding is as close as an alias is ("Britain" for "United Kingdom", "America" for "US"), with
  `ALIAS_SIMILARITY` set from a table of place and employer names (`tests/integration/test_judge_aliases.py`), not the
  golden sets.
- does the clause that asks, about a subject the corpus covers, turn on a word the corpus never uses and
  has no near neighbour for ("What is the tattoo policy for pastry chefs?"), that the top passages do not support?
- is anything in the corpus similar at all (best cosine), and does the corpus know its words?

Thresholds were calibrated on evals/dev/golden.jsonl only (see README, "Refusal"). The refusal names
what is missing, describes the corpus with the profile's description and suggests the profile's
example questions closest to the one asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from advisor.answer.intent import NAME, asking_clause, is_personal_decision, names_in, spelled_out
from advisor.profile import Mention, ProfileBound, mentions
from advisor.schema import Passage, Profile, Retrieval, Verdict
from advisor.text import STOPWORDS, normalize, plural, singular

INJECTION = re.compile(
    r"\b(ignore|disregard|forget|bypass)\b.{0,40}\b(sources?|instructions?|rules?|context|documents?|corpus|prompt)\b"
    r"|\b(tell|give)\s+me\s+a\s+(joke|poem|story)\b|\bpretend\s+(to\s+be|you)\b|\byou\s+are\s+now\b"
    r"|\bsystem\s+prompt\b|\bjailbreak\b|\bwithout\s+(using\s+)?(your\s+)?(sources|citations)\b"
    r"|\b(write|compose)\s+(me\s+)?a\s+(joke|poem|song|story)\b",
    re.IGNORECASE,
)

ALIAS_SIMILARITY = 0.75  # two names this close are one place (aliases >= 0.77, different places <= 0.71)
MIN_SIMILARITY = 0.30  # below this nothing in the corpus is about the question
MIN_SIMILARITY_KNOWN = 0.20  # ... unless the corpus knows every word of it (terse questions: "What is X?")
CONFIDENT_SIMILARITY = 0.55  # above this the question is in-domain even with unknown words
# share of content words the corpus must know when similarity is middling: on dev, answerable
# questions below CONFIDENT_SIMILARITY have coverage >= 0.80, unanswerable ones <= 0.67
MIN_COVERAGE = 0.75
SUGGESTIONS = 4
# An absent topic (`absent_topics`), set on evals/dev/golden-topics.jsonl: a word of the clause that asks
# - whose nearest corpus word is below NEIGHBOUR_SIMILARITY (the absent topics refused: 0.40-0.53; a word of an
#   answerable question passing the other two tests: 0.57 and up),
# - that is about what is asked: its cosine to the question >= CENTRALITY (an adverb or a verb of the frame: 0-0.25),
# - and whose removal brings the question closer to its best top passage by more than SUPPORT_DROP (the absent
#   topics refused: 0.026-0.15; a word the passages support: <= 0.016)
NEIGHBOUR_SIMILARITY = 0.55
CENTRALITY = 0.30
SUPPORT_DROP = 0.02
# A singular word in "-er" this far in meaning from a person is an adjective or an adverb ("the safer bet",
# "harder"), not a person the corpus lacks: comparatives and adverbs 0.14-0.27, people 0.31-0.57 (MiniLM, table in
# tests/integration/test_judge_topics_index.py)
PERSON_SIMILARITY = 0.29
PERSON = ("a person", "someone who does a job", "a worker")  # what a person noun means, in plain English

# English person-noun endings: an unknown word shaped like one names a subject the corpus lacks.
_PERSON = re.compile(r"^[a-z]{3,}(?:er|or|ist|ian|ant|eer|ee)s?$")
# Words that say where a person stands, not what they do: "an aspiring X" is still an X.
STAGE_WORDS = frozenset(
    """aspiring prospective future would-be budding new young experienced successful fresh grad grads graduate
    recent newly entry entry-level junior""".split()
)
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
_PEOPLE = re.compile(r"^[a-z]{3,}(?:ists|ians|ants|eers)$")  # plural, and rarely anything but people
_WORD = re.compile(r"[a-z0-9]+")
_DETERMINERS = frozenset("the a an what which any their his her my your our its some much many no".split())
_CLAUSE_WORD = re.compile(r"[A-Za-z][A-Za-z'-]*[A-Za-z]")  # a word as the retriever's vocabulary check reads it
_SELF = re.compile(r"\b(?:I|I'm|I've|I'd|my|me)\b", re.I)  # the person speaking of themselves


@dataclass(frozen=True)
class Signals:
    """What the judge reads about one question and its retrieval (all plain values: table-testable)."""

    injection: bool = False
    top_similarity: float = 1.0  # best cosine similarity of any chunk to the question
    term_coverage: float = 1.0  # share of the question's content words the corpus knows
    unknown_terms: tuple[str, ...] = ()
    unknown_subjects: tuple[str, ...] = ()  # subjects named that the corpus does not cover
    near_subjects: tuple[str, ...] = ()  # kinds of a generic role no passage names ("sushi chef")
    uncovered_subjects: tuple[str, ...] = ()  # known subjects no top passage speaks about
    missing_names: tuple[str, ...] = ()  # places / employers named that no top passage mentions
    absent_topics: tuple[str, ...] = ()  # what a covered subject is asked about that the corpus never discusses
    topic_evidence: str = ""  # why (the nearest corpus word of each), for the refusal reason
    subjects: tuple[str, ...] = field(default=())  # the subjects the question names


def decide(s: Signals) -> Verdict:
    """Whether to refuse, why (for logs and evals), and what is missing (for the refusal text)."""
    if s.injection:
        return Verdict(True, "asks to set the sources aside")
    if s.unknown_subjects:
        return Verdict(
            True,
            f"asks about a subject the corpus does not cover ({', '.join(s.unknown_subjects)})",
            missing=s.unknown_subjects,
            kind="subject",
        )
    if s.near_subjects:
        return Verdict(
            True,
            f"asks about a role no passage names ({', '.join(s.near_subjects)})",
            missing=s.near_subjects,
            kind="subject",
        )
    if s.missing_names:
        return Verdict(True, f"no passage mentions {', '.join(s.missing_names)}", missing=s.missing_names, kind="name")
    if s.uncovered_subjects:
        return Verdict(
            True,
            f"no passage speaks about {', '.join(s.uncovered_subjects)}",
            missing=s.uncovered_subjects,
            kind="subject",
        )
    if s.absent_topics:
        why = f" ({s.topic_evidence})" if s.topic_evidence else ""
        return Verdict(
            True,
            f"no passage discusses {', '.join(s.absent_topics)}{why}",
            missing=s.absent_topics,
            kind="topic",
        )
    if s.top_similarity < (MIN_SIMILARITY_KNOWN if s.term_coverage >= 1.0 else MIN_SIMILARITY):
        return Verdict(True, f"nothing similar in the corpus (best cosine {s.top_similarity:.2f})")
    if s.top_similarity < CONFIDENT_SIMILARITY and s.term_coverage < MIN_COVERAGE:
        return Verdict(
            True, f"the corpus does not know {', '.join(s.unknown_terms)}", missing=s.unknown_terms, kind="terms"
        )
    return Verdict(False, "answerable")


Embed = Callable[[Sequence[str]], np.ndarray]
Nearest = Callable[[Sequence[str]], list[tuple[str, float]]]  # each word's nearest corpus word and its cosine
Sentences = Callable[[str], tuple[list[str], np.ndarray]]  # a chunk's sentences and their unit vectors


@dataclass(frozen=True)
class WordEvidence:
    """What the corpus offers for one word of a question (plain values: table-testable)."""

    word: str
    neighbour: str  # the corpus word closest in meaning
    similarity: float  # cosine of the word and that neighbour
    # measured only for a word with no near neighbour (0.0 otherwise):
    centrality: float = 0.0  # cosine of the word and the whole question: is it what is asked about?
    closer_without: float = 0.0  # how much closer the question comes to its best top passage without the word


def topic_candidates(question: str, unknown: Sequence[str], profile: Profile) -> list[str]:
    """Words of the clause that asks that the corpus never uses (`unknown`, as the retriever found them),
    other than stop words, the words of the profile's subjects, synonyms and measures, and a subject's verb
    (`_verb_after`: "What does a pastry chef shoulder?") (pure)."""
    vocabulary = [*profile.subjects, *(t for pair in profile.synonyms for t in pair), *(m for m, _ in profile.measures)]
    own = {_base(w) for text in vocabulary for w in _WORD.findall(text.lower())}
    clause = normalize(asking_clause(question))
    verbs = {v.lower() for s in mentions(clause, profile) if (v := _verb_after(clause[s.end :]))}
    missing = {t.lower() for t in unknown} - verbs
    words = _CLAUSE_WORD.findall(clause.lower())
    return [w for w in dict.fromkeys(words) if w in missing and w not in STOPWORDS and _base(w) not in own]


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
        if e.similarity < NEIGHBOUR_SIMILARITY and e.centrality >= CENTRALITY and e.closer_without > SUPPORT_DROP
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
    why = "; ".join(f"{e.word}: nearest corpus word {e.neighbour!r} {e.similarity:.2f}" for e in absent)
    return tuple(dict.fromkeys(phrases)), why


def word_evidence(
    question: str,
    words: Sequence[str],
    passages: Sequence[Passage],
    embed: Embed,
    nearest: Nearest,
    sentences: Sentences,
) -> list[WordEvidence]:
    """`WordEvidence` of each of `words` with the real model: its nearest corpus word; then, for a word with
    no near one, its cosine to the question and the top passages' best cosine to the question with and
    without it (chunk vectors are the mean of their sentence vectors, as the retriever scores them)."""
    chunks = [v for v in (sentences(p.chunk.id)[1] for p in passages) if len(v)]
    if not words or not chunks:
        return []
    near = [WordEvidence(w, n, round(sim, 4)) for w, (n, sim) in zip(words, nearest(words), strict=True)]
    far = [e.word for e in near if e.similarity < NEIGHBOUR_SIMILARITY]
    if not far:
        return near
    top = _unit(np.stack([v.mean(axis=0) for v in chunks]))
    without = [re.sub(r"\s+", " ", re.sub(rf"\b{re.escape(w)}\b", " ", question, flags=re.I)).strip() for w in far]
    vectors = _unit(embed([question, *far, *without]))
    q, own, rest = vectors[0], vectors[1 : 1 + len(far)], vectors[1 + len(far) :]
    best = float((top @ q).max())
    measured = {
        w: (round(float(v @ q), 4), round(float((top @ r).max()) - best, 4))
        for w, v, r in zip(far, own, rest, strict=True)
    }
    return [WordEvidence(e.word, e.neighbour, e.similarity, *measured.get(e.word, (0.0, 0.0))) for e in near]


def _unit(m: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(m, axis=1, keepdims=True)
    return m / np.where(norms == 0, 1, norms)


def alias_of(name: str, others: Sequence[str], embed: Embed, threshold: float = ALIAS_SIMILARITY) -> str | None:
    """The one of `others` that names what `name` names another way ("Britain": "United Kingdom"), if any."""
    others = [o for o in dict.fromkeys(others) if o.lower() != name.lower()]
    if not others:
        return None
    vectors = embed([name, *others])
    sims = vectors[1:] @ vectors[0]
    best = int(np.argmax(sims))
    return others[best] if float(sims[best]) >= threshold else None


def signals(
    question: str,
    retrieval: Retrieval,
    profile: Profile,
    embed: Embed | None = None,
    nearest: Nearest | None = None,
    sentences: Sentences | None = None,
) -> Signals:
    """The judge's signals for a (standalone) question and what was retrieved for it.

    `embed` (the index's embedder) lets a name the passages spell another way count as mentioned; with
    `nearest` (the corpus word nearest each word) and `sentences` (a chunk's sentence vectors) too, a
    covered subject asked about a topic the corpus never discusses is found (`absent_topics`).
    """
    unknown = {t.lower() for t in retrieval.unknown_terms}
    texts = [_passage_words(p) for p in retrieval.passages]
    raw = [normalize(f"{p.chunk.title} {p.chunk.section or ''} {p.chunk.text}") for p in retrieval.passages]
    found = mentions(question, profile)
    unknown_subjects: list[str] = []
    uncovered: list[str] = []
    listed = {normalize(s).lower() for s in profile.subjects}
    asked_clause = normalize(asking_clause(question)).lower()
    # "I've been a line cook for years. Should I become a pastry chef?": when the clause that asks names a
    # subject the corpus knows, the other subjects named are the person's background, not what is asked about
    background = any(m.known and normalize(m.text).lower() in asked_clause for m in found)
    for m in found:
        if background and normalize(m.text).lower() not in asked_clause:
            continue
        # a graded person is still the person ("a decent nurse"), and a word after an auxiliary is a verb
        qualifier = (
            []
            if _after_auxiliary(question, m)
            else [w.lower() for w in m.qualifier.split() if w.lower() not in STAGE_WORDS]
        )
        qualifier = [] if all(w in GRADE_WORDS for w in qualifier) else qualifier
        subject = " ".join(w for w in m.subject.split() if w.lower() not in STAGE_WORDS)
        # (a hyphenated word is never "unknown": the retriever's vocabulary check misses its parts)
        if qualifier and all(
            w in unknown and "-" not in w and not any(_contains(t, w) for t in texts) for w in qualifier
        ):
            unknown_subjects.append(f"{m.qualifier} {m.subject}")  # "vegan chef"
        elif subject.lower() not in listed and not any(_speaks_about(subject, words) for words in texts):
            uncovered.append(subject)  # a combination the corpus never names ("executive cook")
    near = near_subjects(question, found, raw, profile)
    spans = [(m.start, m.end) for m in found]
    text = normalize(question)
    if not found:
        # a person the question asks about ("a tax auditor", "data annotators") that no passage names, or that the
        # corpus never uses, is not the corpus's subject, however close the rest of the question is ("tax", "data")
        unknown_subjects += [
            p for p in asked_people(question) if not any(_base(p.split()[-1]) in words for words in texts)
        ]
        clause = asking_clause(question).lower()
        heads = {p.split()[-1].lower() for p in unknown_subjects}
        unknown_subjects += [
            w
            for w in retrieval.unknown_terms
            if _is_person(w.lower()) and w.lower() not in heads and re.search(rf"\b{re.escape(w.lower())}\b", clause)
        ]
    if not found and retrieval.top_dense < CONFIDENT_SIMILARITY:  # "What do pharmacists earn?"
        unknown_subjects += [w for w in retrieval.unknown_terms if _PERSON.match(w.lower())]
        unknown_subjects += [  # a known word, but no passage speaks of such people ("accountants")
            w
            for w in dict.fromkeys(re.findall(r"[a-z]+", text.lower()))
            if _PEOPLE.match(w) and not any(_base(w) in words for words in texts)
        ]
    if embed is not None:
        unknown_subjects = _people_only(unknown_subjects, embed)
    asked = [m.subject for m in found if m.known]
    names: list[str] = []
    # the places, employers and tools of the person's own story are what they weigh their decision on, not what
    # they ask about ("I have wired Siemens panels for six years. Should I train as a welder?")
    told = is_personal_decision(text) and self_preamble(text)
    subject_words = {w.lower() for s in profile.subjects for w in s.split()}
    for name in names_in(normalize(asking_clause(text)) if told else text) + re.findall(
        r"(?<![$£€₹\d])\b(?:19|20)\d\d\b(?!\s*%)", text
    ):  # and years
        if _inside(text, name, spans) or name.lower() in subject_words:
            continue  # a word of a subject's name ("QA" of "QA tester") is no place or employer
        # a passage must mention the name, and speak about the asked subject too if there is one
        about = [
            i
            for i, (words, t) in enumerate(zip(texts, raw, strict=True))
            if _contains(words, name) or spelled_out(name, t)
        ]
        if not about and embed is not None and not name.isdigit():
            named = [_bare_names(t) for t in raw]
            alias = alias_of(name, [n for ns in named for n in ns], embed)  # one embedding call for all passages
            about = [i for i, ns in enumerate(named) if alias in ns] if alias else []
        if not about:
            names.append(name)
        elif asked and not any(_speaks_about(_core(sub), texts[i]) for i in about for sub in asked):
            names.append(f"{plural(asked[0])} {_preposition(text, name)}{name}")
    covered = any(m.known and normalize(m.text).lower() in asked_clause for m in found)
    coverage, unknown_terms = asked_coverage(question, retrieval.term_coverage, retrieval.unknown_terms, covered)
    topics, why = (), ""
    if embed is not None and nearest is not None and sentences is not None and found:  # a subject the corpus covers
        words = topic_candidates(question, retrieval.unknown_terms, profile)
        evidence = word_evidence(question, words, retrieval.passages, embed, nearest, sentences) if words else []
        topics, why = absent_topics(question, evidence)
    return Signals(
        injection=bool(INJECTION.search(question)),
        top_similarity=retrieval.top_dense,
        term_coverage=coverage,
        unknown_terms=unknown_terms,
        unknown_subjects=tuple(dict.fromkeys(unknown_subjects)),
        near_subjects=near,
        uncovered_subjects=tuple(dict.fromkeys(uncovered)),
        missing_names=tuple(dict.fromkeys(names)),
        absent_topics=topics,
        topic_evidence=why,
        subjects=tuple(m.subject for m in found),
    )


def asked_people(question: str) -> list[str]:
    """People the clause that asks names after "a"/"an" ("a tax auditor", "a chief data officer"), each up to
    its person noun: the first word within four of the article shaped like one ("-er", "-or", "-ist",
    "-ian", ...), not one that grades ("a beginner"). A person's preamble ("I'm a teacher.") is not
    asked about (pure)."""
    words = re.findall(r"[A-Za-z][\w/'-]*", asking_clause(question))
    out = []
    for i, w in enumerate(words):
        if w.lower() in ("a", "an"):
            end = next((j for j in range(i + 1, min(i + 5, len(words))) if _is_person(words[j].lower())), None)
            if end is not None:
                out.append(" ".join(words[i + 1 : end + 1]))
    return list(dict.fromkeys(out))


def _people_only(named: list[str], embed: Embed) -> list[str]:
    """`named` without the single words shaped like a person noun that mean no person (`comparative`)."""
    shaped = [w for w in dict.fromkeys(named) if " " not in w and w.lower().endswith("er")]
    if not shaped:
        return named
    vectors = _unit(embed([*shaped, *PERSON]))
    sims = (vectors[: len(shaped)] @ vectors[len(shaped) :].T).max(axis=1)
    drop = {w for w, sim in zip(shaped, sims.tolist(), strict=True) if comparative(w, sim)}
    return [w for w in named if w not in drop]


def _is_person(word: str) -> bool:
    return bool(_PERSON.match(word)) and word not in _NOT_PERSONS


def comparative(word: str, similarity: float) -> bool:
    """A singular word in "-er" whose meaning is far from a person's (`similarity`, its cosine to `PERSON`): an
    adjective or adverb shaped like a person noun ("the safer bet"), not a person (pure)."""
    return word.lower().endswith("er") and similarity < PERSON_SIMILARITY


def self_preamble(question: str) -> bool:
    """The person speaks of themselves before the clause that asks ("I do Java. Is it time?") (pure)."""
    clause = asking_clause(question)
    preamble = question[: question.rfind(clause)] if clause else ""
    return bool(preamble.strip()) and _SELF.search(preamble) is not None


def asked_coverage(
    question: str, coverage: float, unknown: Sequence[str], covered: bool = False
) -> tuple[float, tuple[str, ...]]:
    """The share of the words the corpus knows, and those it does not; when the person first speaks of
    themselves ("I enrolled in two online courses and quit. Would this one be different?"), the clause
    that asks alone, if the corpus knows more of it: their story is not what they ask about. A personal
    decision whose clause that asks names a subject the corpus covers (`covered`: "Is going the X route a
    dumb move for me?") is about that subject: its other words are how the person puts it, and no share
    of them refuses it (pure)."""
    if covered and is_personal_decision(question):
        return max(coverage, MIN_COVERAGE), tuple(unknown)
    if not self_preamble(question):
        return coverage, tuple(unknown)
    clause = asking_clause(question)
    words = [w for w in dict.fromkeys(_WORD.findall(clause.lower())) if len(w) > 2 and w not in STOPWORDS]
    missing = {t.lower() for t in unknown}
    kept = tuple(t for t in unknown if t.lower() in words)
    asked = 1.0 - len([w for w in words if w in missing]) / len(words) if words else 1.0
    return (asked, kept) if asked > coverage else (coverage, tuple(unknown))


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
        if _after_auxiliary(question, m):
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
    r"\b(?:has|have|had|having|is|are|was|were|be|been|being|become|became|becomes|get|gets|got)\s*$", re.I
)


_CONTRACTED = re.compile(r"\w['’](?:ve|re|s|d|m|ll)\b", re.I)  # "once they've made partner": a verb follows


def _after_auxiliary(question: str, m: Mention) -> bool:
    """The mention's qualifier follows an auxiliary, so it is a verb or a complement, not a kind of the
    subject: "who has made Charge Nurse", "once you are qualified plumber" (pure)."""
    return bool(m.qualifier) and (
        _AUXILIARY.search(question[: m.start]) is not None or _CONTRACTED.search(m.qualifier) is not None
    )


def _passage_words(p: Passage) -> set[str]:
    c = p.chunk
    return {_base(w) for w in _WORD.findall(normalize(f"{c.title} {c.section or ''} {c.text}").lower())}


def _base(word: str) -> str:
    return singular(word.lower().strip("'"))


def _speaks_about(subject: str, words: set[str]) -> bool:
    """Every word of the subject occurs in the passage ("executive chef" in "Executive / Head Chef")."""
    return all(_base(w) in words for w in _WORD.findall(subject.lower()))


def _contains(words: set[str], name: str) -> bool:
    return all(_base(w) in words for w in _WORD.findall(name.lower()) if w not in ("of", "the"))


def _core(subject: str) -> str:
    """A subject without its level: its last two words ("senior pastry chef" -> "pastry chef")."""
    return " ".join(subject.split()[-2:])


def _preposition(text: str, name: str) -> str:
    """The words that introduce `name` in the question ("in the "), or "in "."""
    m = re.search(rf"\b((?:in|at|for|from|with|across|outside)\s+(?:the\s+)?){re.escape(name)}", text, re.I)
    return m.group(1) if m else "in "


def _bare_names(text: str) -> list[str]:
    """Every run of capitalised words in a passage, split at function words, sentence openers included
    ("Guide In the United Kingdom" -> "Guide", "United Kingdom"): the candidates for an alias."""
    out = []
    for m in NAME.finditer(text):
        run: list[str] = []
        for word in [*m.group(1).split(), "the"]:
            if word.lower() in STOPWORDS and not (len(word) > 1 and word.isupper()):  # "US" is not "us"
                if run:
                    out.append(" ".join(run))
                run = []
            else:
                run.append(word)
    return out


def _inside(text: str, word: str, spans: list[tuple[int, int]]) -> bool:
    i = text.lower().find(word.lower())
    return any(a <= i < b for a, b in spans)


def suggestions(question: str, profile: Profile, n: int = SUGGESTIONS) -> list[str]:
    """The profile's example questions closest to `question` by shared words (then in profile order)."""

    def content(text: str) -> set[str]:
        return {_base(w) for w in _WORD.findall(text.lower()) if len(w) > 2 and w not in STOPWORDS}

    asked = content(question)

    def overlap(example: str) -> int:
        return len(asked & content(example))

    plain = [q for q in profile.examples if not re.search(r"\d", q)]  # a refusal states no number
    ranked = sorted(enumerate(plain), key=lambda e: (-overlap(e[1]), e[0]))
    return [q for _, q in ranked[:n]]


# What a greeting, thanks, a farewell or a question in another language is told (`advisor.answer.intake`).
INTAKE_HEADS = {
    "hello": "Hello! I answer questions from my sources, and every answer cites the passages it comes from.",
    "thanks": "You're welcome! Ask me anything else my sources cover.",
    "bye": "Goodbye, and good luck!",
    "language": "I answer in English from English documents: please ask your question in English.",
}


def refusal_text(question: str, verdict: Verdict, profile: Profile) -> str:
    """The polite refusal: what is missing, what the sources cover, and questions they do answer."""
    missing = ", ".join(verdict.missing)
    if verdict.kind in INTAKE_HEADS:
        head = INTAKE_HEADS[verdict.kind]
    elif verdict.kind == "subject" and missing:
        missing = ", ".join(plural(singular(m)) for m in verdict.missing)
        head = f"I can't answer that from my sources: they have nothing on {missing}."
    elif verdict.kind == "topic" and missing:
        named = [plural(m.subject) for m in mentions(question, profile)]  # "a typical pastry chef": pastry chefs
        about = f" for {' or '.join(dict.fromkeys(named))}" if named else ""
        head = f"I can't answer that from my sources: they don't discuss {' or '.join(verdict.missing)}{about}."
    elif verdict.kind == "name" and missing:
        # a year is not repeated: the refusal cites nothing, so it states no number
        year = re.compile(r"(?:in\s+)?\b(?:19|20)\d\d\b")
        missing = ", ".join(year.sub("the year you asked about", m) for m in verdict.missing)
        head = f"I can't answer that from my sources: they have no figures or facts for {missing}."
    elif verdict.reason.startswith("asks to set"):
        head = "I can't answer that: I only answer from my sources, with citations."
    else:
        head = "I can't answer that from my sources."
    parts = [head]
    if profile.description:
        parts.append(f"They are {_lower_first(profile.description)}")
    examples = suggestions(question, profile)
    if examples:
        parts.append("You could ask, for example:\n" + "\n".join(f"- {q}" for q in examples))
    elif profile.subjects:
        parts.append("You could ask about " + ", ".join(profile.subjects[:4]) + ".")
    return " ".join(parts[:2]) + ("\n" + parts[2] if len(parts) > 2 else "")


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


class Judge(Protocol):
    """Decides whether the retrieved passages answer the question, and words the refusal when not."""

    name: str

    def judge(self, question: str, retrieval: Retrieval) -> Verdict: ...

    def refusal(self, question: str, verdict: Verdict) -> str: ...


class RuleJudge(ProfileBound):
    """The rule-based default: the signals above against thresholds calibrated on the dev split.

    `profile` is the corpus profile or a function returning the current one (the `Advisor` binds its own).
    """

    name = "rules"

    def __init__(
        self,
        profile=None,
        embed: Embed | None = None,
        nearest: Nearest | None = None,
        sentences: Sentences | None = None,
    ) -> None:
        super().__init__(profile)
        self.embed = embed
        self.nearest = nearest
        self.sentences = sentences

    def judge(self, question: str, retrieval: Retrieval) -> Verdict:
        return decide(signals(question, retrieval, self.profile, self.embed, self.nearest, self.sentences))

    def refusal(self, question: str, verdict: Verdict) -> str:
        return refusal_text(question, verdict, self.profile)
