"""The default, offline answer generator: it composes the answer from the passages' own sentences.

It can never state what the sources do not say. Sentences are scored by semantic similarity to the
question (vectors precomputed at index time) plus lexical overlap, boosted by what the question
asks for, and the answer is laid out for that kind of question:

- a list ("which X ...", "what are the X ..."): the Markdown list under the best-matching heading,
  item by item, with one citation;
- a figure ("how much", "how long", "what percent"): the sentence holding the asked figure first;
  "the sources give different figures" only when documents give different figures of the same
  kind for the same subject;
- a decision ("should I ...", with the user's years, likes, background): each stated fact set
  against the source sentences that speak to it, each cited; no conclusion of its own;
- a comparison: both subjects covered;
- otherwise: the best sentences, picked with maximal marginal relevance, in passage order.

Nothing here knows a particular corpus: subjects (roles, careers, ...) come from a `subjects`
function, and the words that ask for a kind of figure ("earn") from a `measure` function, both
derived from the corpus profile; figures are recognised by generic patterns (`advisor.quantities`).
Every line holding a `[n]` is a verbatim sentence of passage n.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from advisor.quantities import figure_kind
from advisor.schema import Passage, Turn
from advisor.screen import ASKABLE, sentence_reason
from advisor.text import NUMBER, attach_marker

Subjects = Callable[[str], list[str]]
Measure = Callable[[str], str | None]  # the kind of figure a question's words ask for (from the corpus profile)


def no_subjects(text: str) -> list[str]:
    """The subjects function when no corpus profile is known: none."""
    return []


def no_measure(text: str) -> str | None:
    """The measure function when no corpus profile is known: no word names a kind of figure."""
    return None


_FIGURE_Q = re.compile(
    r"\b(how\s+(?:much|many|long|often)|what\s+percent\w*|what\s+share|what\s+(?:is|are)\s+the\s+"
    r"(?:\w+\s+)?(?:range|median|average|rate|number|figure)s?)\b",
    re.I,
)
_DURATION_Q = re.compile(r"\bhow\s+long\b|\bhow\s+many\s+(?:years|months|weeks|days|hours)\b", re.I)
_PERCENT_Q = re.compile(r"\bpercent\w*|\bshare\b|\brate\b|%", re.I)
_COMPARE = re.compile(
    r"\b(vs\.?|versus|difference|differ\w*|compare\w*|comparison|better|which\s+(?:one|of\s+the\s+\w+)|"
    r"which\s+\w+\s+\w+\s+(?:more|less|better|worse|higher|lower))\b",
    re.I,
)
_DECIDE = re.compile(
    r"\b(should\s+i|shall\s+i|is\s+it\s+worth|right\s+for\s+me|am\s+i\s+ready|do\s+i\s+need|can\s+i|"
    r"would\s+i|could\s+i|is\s+it\s+time|an?\s+(?:good|bad|smart|wise|sensible|realistic)\s+(?:idea|plan|move|choice|fit)|"
    r"too\s+(?:old|late|young)|make\s+sense\s+for\s+me|suit\s+me|for\s+someone\s+like\s+me)\b",
    re.I,
)
# A question that asks yes or no ("Is baking for me?") or which one, by its first word.
_YES_NO = re.compile(r"^(?:is|are|am|do|does|did|can|could|would|will|should|shall|has|have|was|were|which)\b", re.I)
_WH = re.compile(r"^(?:(?:and|so|but|then)\s+)?(?:how|what|where|when|why|who|whom|whose)\b", re.I)
# "Which path suits me?" asks for a choice between careers; "Which tool should I learn?" for a fact.
_WHICH_CHOICE = re.compile(
    r"^which\s+(?:one|of|path|role|track|option|career|route|way|direction|job|field|trade|profession|is|would|should)\b",
    re.I,
)
_SELF = re.compile(r"\b(?:I|I'm|I've|I'd|my|me)\b", re.I)


def asking_clause(question: str) -> str:
    """The clause of a question that asks (its last one ending in "?"), without the person's preamble."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?:;])\s+|\s+-\s+", question.strip()) if p.strip()]
    asks = [p for p in parts if p.endswith("?")]
    return (asks or parts or [""])[-1]


def is_personal_decision(question: str) -> bool:
    """The person asks about themselves, yes/no or which one: "I'm 41. Am I too old to start?" (pure).

    A question asking how, what, where, when, why or who ("How should I use the ladder?"), or which
    thing other than a path ("Which tool should I learn first?"), wants information, not a verdict."""
    clause = re.sub(r"^(?:and|so|but|then)\s+", "", asking_clause(question), flags=re.I)
    if _WH.match(clause) or (clause.lower().startswith("which") and not _WHICH_CHOICE.match(clause)):
        return False
    if _DECIDE.search(question):
        return True
    return bool(_SELF.search(question)) and bool(_YES_NO.match(asking_clause(question)))


_LIST_Q = re.compile(
    r"^\s*(?:(?:and|so|then)\s+)?(?:which|what)\b|\b(?:list|name\s+(?:some|the)|examples\s+of)\b", re.I
)
_AUX = frozenset("do does did are is was were should can could would will have has must might".split())
_NOT_NOUNS = frozenset(
    """
    does is was has comes goes makes means takes needs looks seems gets helps matters
    us this its yes less plus thus always perhaps sometimes towards across always various
    """.split()
)
_COMPARATIVES = frozenset("more less most least better worse higher lower".split())
_DECISION_CUES = re.compile(
    r"\b(if\s+you|you\s+should|stay|choose|pursue|consider|signs?|ready|typically\s+after|early\s+in|"
    r"love|enjoy|prefer|depends|first|start|before|right\s+(?:path|fit|choice))\b",
    re.I,
)
_NUMBER_WORDS = {
    w: str(i) for i, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}
_WORD = re.compile(r"[a-z0-9$₹€£%]+")
FIT = 0.06  # score added (or taken) when a passage's section names the asked subject (or only others); dev
_STOP = frozenset(
    """
    a an the of to in on for and or is are do does i my me you your what how which who should
    would can with as at by be it this that from about more most
    """.split()
)


@dataclass(frozen=True)
class Fact:
    """Something the user said about themselves: `kind` is experience, likes, background or goal."""

    kind: str
    label: str  # how the answer names it, never with digits (they would look like source figures)
    terms: frozenset[str]


@dataclass(frozen=True)
class Intent:
    """What kind of answer the question wants (`detect_intent`)."""

    figure: str | None  # None, or the kind of figure asked: currency, percent, duration or "any"
    comparison: bool
    decision: bool
    listing: tuple[str, ...]  # the plural nouns a "which X" question asks to enumerate; () if none
    subjects: tuple[str, ...] = ()
    numbers: frozenset[str] = frozenset()
    facts: tuple[Fact, ...] = ()
    at_least: frozenset[str] = frozenset()  # numbers the question puts a floor on ("over 12 years")
    units: frozenset[str] = frozenset()  # the unit words the question gives numbers in ("6 years" -> "year")


_FACTS = (
    (
        "experience",
        re.compile(
            r"\b(?:i\s+have|i've\s+(?:got|had|been)|i\s+(?:have\s+)?(?:worked|been\s+working)\s+for)\s+(?:about\s+|around\s+|over\s+|nearly\s+)?"
            r"(\d+|one|two|three|four|five|six|seven|eight|nine|ten)\+?\s*(?:years?|yrs?)\b",
            re.I,
        ),
    ),
    ("likes", re.compile(r"\bi\s+(?:really\s+|truly\s+)?(love|like|enjoy|prefer|hate|dislike)\s+([^,.;!?]+)", re.I)),
    (
        "background",
        re.compile(r"\b(?:i'm|i\s+am|i\s+work\s+as|my\s+background\s+is(?:\s+in)?)\s+(?:an?\s+)?([^,.;!?]+)", re.I),
    ),
    ("goal", re.compile(r"\bi\s+(?:want|hope|plan|would\s+like)\s+to\s+([^,.;!?]+)", re.I)),
)


def stated_facts(question: str) -> tuple[Fact, ...]:
    """The user's own facts in a question ("I have 2 years", "I love coding", "I'm a tester")."""
    out: list[Fact] = []
    for kind, pattern in _FACTS:
        m = pattern.search(question)
        if not m:
            continue
        if kind == "experience":
            out.append(Fact(kind, "your years of experience", frozenset({"year", "experi"})))
            continue
        words = m.group(m.lastindex or 1).strip()
        words = re.split(r"\s+(?:and|but|so)\s+(?:i|should|would|is|am)\b", words, flags=re.I)[0].strip()
        if kind == "likes":
            verb = m.group(1).lower()
            phrase, terms = words, _terms(words)
            label = f"what you {verb}" + (f" ({phrase})" if phrase and not re.search(r"\d", phrase) else "")
        elif kind == "background":
            if re.match(r"(?:a\s+)?(?:bit|little|not|so|very|really|ready|sure|unsure|new|early)\b", words, re.I):
                if re.match(r"early\b", words, re.I):
                    out.append(Fact(kind, "where you are in your career", frozenset({"early", "career", "start"})))
                continue
            terms = _terms(words)
            label = "your background" + (f" ({words})" if not re.search(r"\d", words) else "")
        else:
            terms = _terms(words)
            label = "what you want" + (f" ({words})" if not re.search(r"\d", words) else "")
        if terms:
            out.append(Fact(kind, label, frozenset(terms)))
    return tuple(out)


def question_numbers(question: str) -> frozenset[str]:
    """Numbers in a question, number words as digits ("three to five years" -> {"3", "5"})."""
    return frozenset(m.group(0).replace(",", "") for m in NUMBER.finditer(_digits(question)))


def _digits(text: str) -> str:
    """Number words as digits ("three to five" -> "3 to 5")."""
    words = "|".join(_NUMBER_WORDS)
    return re.sub(rf"\b({words})\b", lambda m: _NUMBER_WORDS[m.group(1).lower()], text, flags=re.I)


def list_nouns(question: str, subjects: Sequence[str] = ()) -> tuple[str, ...]:
    """Plural nouns of a "which X" / "what are the X" question: what it asks to enumerate (pure)."""
    taken = {w.lower() for s in subjects for w in re.findall(r"[a-z/-]+", s.lower())}
    words = re.findall(r"[A-Za-z][\w/-]*", question)
    out = []
    for i, w in enumerate(words[1:], start=1):
        low = w.lower()
        if low in _AUX and out:
            break  # what comes after the verb is who does it, not what is listed
        stem = low[:-1]
        plural = len(low) > 3 and low.endswith("s") and not low.endswith(("ss", "us", "is"))
        verb = i + 1 < len(words) and words[i + 1].lower() in _COMPARATIVES  # "which role pays more"
        if plural and not verb and low not in _NOT_NOUNS and low not in taken and stem not in taken:
            out.append(low)
    return tuple(out)


def detect_intent(question: str, subjects: Subjects = no_subjects, measure: Measure = no_measure) -> Intent:
    """What kind of answer the question wants (pure; table-tested)."""
    found = tuple(subjects(question))
    figure: str | None = None
    decision = is_personal_decision(question)
    if _DURATION_Q.search(question):
        figure = "duration"
    elif (kind := measure(question)) and not (decision and _YES_NO.match(asking_clause(question))):
        figure = kind  # "what do they earn?": a word the corpus uses for one kind of figure
    elif _FIGURE_Q.search(question):
        figure = "percent" if _PERCENT_Q.search(question) else "any"
    facts = stated_facts(question)
    return Intent(
        figure=figure,
        comparison=bool(_COMPARE.search(question)) or len(found) >= 2,
        decision=decision or bool(facts),
        listing=list_nouns(question, found) if figure is None and _LIST_Q.search(question) else (),
        subjects=found,
        numbers=question_numbers(question),
        facts=facts,
        at_least=frozenset(re.findall(r"\b(?:over|more\s+than|at\s+least|above)\s+(\d+)", question, re.I)),
        units=frozenset(u.lower().rstrip("s") for _, u in _UNIT.findall(_digits(question))),
    )


@dataclass(frozen=True)
class ListBlock:
    """A Markdown list of one passage: the line introducing it (or the section) and its items.

    A list introduced by a lower-case continuation ("using technologies such as:") belongs to the
    list before it and is kept with it as a further (label, items) segment.
    """

    label: str
    items: tuple[str, ...]
    more: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def all_items(self) -> tuple[str, ...]:
        return self.items + tuple(i for _, its in self.more for i in its)


_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def list_blocks(text: str, section: str | None = None) -> list[ListBlock]:
    """The Markdown lists in a passage, each with the line that introduces it (pure).

    The label is the line just above the list when it ends with ":" ("Typical tools include:"),
    else the passage's own heading. Lists of fewer than two items are not lists.
    """
    blocks: list[ListBlock] = []
    label: str | None = None
    items: list[str] = []
    previous = ""
    heading = section.split(" > ")[-1] if section else ""

    def close() -> None:
        if label and label[:1].islower() and blocks and items:
            last = blocks[-1]
            blocks[-1] = ListBlock(last.label, last.items, (*last.more, (label, tuple(items))))
        elif len(items) >= 2:
            blocks.append(ListBlock(label or heading, tuple(items)))
        items.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if _ITEM.match(line):
            if not items:
                label = previous.rstrip(":").strip() if previous.endswith(":") else None
            items.append(_ITEM.sub("", line).strip())
            continue
        close()
        previous = line
    close()
    return blocks


@dataclass(frozen=True, eq=False)  # compared by identity: a field is a numpy array
class _Candidate:
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


def _terms(text: str) -> set[str]:
    return {w[:6] for w in _WORD.findall(text.lower()) if w not in _STOP}


def _words(subject: str) -> frozenset[str]:
    return frozenset(w.rstrip("s") for w in re.findall(r"[a-z0-9]+", subject.lower()))


def same_subject(a: str, b: str) -> bool:
    """One subject's words contain the other's ("nurse" / "nurse practitioner")."""
    wa, wb = _words(a), _words(b)
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def _has(found: Sequence[str], subject: str) -> bool:
    return any(same_subject(f, subject) for f in found)


def subject_fit(asked: Sequence[str], named: Sequence[str]) -> float:
    """+1 when a passage's section names a subject asked about, -1 when it names only others."""
    if not asked or not named:
        return 0.0
    return 1.0 if any(_has(named, s) for s in asked) else -1.0


def figures_conflict(figures: Sequence[tuple[str, str, frozenset[str], frozenset[str]]]) -> list[str]:
    """Sources that give different figures of the same kind for the same subject (pure).

    Each entry is (source, kind, subjects, numbers) of one strong figure-bearing sentence. Figures
    conflict only when two sources state figures of one kind (pay, share, duration) about the same
    single subject and the numbers differ; three subjects' pay is not a disagreement.
    """
    groups: dict[tuple[str, str], dict[str, frozenset[str]]] = {}
    for source, kind, subjects, numbers in figures:
        if len(subjects) != 1:
            continue
        key = (kind, next(iter(subjects)).lower())
        groups.setdefault(key, {}).setdefault(source, numbers)
    for per_source in groups.values():
        if len(per_source) >= 2 and len(set(per_source.values())) >= 2:
            return list(per_source)
    return []


# A sentence that decides for someone: its condition names the person ("if you ...", "signs you're
# ready: ..."), it recommends ("choose", "stay", "become ... first"), or it answers yes or no.
_CONDITION = re.compile(
    r"\b(?:if|when|unless|once|whether)\s+you(?:'re|'ve|\s+are|\s+have|\s+still)?\b(.+)"
    r"|\bsigns\s+you(?:'re|\s+are)\s+ready\b(.+)|\btypically\s+after\b(.+)",
    re.I,
)
_RECOMMENDS = re.compile(
    r"\b(?:choose|stay|pursue|consider|become|start\s+as|you\s+should|you\s+shouldn't|isn't\s+the\s+right|not\s+the\s+right|"
    r"right\s+(?:path|fit|choice)|not\s+(?:a\s+)?requirement|not\s+required|is\s+acceptable|can\s+(?:still\s+)?"
    r"(?:become|enter|start|move)|no\s+maximum|rarely|worth)\b",
    re.I,
)
_RANGE = re.compile(r"(\d+)\s*(?:-|–|to)\s*(\d+)\s*\+?\s*([a-z]+)|(\d+)\s*\+\s*([a-z]+)", re.I)
_UNIT = re.compile(r"(\d+)\s*\+?\s*(?:more\s+)?([a-z]+)", re.I)
_FRAME_WORDS = frozenset(
    """
    should shall would could can will do does did am is are was were be been being have has had get got
    go going want wants like know think thinking make makes right good idea plan sense fit time still
    really just also ever even yet now then there here not no yes don't can't won't i'm i've i'd
    """.split()
)
VERDICT_CONDITION = 0.10  # per word the sentence's condition shares with what the person said (at most 3)
VERDICT_CUE = 0.08  # a conditional or a recommendation
VERDICT_RANGE = 0.12  # the person gave a number and the sentence a range of the same unit
FAQ_SIMILARITY = 0.6  # a FAQ question this close to the asked one is the same question in other words
VERDICT_FAQ = 0.20  # the first sentence answering a FAQ question worded like the person's


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> frozenset[str]:
    """The content words of a text as English stems ("drawing", "draw" -> "draw")."""
    words = [w for w in _WORD.findall(text.lower()) if w not in _STOP and w not in _FRAME_WORDS and len(w) > 1]
    return frozenset(_stemmer().stemWords(words))


def overlap(a: frozenset[str], b: frozenset[str]) -> int:
    """Stems of `a` that `b` shares, counting a stem of five letters or more that begins the other
    ("creativi" / "creativ") as shared."""
    return sum(
        1 for x in a if x in b or (len(x) >= 5 and any(y.startswith(x) or x.startswith(y) for y in b if len(y) >= 5))
    )


def user_terms(question: str, subjects: Sequence[str] = ()) -> frozenset[str]:
    """What the person said about themselves and their wish, as stems: the question without its frame
    words and the subjects it names (pure)."""
    return stems(question) - {w for s in subjects for w in stems(s)}


def _units(text: str) -> dict[str, list[tuple[float, float]]]:
    """Ranges stated in a text, by the unit word after them ("5-8 years" -> {"year": [(5, 8)]})."""
    out: dict[str, list[tuple[float, float]]] = {}
    for m in _RANGE.finditer(text):
        if m.group(1):
            lo, hi, unit = float(m.group(1)), float(m.group(2)), m.group(3)
        else:
            lo, hi, unit = float(m.group(4)), float("inf"), m.group(5)
        out.setdefault(unit.lower().rstrip("s"), []).append((lo, hi))
    return out


def verdict_bonus(text: str, user: frozenset[str], intent: Intent, faq_opener: bool = False) -> float:
    """How much a sentence decides the question for this person (pure; table-tested).

    The words of its condition ("if you still love working with dough") shared with what the person said,
    a conditional or recommending form, a range of the unit the person gave a number in ("5-8 years"
    against "3 years": in or out of it, it decides), and being the first answer to a FAQ question
    worded like theirs.
    """
    bonus = 0.0
    m = _CONDITION.search(text)
    if m and not re.search(r"\b(?:sure|unsure|wonder\w*|ask\w*|know|decide|whether)\s+if\s+you\b", text, re.I):
        condition = stems(next(g for g in m.groups() if g))
        bonus += VERDICT_CUE + VERDICT_CONDITION * min(3, overlap(condition, user))
    elif _RECOMMENDS.search(text):
        bonus += VERDICT_CUE / 2 + VERDICT_CONDITION / 2 * min(2, overlap(stems(text), user))
    if intent.units & set(_units(text)):
        bonus += VERDICT_RANGE
    if faq_opener:
        bonus += VERDICT_FAQ
    return bonus


_ASKS = (  # (what the shown sentences weigh, the fact that would change the answer)
    (
        "experience",
        re.compile(r"\b\d+\s*(?:-|–|to)?\s*\d*\+?\s*years?\b|\bearly\s+in\s+your\s+career\b", re.I),
        "how many years of experience you have",
    ),
    ("likes", re.compile(r"\b(?:love|enjoy|prefer|like|hate|dislike)\b", re.I), "what you enjoy most in your work"),
    ("goal", re.compile(r"\b(?:want|goal|if\s+you\s+want)\b", re.I), "what you want most from the move"),
    ("background", re.compile(r"\b(?:background|coming\s+from|degree|transition)\b", re.I), "what your background is"),
)


def follow_up(question: str, shown: Sequence[str]) -> str | None:
    """One short question for the facts that would change the answer: those the shown sentences
    weigh and the person's question does not state (pure)."""
    said = _digits(question)
    asks = [ask for _, pattern, ask in _ASKS if not pattern.search(said) and any(pattern.search(t) for t in shown)]
    if not asks:
        return None
    return "To weigh this for you, could you tell me " + " and ".join(asks[:2]) + "?"


def conditional_list(passages: Sequence[Passage], user: frozenset[str]) -> tuple[Passage, ListBlock] | None:
    """The list whose label states a condition ("Choose X If You Enjoy") and whose items share the most
    words with what the person said (at least two), with its passage; None if there is none (pure)."""
    best: tuple[int, Passage, ListBlock] | None = None
    for p in passages:
        for block in list_blocks(p.chunk.text, p.chunk.section):
            if not _CONDITION.search(block.label) or not block.label:
                continue
            shared = overlap(user, stems(" ".join(block.items)))
            if shared >= 2 and (best is None or shared > best[0]):
                best = (shared, p, block)
    return (best[1], best[2]) if best else None


def asked_about(candidates: list[_Candidate]) -> list[_Candidate]:
    """The candidates without set-aside sentences, unless the question is about them: a bio or a
    seller's statement ("It's a four-figure investment") that matches it better than any other
    sentence stays. Calls to action, instructions and promises inform nothing and never stay."""
    best = max((c.score for c in candidates if not c.set_aside), default=float("-inf"))
    return [c for c in candidates if not c.set_aside or (c.set_aside in ASKABLE and c.score >= best)]


def _answers_alike(c: _Candidate, question: str, best: float) -> bool:
    """`c` is the first answer to the FAQ question most like the person's (`best` is that one's
    similarity, at least `FAQ_SIMILARITY`), or to a heading question (not embedded) sharing two word
    stems with it."""
    if c.answers is None:
        return False
    if c.answers_sim is not None:
        return c.answers_sim >= max(FAQ_SIMILARITY, best - 0.02)
    return len(stems(c.answers) & stems(question)) >= 2


class ExtractiveGenerator:
    """Answers by selecting and citing sentences of the retrieved passages."""

    name = "extractive"

    def __init__(
        self,
        sentences: Callable[[str], tuple[list[str], np.ndarray]],
        max_sentences: int = 5,
        subjects: Subjects = no_subjects,
        measure: Measure = no_measure,
    ) -> None:
        self.sentences = sentences
        self.max_sentences = max_sentences
        self.subjects = subjects
        self.measure = measure

    def generate(
        self, question: str, passages: list[Passage], query_vector: np.ndarray, history: Sequence[Turn] = ()
    ) -> Iterator[str]:
        """Yield the answer in pieces (a lead line, then one cited sentence or bullet at a time)."""
        intent = detect_intent(question, self.subjects, self.measure)
        candidates = self._candidates(question, passages, query_vector, intent)
        if not candidates:
            return
        if intent.listing:
            block = self._best_list(question, passages, candidates, query_vector, intent)
            if block is not None:
                yield from block
                return
        if intent.decision and not intent.figure:
            yield from self._decision(question, passages, candidates, intent)
            return
        conflict = self._conflict(candidates, intent) if intent.figure else []
        limit = self.max_sentences + (1 if intent.comparison or conflict else 0)
        chosen = self._select(candidates, limit, intent, conflict)
        chosen.sort(key=lambda c: (c.passage.rank, c.order))
        # the answer first: the best sentence (of the asked kind of figure, if one was asked), then the rest
        first = max([c for c in chosen if c.kind] if intent.figure else chosen, key=lambda c: c.score, default=None)
        if first is not None:
            chosen.remove(first)
            chosen.insert(0, first)
        lead = _lead(intent, False)
        if lead:
            yield lead + "\n\n"
        bullets = len(chosen) >= 3
        for i, c in enumerate(chosen):
            line = attach_marker(c.text, c.passage.rank)
            yield (f"- {line}\n" if bullets else line + ("" if i == len(chosen) - 1 else " "))
            if i == 0 and conflict and len(chosen) > 1:
                yield "\n" + CONFLICT + "\n\n"

    # -- candidates -----------------------------------------------------------------------------------------
    def _candidates(self, question: str, passages: list[Passage], qv: np.ndarray, intent: Intent) -> list[_Candidate]:
        qterms = _terms(question)
        out: list[_Candidate] = []
        for p in passages:
            texts, vectors = self.sentences(p.chunk.id)
            context = _terms(f"{p.chunk.title} {p.chunk.section or ''}")
            fit = FIT * subject_fit(intent.subjects, self.subjects(p.chunk.section or ""))
            heading = (p.chunk.section or "").split(" > ")[-1]
            asked: tuple[str, float | None] | None = (heading, None) if heading.endswith("?") else None
            for order, (text, vec) in enumerate(zip(texts, vectors, strict=True)):
                words = text.split()
                if text.rstrip().endswith("?"):
                    asked = (text, float(vec @ qv))  # a FAQ question inside the passage: the next sentence answers it
                    continue
                if text.rstrip().endswith(":"):
                    continue  # a list's introduction says nothing without its list
                answers, asked = asked, None
                if len(words) < 4:
                    asked = answers if len(words) < 3 else None  # "Yes." / "No." still opens the answer
                    continue
                sim = float(vec @ qv)
                if answers and answers[1] is not None:
                    sim = max(sim, answers[1])  # the first answer to a FAQ question is as relevant as the question
                own = _terms(text)
                lex = (len(qterms & own) + 0.5 * len(qterms & (context - own))) / len(qterms) if qterms else 0.0
                score = 0.65 * sim + 0.35 * lex + 0.05 / p.rank + fit
                kind = figure_kind(text) or ("count" if intent.figure == "any" and NUMBER.search(text) else None)
                if intent.figure and kind and intent.figure in (kind, "any"):
                    score += 0.2
                    if intent.numbers and intent.numbers & question_numbers(text):
                        score += 0.1  # the figure for the asked case ("3-5 years", "12+ years")
                    if any(re.search(rf"\b{n}\s?\+", text) for n in intent.at_least):
                        score += 0.1  # "over 12 years" is the "12+" row, not the "8-12" one
                if intent.decision and _DECISION_CUES.search(text):
                    score += 0.12
                if len(words) > 60:
                    score -= 0.1  # long sentences read badly in a short answer
                aside = p.chunk.set_aside or sentence_reason(text)
                out.append(_Candidate(text, vec, p, order, score, kind, fit, *(answers or (None, None)), aside))
        return asked_about(out)

    def _subjects_of(self, c: _Candidate) -> frozenset[str]:
        """The subjects a sentence speaks about: its own mentions, else its section's."""
        found = self.subjects(c.text) or self.subjects(c.passage.chunk.section or "")
        return frozenset(s.lower() for s in found)

    # -- layouts ----------------------------------------------------------------------------------------------
    def _best_list(
        self, question: str, passages: list[Passage], candidates: list[_Candidate], qv: np.ndarray, intent: Intent
    ) -> Iterator[str] | None:
        """The list answering a "which X" question, when one matches as well as the best sentence."""
        qterms = _terms(question)
        if not qterms:
            return None
        best = max(c.score for c in candidates)
        choice: tuple[float, Passage, ListBlock] | None = None
        for p in passages:
            texts, vectors = self.sentences(p.chunk.id)
            sims = dict(zip(texts, (vectors @ qv).tolist(), strict=True)) if len(texts) else {}
            if subject_fit(intent.subjects, self.subjects(p.chunk.section or "")) < 0:
                continue  # a list about another subject
            for block in list_blocks(p.chunk.text, p.chunk.section):
                heading = _terms(f"{block.label} {p.chunk.section or ''}")
                body = heading | {t for it in block.all_items for t in _terms(it)}
                if not any(n[:6] in body for n in intent.listing):
                    continue  # the list is not about what was asked
                overlap = len(qterms & heading) / len(qterms)
                items = max(sims.get(it, 0.0) for it in block.all_items)
                score = 0.6 * overlap + 0.4 * items + 0.05 / p.rank
                if overlap > 0 and (choice is None or score > choice[0]):
                    choice = (score, p, block)
        if choice is None or choice[0] < 0.5 * best:
            return None
        _, passage, block = choice

        def pieces() -> Iterator[str]:
            if block.label in passage.chunk.text:
                yield f"{block.label} [{passage.rank}]:\n\n"
            elif block.label and not re.search(r"\d", block.label):
                yield f"Under “{block.label}” [{passage.rank}]:\n\n"
            else:
                yield f"From the source [{passage.rank}]:\n\n"
            for item in block.items[:12]:
                yield f"- {item}\n"
            for label, items in block.more:
                yield f"\n{label}:\n\n"
                for item in items[:12]:
                    yield f"- {item}\n"

        return pieces()

    def _decision(
        self, question: str, passages: list[Passage], candidates: list[_Candidate], intent: Intent
    ) -> Iterator[str]:
        """Verdict first: the one or two source sentences (or a "Choose X if you enjoy:" list) whose
        condition matches what the person said, then the criteria they did not address, then one
        question for the facts that would change it."""
        user = user_terms(question, self.subjects(asking_clause(question)))  # "I'm a line cook" stays
        listed = conditional_list(passages, user)
        pool = sorted(candidates, key=lambda c: -c.score)
        floor = pool[0].score - 0.35
        faq = max((c.answers_sim for c in pool if c.answers_sim is not None), default=1.0)
        ranked = sorted(
            ((c.score + verdict_bonus(c.text, user, intent, _answers_alike(c, question, faq)), c) for c in pool),
            key=lambda t: -t[0],
        )
        verdict: list[_Candidate] = []
        for _, c in ranked:
            if len(verdict) + (listed is not None) == 2:
                break
            if (
                c.score >= floor
                and not c.text.endswith(":")
                and all(float(c.vector @ v.vector) < 0.92 for v in verdict)
            ):
                verdict.append(c)
        rest = [c for c in self._select(pool, self.max_sentences + len(verdict), intent, []) if c not in verdict]
        rest = rest[: max(1, self.max_sentences - len(verdict))]
        yield "For what you told me, these passages decide it:\n" if user else "What decides it, in the sources:\n"
        if listed is not None:
            passage, block = listed
            yield f"- Under “{block.label}” [{passage.rank}]:\n"
            for item in block.items[:12]:
                yield f"  - {item}\n"
        for c in verdict:
            yield f"- {attach_marker(c.text, c.passage.rank)}\n"
        if rest:
            yield "\nWhat else they weigh, which you did not mention:\n" if user else "\nWhat else they weigh:\n"
            for c in sorted(rest, key=lambda c: (c.passage.rank, c.order)):
                yield f"- {attach_marker(c.text, c.passage.rank)}\n"
        ask = follow_up(question, [c.text for c in (*verdict, *rest)])
        if ask:
            yield f"\n{ask}\n"

    # -- selection --------------------------------------------------------------------------------------------
    def _conflict(self, candidates: list[_Candidate], intent: Intent) -> list[_Candidate]:
        """One strong sentence per source when sources give different figures for the same subject."""
        best = max(c.score - c.fit for c in candidates)
        strong = [c for c in candidates if c.kind not in (None, "count") and c.score - c.fit >= best - 0.25]
        if intent.figure not in (None, "any"):
            strong = [c for c in strong if c.kind == intent.figure]
        facts = []
        for c in strong:
            subj = self._subjects_of(c)
            if len(intent.subjects) == 1:  # a figure about the one subject asked, whatever else it names
                if not any(same_subject(s, intent.subjects[0]) for s in subj):
                    continue
                subj = frozenset({intent.subjects[0].lower()})
            facts.append((c.passage.chunk.source, c.kind or "", subj, question_numbers(c.text)))
        sources = figures_conflict(facts)
        picked: list[_Candidate] = []
        for source in sources[:3]:
            picked.append(max((c for c in strong if c.passage.chunk.source == source), key=lambda c: c.score))
        return picked

    def _select(
        self, candidates: list[_Candidate], limit: int, intent: Intent, conflict: list[_Candidate]
    ) -> list[_Candidate]:
        """MMR over candidates, with the intent's coverage requirements seeded first."""
        pool = sorted(candidates, key=lambda c: -c.score)
        chosen: list[_Candidate] = list(conflict)
        if intent.comparison and len(intent.subjects) >= 2:
            for subject in intent.subjects[:2]:
                if not any(_has(self.subjects(c.text), subject) for c in chosen):
                    hit = next((c for c in pool if _has(self.subjects(c.text), subject) and c not in chosen), None)
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


CONFLICT = "The sources give different figures, so each is shown with its own source:"


def _lead(intent: Intent, conflict: bool) -> str | None:
    """A framing line that states no fact of its own."""
    if conflict:
        return CONFLICT
    if intent.decision:
        return "Here is what the sources say that bears on your decision:"
    if intent.comparison and len(intent.subjects) >= 2:
        return f"How the sources compare {', '.join(intent.subjects[:-1])} and {intent.subjects[-1]}:"
    if intent.comparison:
        return "How the sources compare them:"
    return None
