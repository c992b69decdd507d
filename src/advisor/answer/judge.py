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
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np

from advisor.answer.intent import (
    NAME,
    asking_clause,
    asks_for_pay,
    asks_for_price,
    content_terms,
    is_personal_decision,
    names_in,
    speaks_of_money,
    speaks_of_self,
    spelled_out,
    statistics_in,
    with_digits,
)
from advisor.answer.people import (
    GRADE_WORDS,
    PEOPLE,
    PERSON_NOUN,
    PREPOSITIONS,
    STAGE_WORDS,
    after_auxiliary,
    asked_people,
    compared_people,
    is_person,
    named_in,
    near_subjects,
    people_only,
)
from advisor.answer.refusal import refusal_text
from advisor.answer.topics import (
    Closest,
    Embed,
    Nearest,
    Sentences,
    absent_topics,
    topic_candidates,
    word_evidence,
)
from advisor.profile import Mention, ProfileBound, measure_in, mentions, names_an_author
from advisor.quantities import FIGURE_KINDS
from advisor.schema import Passage, Profile, Retrieval, Verdict
from advisor.screen import ASKABLE
from advisor.text import NUMBER, STOPWORDS, base_word, normalize, plain_words, plural, split_sentences

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
# a word whose nearest corpus word is this close is one the corpus knows in other words, for coverage (dev: "folks" →
# "people" 0.74, "college" → "academic" 0.68; "stocks" → "invest" 0.65 is no word of careers: 0.55 answered it)
KNOWN_ELSEWHERE = 0.67
_POINTS_BACK = re.compile(  # a question that points back to the place of the person's story
    r"\b(?:here|there|locally|local|nearby)\b|\bin\s+my\s+(?:city|town|area|region|country|state)\b", re.I
)


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
    story_names: tuple[str, ...] = ()  # those of the person's own story, not of what they ask: not refused
    absent_topics: tuple[str, ...] = ()  # what a covered subject is asked about that the corpus never discusses
    topic_evidence: str = ""  # why (the nearest corpus word of each), for the refusal reason
    no_price: bool = False  # a price is asked and no retrieved passage states an amount of money
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
    if s.no_price:
        return Verdict(
            True, "a price is asked and no passage states an amount of money", missing=("cost",), kind="topic"
        )
    if s.top_similarity < (MIN_SIMILARITY_KNOWN if s.term_coverage >= 1.0 else MIN_SIMILARITY):
        return Verdict(True, f"nothing similar in the corpus (best cosine {s.top_similarity:.2f})")
    if s.top_similarity < CONFIDENT_SIMILARITY and s.term_coverage < MIN_COVERAGE and not s.subjects:
        return Verdict(
            True, f"the corpus does not know {', '.join(s.unknown_terms)}", missing=s.unknown_terms, kind="terms"
        )
    return Verdict(False, "answerable", unmentioned=s.story_names)


_PRICE_WORDS = frozenset(content_terms("cost costs price fee fees tuition much"))
_QUANTIFIERS = frozenset("all each every both".split())
# a price stated without an amount: "free", "at no cost"
_PRICE_IN_WORDS = re.compile(r"\bfree\b|\bno\s+cost\b", re.I)


def states_price(clause: str, passages: Sequence[str], subject_words: Collection[str] = ()) -> bool:
    """A sentence of the passages states an amount of money (or a price in words: "a four-figure investment",
    "free") and shares a word with what the clause asks the price of, beyond the subjects' names ("the exam" of
    "How much does the glazing exam cost?"): a pay figure of the subject is no price of its exam (pure)."""
    # a count or a quantifier says how many, not what of ("all four sections" is no "four-figure" sum)
    terms = {t for t in content_terms(with_digits(clause)) if not t.isdigit()} - _QUANTIFIERS
    asked = terms - _PRICE_WORDS - content_terms(" ".join(subject_words))
    return any(
        (FIGURE_KINDS["currency"].search(sentence) or _PRICE_IN_WORDS.search(sentence))
        and (not asked or asked & content_terms(sentence))  # "How much does it cost?" names nothing
        for text in passages
        for sentence in split_sentences(text)
    )


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
    closest: Closest | None = None,
) -> Signals:
    """The judge's signals for a (standalone) question and what was retrieved for it.

    `embed` (the index's embedder) lets a name the passages spell another way count as mentioned; with
    `nearest` (the corpus word nearest each word) and `sentences` (a chunk's sentence vectors) too, a
    covered subject asked about a topic the corpus never discusses is found (`absent_topics`); `closest` (the
    second dense model's best cosine to the corpus) is that test's second opinion.
    """
    unknown = {t.lower() for t in retrieval.unknown_terms}
    texts = [_passage_words(p) for p in retrieval.passages]
    raw = [normalize(f"{p.chunk.title} {p.chunk.section or ''} {p.chunk.text}") for p in retrieval.passages]
    found = mentions(question, profile)
    unknown_subjects: list[str] = []
    uncovered: list[str] = []
    kinds: list[Mention] = []
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
            if after_auxiliary(question, m)
            else [w.lower() for w in m.qualifier.split() if w.lower() not in STAGE_WORDS]
        )
        qualifier = [] if all(w in GRADE_WORDS for w in qualifier) else qualifier
        # a preposition places the role, it is no kind of it ("cap me below potter level")
        qualifier = [] if any(w in PREPOSITIONS for w in qualifier) else qualifier
        subject = " ".join(w for w in m.subject.split() if w.lower() not in STAGE_WORDS)
        # (a hyphenated word is never "unknown": the retriever's vocabulary check misses its parts)
        if qualifier and all(
            w in unknown and "-" not in w and not any(_contains(t, w) for t in texts) for w in qualifier
        ):
            unknown_subjects.append(f"{m.qualifier} {m.subject}")  # "vegan chef"
        elif qualifier and is_kind(m.qualifier):
            kinds.append(m)  # a kind of the subject in words the corpus knows ("raku potter")
        elif subject.lower() not in listed and not any(_speaks_about(subject, words) for words in texts):
            uncovered.append(subject)  # a combination the corpus never names ("executive cook")
    near = near_subjects(question, found, raw, profile)
    spans = [(m.start, m.end) for m in found]
    text = normalize(question)
    if not found:
        # a person the question asks about ("a tax auditor", "data annotators") that no passage names, or that the
        # corpus never uses, is not the corpus's subject, however close the rest of the question is ("tax", "data")
        unknown_subjects += [
            p for p in asked_people(question) if not any(base_word(p.split()[-1]) in words for words in texts)
        ]
        clause = asking_clause(question).lower()
        heads = {p.split()[-1].lower() for p in unknown_subjects}
        unknown_subjects += [
            w
            for w in retrieval.unknown_terms
            if is_person(w.lower()) and w.lower() not in heads and re.search(rf"\b{re.escape(w.lower())}\b", clause)
        ]
    if found:  # a role compared with a covered subject that no passage names ("tax accountants vs potters")
        lowered = [t.lower() for t in raw]
        unknown_subjects += [p for p in compared_people(text, spans) if not named_in(p, lowered)]
    if not found and retrieval.top_dense < CONFIDENT_SIMILARITY:  # "What do pharmacists earn?"
        # the people of the person's story are not asked about ("I have a toddler at home. Can I fit the course in?")
        said = set(re.findall(r"[a-z]+", (asking_clause(text) if self_preamble(text) else text).lower()))
        unknown_subjects += [w for w in retrieval.unknown_terms if PERSON_NOUN.match(w.lower()) and w.lower() in said]
        unknown_subjects += [  # a known word, but no passage speaks of such people ("accountants")
            w
            for w in dict.fromkeys(re.findall(r"[a-z]+", text.lower()))
            if PEOPLE.match(w) and w in said and not any(base_word(w) in words for words in texts)
        ]
    if embed is not None:
        unknown_subjects = people_only(unknown_subjects, embed)
    # the subjects asked about, a graded one too ("a qualified potter" is a potter)
    asked = [m.subject for m in found if all(w.lower() in GRADE_WORDS | STAGE_WORDS for w in m.qualifier.split())]
    names: list[str] = []
    # the places, employers and tools of the person's own story are what they weigh their decision on, not what
    # they ask about ("I have wired Siemens panels for six years. Should I train as a welder?")
    # and a story told before the question is not what is asked unless the question points back to it or asks
    # for money, which the sources quote per place ("I live in Manchester. How long does it take to qualify?",
    # not "I work in Ohio, what do they earn there?" or "I live in Java. What are glaziers paid?")
    # a decision is about the person whatever comes before it ("Asked through the API: should I …?"): what is
    # not in its asking clause is context, noted and not refused
    clause = asking_clause(text)
    told = is_personal_decision(text) or (
        self_preamble(text)
        and not (_POINTS_BACK.search(clause) or asks_for_pay(clause, lambda t: measure_in(t, profile)))
    )
    asked_names = set(names_in(normalize(clause))) if told else None
    story: list[str] = []
    placed: list[str] = []  # the names the passages speak of as asked
    # an advert or call to action naming it says nothing about it ("Join X's free class!")
    adverts = {i for i, p in enumerate(retrieval.passages) if p.chunk.set_aside and p.chunk.set_aside not in ASKABLE}
    subject_words = {w.lower() for s in profile.subjects for w in s.split()}
    asks_pay = asks_for_pay(clause, lambda t: measure_in(t, profile))
    # a chat types places in lower case: those a pay question names are read too (pay is quoted per place)
    typed = names_in(normalize(text)) + (lowercase_places(clause, retrieval.unknown_terms) if asks_pay else [])
    for name in typed + re.findall(r"(?<![$£€₹\d])\b(?:19|20)\d\d\b(?!\s*%)", text):  # and years
        if _inside(text, name, spans) or name.lower() in subject_words:
            continue  # a word of a subject's name ("QA" of "QA tester") is no place or employer
        if names_an_author(name, profile):
            continue  # "what does <publisher> recommend?" asks what that document says
        # a passage must mention the name, and speak about the asked subject too if there is one
        about = [
            i
            for i, (words, t) in enumerate(zip(texts, raw, strict=True))
            if (_contains(words, name) or spelled_out(name, t) or _inside_a_name(name, t)) and i not in adverts
        ]
        alias = None
        if not about and embed is not None and not name.isdigit():
            named = [[] if i in adverts else _bare_names(t) for i, t in enumerate(raw)]
            alias = alias_of(name, [n for ns in named for n in ns], embed)  # one embedding call for all passages
            about = [i for i, ns in enumerate(named) if alias in ns] if alias else []
        if not about:
            (names if asked_names is None or name in asked_names or name.isdigit() else story).append(name)
        elif asked_names is not None and name not in asked_names:
            continue
        elif asked and not any(_speaks_about(_core(sub), texts[i]) for i in about for sub in asked):
            names.append(f"{plural(asked[0])} {_preposition(text, name)}{name}")
        elif (
            asked
            and not name.isdigit()
            and asks_pay
            and not any(
                _pays_here(retrieval.passages[i], name, alias, profile)
                for i in about
                if any(_speaks_about(_core(sub), texts[i]) for sub in asked)
            )
        ):  # the place is named, but no figure of pay is given for it ("what do potters earn in Peru?"), or only
            # for another subject ("glaziers earn £30,000 in the UK" does not give potters' UK pay)
            names.append(f"the pay of {plural(asked[0])} {_preposition(text, name)}{name}")
        else:
            placed.append(name)
    # a town written as a part of a place the sources cover ("based in the UK (Manchester)") is the person's
    # detail: the place's figures answer, and the answer notes that the sources do not mention the town
    within = [n for n in names if any(part_of_place(text, n, p) for p in placed)]
    names = [n for n in names if n not in within]
    story += within
    # a role of its own that the passages name by its title and never pay ("Raku Potter", only among "new kinds of
    # work"): the figures of the subject are not its pay. A kind they do not title ("commercial potters") is
    # answered with the subject's figures
    if asks_pay:
        names += [f"the pay of {plural(m.text)}" for m in kinds if names_a_role(m, raw) and not states_pay_of(m, raw)]
    # a percentile no passage gives ("the 90th percentile" where they give the 75th) is a figure they do not have
    names += [
        f"the {stat}"
        for stat in sorted(statistics_in(clause))
        if stat[0].isdigit() and not any(stat in statistics_in(t) for t in raw)
    ]
    # "Is that sacrifice worth it?" after the person's story: what it points back to is what is asked about
    points_back = bool(_POINTER.search(asked_clause)) and is_personal_decision(text)
    covered = any(m.known and (points_back or normalize(m.text).lower() in asked_clause) for m in found)
    coverage, unknown_terms = asked_coverage(question, retrieval.term_coverage, retrieval.unknown_terms, covered)
    if nearest is not None and unknown_terms and coverage < MIN_COVERAGE and retrieval.top_dense < CONFIDENT_SIMILARITY:
        # a word the corpus says in other words ("folks": "people", "college": "academic") is a word it knows
        coverage, unknown_terms = known_in_other_words(coverage, unknown_terms, nearest(list(unknown_terms)))
    topics, why = (), ""
    if embed is not None and nearest is not None and sentences is not None and found:  # a subject the corpus covers
        words = topic_candidates(question, retrieval.unknown_terms, profile)
        # the chunks the main model ranks nearest (else the passages): the test must not move with the fusion
        top = retrieval.nearest_chunks or [p.chunk.id for p in retrieval.passages]
        evidence = word_evidence(question, words, top, embed, nearest, sentences, closest) if words else []
        topics, why = absent_topics(question, evidence)
    return Signals(
        no_price=asks_for_price(question) and not states_price(asking_clause(question), raw, subject_words),
        injection=bool(INJECTION.search(question)),
        top_similarity=retrieval.top_dense,
        term_coverage=coverage,
        unknown_terms=unknown_terms,
        unknown_subjects=tuple(dict.fromkeys(unknown_subjects)),
        near_subjects=near,
        uncovered_subjects=tuple(dict.fromkeys(uncovered)),
        missing_names=tuple(dict.fromkeys(names)),
        story_names=tuple(dict.fromkeys(story)),
        absent_topics=topics,
        topic_evidence=why,
        subjects=tuple(m.subject for m in found),
    )


def self_preamble(question: str) -> bool:
    """The person speaks of themselves before the clause that asks ("I do Java. Is it time?") (pure)."""
    clause = asking_clause(question)
    preamble = question[: question.rfind(clause)] if clause else ""
    return bool(preamble.strip()) and speaks_of_self(preamble)


def known_in_other_words(
    coverage: float, unknown: Sequence[str], neighbours: Sequence[tuple[str, float]]
) -> tuple[float, tuple[str, ...]]:
    """The coverage and the unknown words again, counting as known each word whose nearest corpus word is at least
    `KNOWN_ELSEWHERE` from it (`neighbours`, one per word): the corpus speaks of it in other words (pure)."""
    if not unknown or coverage >= 1.0:
        return coverage, tuple(unknown)
    counted = len(unknown) / (1.0 - coverage)  # the words the coverage was taken over
    still = tuple(w for w, (_, sim) in zip(unknown, neighbours, strict=True) if sim < KNOWN_ELSEWHERE)
    # never all known: "the corpus knows every word" lowers the similarity floor, and these words it does not use
    return min(0.99, coverage + (len(unknown) - len(still)) / counted), still


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
    words = [w for w in dict.fromkeys(plain_words(clause)) if len(w) > 2 and w not in STOPWORDS]
    missing = {t.lower() for t in unknown}
    kept = tuple(t for t in unknown if t.lower() in words)
    asked = 1.0 - len([w for w in words if w in missing]) / len(words) if words else 1.0
    return (asked, kept) if asked > coverage else (coverage, tuple(unknown))


def _passage_words(p: Passage) -> set[str]:
    c = p.chunk
    return {base_word(w) for w in plain_words(normalize(f"{c.title} {c.section or ''} {c.text}"))}


def _speaks_about(subject: str, words: set[str]) -> bool:
    """Every word of the subject occurs in the passage ("executive chef" in "Executive / Head Chef")."""
    return all(base_word(w) in words for w in plain_words(subject))


def _contains(words: set[str], name: str) -> bool:
    return all(base_word(w) in words for w in plain_words(name) if w not in ("of", "the"))


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


_POINTER = re.compile(r"\b(?:that|this|it|these|those)\b", re.I)
# a place or employer typed in lower case ("in germany", "at acme") is a word the corpus never uses after one of these
_PLACE_PREPOSITION = re.compile(r"\b(?:in|at|from|near|around)\s+([a-z][a-z'-]+)\b")


def is_kind(qualifier: str) -> bool:
    """The words before a subject name a kind of it ("raku", "commercial"), not a name ("Sparks Academy say"), a
    grade of pay ("well-paid") or a statistic ("upper-quartile") (pure)."""
    words = qualifier.split()
    return (
        0 < len(words) <= 2
        and all(w.islower() and w not in STOPWORDS for w in words)
        and not speaks_of_money(qualifier)
        and not statistics_in(qualifier)
    )


def names_a_role(kind: Mention, passages: Sequence[str]) -> bool:
    """The passages name this kind of the subject by its title, as a role of its own ("Raku Potter") (pure)."""
    title = " ".join(w[:1].upper() + w[1:] for w in f"{kind.qualifier} {kind.subject.split()[-1]}".split())
    return any(re.search(rf"\b{re.escape(title)}", text) for text in passages)


def states_pay_of(kind: Mention, passages: Sequence[str]) -> bool:
    """A sentence of the passages gives an amount of money and names this kind of the subject ("raku potters
    earn $…", "self-employed potters … £38,000") (pure)."""
    head = kind.subject.split()[-1]
    named = re.compile(rf"\b{re.escape(kind.qualifier)}\b[\w\s/-]{{0,30}}?\b{re.escape(head)}", re.I)
    return any(
        named.search(sentence) and FIGURE_KINDS["currency"].search(sentence)
        for text in passages
        for sentence in split_sentences(text)
    )


def part_of_place(text: str, name: str, place: str) -> bool:
    """`name` is written as a part of `place`: "the UK (Manchester)", "Manchester, UK", "Manchester in the UK"
    (pure)."""
    town, country = re.escape(name), re.escape(place)
    gap = r"[\s,(/]{1,3}(?:in\s+)?(?:the\s+)?"
    return bool(re.search(rf"\b{country}\s*\(\s*{town}\s*\)|\b{town}{gap}{country}\b", text))


def lowercase_places(clause: str, unknown: Sequence[str]) -> list[str]:
    """In a question typed all in lower case, the words the corpus never uses right after "in", "at", "from", …:
    the places and employers a chat names without capitals ("what do potters earn in germany?"), capitalised (pure)."""
    if clause != clause.lower():
        return []
    unknown_words = {w.lower() for w in unknown}
    found = [m.group(1) for m in _PLACE_PREPOSITION.finditer(clause) if m.group(1) in unknown_words]
    return [w.capitalize() for w in dict.fromkeys(found) if not is_person(w)]


def _inside_a_name(acronym: str, text: str) -> bool:
    """An acronym written inside a longer name of the text, in its own case ("GIS" in "ArcGIS", "QGIS")."""
    inside = re.search(rf"[A-Za-z]{re.escape(acronym)}\b", text)
    return acronym.isupper() and 2 <= len(acronym) <= 5 and inside is not None


def _pays_here(p: Passage, name: str, alias: str | None, profile: Profile) -> bool:
    """A sentence of the passage states pay (an amount of money, or a figure said of pay: "Leeds potters earn
    10 to 20 percent above these") and names the place (or its alias), or the passage's heading names it ("Pay
    in Peru": its rows need not)."""

    def names(text: str) -> bool:
        words = {base_word(w) for w in plain_words(normalize(text))}
        return any(_contains(words, n) or spelled_out(n, text) for n in (name, alias) if n)

    heading = names(f"{p.chunk.title} {p.chunk.section or ''}")
    return any(
        (
            FIGURE_KINDS["currency"].search(sentence)
            or (NUMBER.search(sentence) and (speaks_of_money(sentence) or measure_in(sentence, profile) == "currency"))
        )
        and (heading or names(sentence))
        for sentence in split_sentences(p.chunk.text)
    )


def _inside(text: str, word: str, spans: list[tuple[int, int]]) -> bool:
    i = text.lower().find(word.lower())
    return any(a <= i < b for a, b in spans)


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
        closest: Closest | None = None,
    ) -> None:
        super().__init__(profile)
        self.embed = embed
        self.nearest = nearest
        self.sentences = sentences
        self.closest = closest

    def judge(self, question: str, retrieval: Retrieval) -> Verdict:
        return decide(
            signals(question, retrieval, self.profile, self.embed, self.nearest, self.sentences, self.closest)
        )

    def refusal(self, question: str, verdict: Verdict) -> str:
        return refusal_text(question, verdict, self.profile)
