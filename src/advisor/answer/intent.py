"""What a question asks for, read from its form (pure): the kind of answer (`detect_intent`: a figure, a
comparison, a decision, a list), whether it asks for a personal decision, and what the person said about
themselves. Both answer generators read it: the extractive one lays its answer out by the `Intent`; the
LLM's prompt adds the decision rule and the person's own sentences (`is_decision`, `stated_sentences`).

Nothing here knows a particular corpus: subjects come from a `subjects` function and the words that ask
for a kind of figure from a `measure` function, both derived from the corpus profile.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from advisor.profile import subject_words
from advisor.schema import Turn
from advisor.text import EARLY_CAREER as _EARLY
from advisor.text import NUMBER, NUMBER_WORDS, spelled_in_full

Subjects = Callable[[str], list[str]]
Measure = Callable[[str], str | None]  # the kind of figure a question's words ask for (from the corpus profile)


def no_subjects(text: str) -> list[str]:
    """The subjects function when no corpus profile is known: none."""
    return []


def no_measure(text: str) -> str | None:
    """The measure function when no corpus profile is known: no word names a kind of figure."""
    return None


_FIGURE_Q = re.compile(
    r"\b(how\s+(?:much|many|long|often)|what\s+percent\w*|what\s+share|what(?:'s|’s|\s+is|\s+are)\s+the\s+"
    r"(?:\w+\s+)?(?:range|median|average|rate|number|figure)s?)\b",
    re.I,
)
# "What does a potter make?", "how much do they bring home?": English asks for pay with these verbs, whatever
# words the corpus uses for it; the verb ends the clause or a phrase of time, place or stage follows it, not an
# object ("What decisions do they make?", "what do they make of it?" ask no figure)
_PAY_Q = re.compile(
    r"\b(?:what(?:'s|’s|\s+is|\s+are)|how\s+much\s+(?:is|are))\s+(?:[\w/'’-]+\s+){1,6}?paid\b|"
    r"\b(?:what|how\s+much)\s+(?:do|does|did|would|will|can|could|might)\s+(?:[\w/'’-]+\s+){1,6}?"
    r"(?:make|earn|get\s+paid|take\s+home|bring\s+home|bring\s+in|pull\s+in|"
    r"be\s+(?:making|earning|getting\s+paid|taking\s+home|bringing\s+home|bringing\s+in|pulling\s+in))"
    r"(?=\s*(?:[?,.;!]|$|(?:a|an|per|each|in|at|on|as|after|once|when|with|by|starting|today|now|these|annually|"
    r"yearly|monthly|hourly|there|here|overseas|abroad|globally|typically|usually|roughly|about|around)\b))",
    re.I,
)
# ... and with these nouns ("take-home pay", "ballpark comp", "pay band"), not "which pays more?" (which one)
_PAY_NOUN = re.compile(
    r"\b(?:take[- ]home(?:\s+pay)?|pay\s*checks?|comp|compensation|pay\s+(?:band|range|scale|grade|package)s?|"
    r"wages?|income|earnings)\b",
    re.I,
)
# a person at the start of a career, as people say it: the case of the first years ("0-2 years")
_DURATION_Q = re.compile(r"\bhow\s+long\b|\bhow\s+many\s+(?:years|months|weeks|days|hours)\b", re.I)
_HOW_MANY_UNIT = re.compile(r"\bhow\s+many\s+(year|month|week|day|hour)s\b", re.I)
# a rate per unit of time ("hourly rate") is pay, not a share
_PERCENT_Q = re.compile(r"\bpercent\w*|\bshare\b|(?<!hourly\s)(?<!daily\s)(?<!weekly\s)\brate\b|%", re.I)
# (a "build-vs-buy" call is one thing, no comparison the question asks for)
_COMPARE = re.compile(
    r"\b((?<!-)vs\.?(?!-)|versus|difference|differ\w*|separates?|distinguish\w*|compare\w*|comparison|better|which\s+(?:one|of\s+the\s+\w+)|"
    r"which\s+\w+\s+\w+\s+(?:more|less|better|worse|higher|lower))\b",
    re.I,
)
_DECIDE = re.compile(
    r"\b(should\s+i|shall\s+i|is\s+it\s+worth|right\s+for\s+me|am\s+i\s+ready|do\s+i\s+need|can\s+i|"
    r"would\s+i|could\s+i|is\s+it\s+time|(?:an?\s+)?(?:good|bad|smart|wise|sensible|realistic)\s+(?:idea|plan|move|choice|fit)|"
    r"too\s+(?:old|late|young)|make\s+sense\s+for\s+me|suit\s+me|for\s+someone\s+like\s+me)\b",
    re.I,
)
# Moving from one subject to another is a path, not a comparison ("Can a tester move into design?")
_TRANSITION = re.compile(
    r"\b(?:move|moving|switch\w*|transition\w*|pivot\w*|go|going|get|getting|step|stepping)\s+(?:up\s+)?(?:in)?to\b",
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
_SELF = re.compile(r"\b(?:I|I'm|I've|I'd|my|me|im|ive)\b", re.I)  # as typed in a chat too ("im 24", "ive done")


def asking_clause(question: str) -> str:
    """The clause of a question that asks (its last one ending in "?"), without the person's preamble, also
    when a comma ends it ("I've spent 8 years at a bank, would switching be smart?": `story_ends`)."""
    parts = [p.strip() for p in re.split(r"(?<=[.!?:;])\s+|\s+[-–—]\s+", question.strip()) if p.strip()]
    asks = [p for p in parts if p.endswith("?")]
    clause = (asks or parts or [""])[-1]
    return clause[story_ends(clause) :]


_AS_A = re.compile(r"^as\s+an?\b", re.I)  # "As a teacher in Ohio, could I ...": the person's own role
_CONDITION = re.compile(
    r"^\W*(?:if|when|whenever|unless|given|assuming|suppose|since|because|once|while|after|before)\b", re.I
)


def story_ends(sentence: str) -> int:
    """Where the question starts in a sentence that opens with the person's story, up to a comma: the story
    speaks of them ("I'm a nurse in the ICU", "As a teacher in Ohio") and a yes/no or wh- word follows the
    comma ("..., is moving into X realistic?"); 0 when it does not open so (pure)."""
    for m in re.finditer(r",\s+", sentence):
        story = sentence[: m.start()]
        if _CONDITION.match(story):
            return 0  # "If I want remote work, which role …?": a condition is part of what is asked
        rest = sentence[m.end() :]  # a yes/no or wh- word opens the question ("..., is it realistic?")
        if (_YES_NO.match(rest) or _WH.match(rest)) and speaks_of_self(story):
            return m.end()
    return 0


# "glazier here, 5 yrs of kilns": a chat's way to say "I am a glazier"
_HERE = re.compile(r"^\W*(?:[\w/+.'-]+\s+){1,4}here\s*[,.:;!—–-]", re.I)


def speaks_of_self(text: str) -> bool:
    """The person speaks of themselves: "I", "my", "me", "As a teacher …" or "Senior potter here, …" (pure)."""
    text = text.strip()
    return _SELF.search(text) is not None or _AS_A.match(text) is not None or _HERE.match(text) is not None


# A capitalised name, of one or more words ("Canada", "United Kingdom", "Bank of England")
NAME = re.compile(r"(?<![\w'])([A-Z][\w&'.-]*[\w&](?:\s+(?:of\s+|the\s+)?[A-Z][\w&'.-]*[\w&])*)")


def spelled_out(acronym: str, text: str) -> bool:
    """An acronym whose letters open consecutive capitalised words of `text` ("UK": "United Kingdom")."""
    letters = acronym.replace(".", "")
    if not (2 <= len(letters) <= 5 and letters.isalpha() and letters.isupper()):
        return False
    words = r"\s+(?:of\s+|the\s+|and\s+)?".join(f"{c}[a-z]+" for c in letters)
    return re.search(rf"\b{words}\b", text) is not None


def names_in(text: str) -> list[str]:
    """Capitalised names not opening a sentence ("Canada", "United Kingdom", "Google"); not "I".

    A question in Title Case has no names to tell apart, and words that open a sentence are
    capitalised anyway: neither counts.
    """
    words = re.findall(r"[A-Za-z][\w'-]*", text)
    if len(words) >= 4 and sum(w[0].isupper() for w in words) / len(words) > 0.6:
        return []
    out = []
    for m in NAME.finditer(text):
        before = text[: m.start()].rstrip()
        name = m.group(1)
        if not before or before.endswith((".", "?", "!", ":", '"')):  # the opening word is no name; what follows
            name = re.sub(r"^\S+\s+(?:(?:of|the)\s+)?", "", name) if " " in name else ""  # it may be: "Is the X"
            if not name[:1].isupper():
                continue
        name = re.sub(r"^(?:the\s+)", "", name, flags=re.I)
        name = re.sub(r"['’]s$", "", name)  # "the UK's" -> "UK"
        name = name.replace(".", "") if re.fullmatch(r"(?:[A-Z]\.)+[A-Z]?", name) else name  # "U.S." -> "US"
        if name not in ("I", "I'm", "I've", "I'd"):
            out.append(name)
    return out


def names_a(text: str, name: str) -> bool:
    """`text` mentions `name`, in any case or spelled out ("UK": "United Kingdom") (pure)."""
    return re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text, re.I) is not None or spelled_out(name, text)


def opens_a_question(clause: str) -> bool:
    """The clause opens as a question, yes/no or wh- ("And should I…", "What do I need…") (pure)."""
    bare = re.sub(r"^(?:and|so|but|then)\s+", "", clause.strip(), flags=re.I)
    return bool(_YES_NO.match(bare) or _WH.match(bare))


def asks_yes_or_no(question: str) -> bool:
    """The clause that asks opens as a yes/no question ("Do potters glaze?", "And is it paid?") (pure)."""
    bare = re.sub(r"^(?:and|so|but|then)\s+", "", asking_clause(question), flags=re.I)
    return bool(_YES_NO.match(bare)) and not bare.lower().startswith("which")


# a condition or circumstance put before the question proper ("If I want X, …", "Once I'm qualified, …")
_CONDITION_FIRST = re.compile(r"^(?:if|when|once|since|as|assuming|given)\b[^,?]*,\s*", re.I)


def asks_for_information(question: str) -> bool:
    """The clause that asks opens with how, what, where, when, why or who, or with "which" and a thing other
    than a path (pure): it wants information (a list, a figure, a way), not a verdict on the person's choice,
    whatever "should I" or facts of theirs it holds ("What certifications should I go for if I'm aiming at
    X?", "Which frameworks should I pick up if I want to work as Y?"). "Which path suits me?" asks for a choice."""
    clause = re.sub(r"^(?:and|so|but|then)\s+", "", asking_clause(question), flags=re.I)
    clause = _CONDITION_FIRST.sub("", clause)  # "If I want X, which cities …?" asks which cities
    return bool(_WH.match(clause)) or (clause.lower().startswith("which") and not _WHICH_CHOICE.match(clause))


def is_personal_decision(question: str) -> bool:
    """The person asks about themselves, yes/no or which one: "I'm 41. Am I too old to start?" (pure).

    A question asking how, what, where, when, why or who ("How should I use the ladder?"), or which
    thing other than a path ("Which tool should I learn first?"), wants information, not a verdict."""
    if asks_for_information(question):
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
_NUMBER_WORDS = {w: str(n) for w, n in NUMBER_WORDS.items()}
TERM = re.compile(r"[a-z0-9$₹€£%]+")
TERM_STOPWORDS = frozenset(
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
    names: tuple[str, ...] = ()  # places and employers the question names ("Peru"), subjects' words left out
    contrast: bool = False  # asks the size of a difference ("How much more…?"), not which one ("Which … more?")
    statistics: frozenset[str] = frozenset()  # the statistics a figure question names ("median", "75th percentile")
    per: frozenset[str] = frozenset()  # the time a figure question asks it per ("hourly", "hours a week": hour, week)
    unit: str = ""  # the unit a "how many" question counts in ("how many hours …": hour)


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
            phrase, terms = words, content_terms(words)
            label = f"what you {verb}" + (f" ({phrase})" if phrase and not re.search(r"\d", phrase) else "")
        elif kind == "background":
            if re.match(r"(?:a\s+)?(?:bit|little|not|so|very|really|ready|sure|unsure|new|early)\b", words, re.I):
                if re.match(r"early\b", words, re.I):
                    out.append(Fact(kind, "where you are in your career", frozenset({"early", "career", "start"})))
                continue
            terms = content_terms(words)
            label = "your background" + (f" ({words})" if not re.search(r"\d", words) else "")
        else:
            terms = content_terms(words)
            label = "what you want" + (f" ({words})" if not re.search(r"\d", words) else "")
        if terms:
            out.append(Fact(kind, label, frozenset(terms)))
    return tuple(out)


def question_numbers(question: str) -> frozenset[str]:
    """Numbers in a question, number words as digits ("three to five years" -> {"3", "5"})."""
    return frozenset(m.group(0).replace(",", "") for m in NUMBER.finditer(with_digits(question)))


def with_digits(text: str) -> str:
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
        verb = i + 1 < len(words) and words[i + 1].lower() in _COMPARATIVES  # "which role pays more"
        for part in low.split("/") if low not in taken else [low]:  # "tools/software": "tools" is listed
            plural = len(part) > 3 and part.endswith("s") and not part.endswith(("ss", "us", "is"))
            if plural and not verb and part not in _NOT_NOUNS and part not in taken and part[:-1] not in taken:
                out.append(part)
    return tuple(out) or which_noun(question, taken)


def which_noun(question: str, taken: set[str] = frozenset()) -> tuple[str, ...]:
    """The thing a "which X should …" question asks for, in the singular ("Which cloud certification should
    I get?" -> certifications): the last word before the verb, when it is no path between careers (pure)."""
    clause = re.sub(r"^(?:and|so|then)\s+", "", asking_clause(question), flags=re.I)
    if not clause.lower().startswith("which") or _WHICH_CHOICE.match(clause):
        return ()
    words = re.findall(r"[A-Za-z][\w/-]*", clause)[1:]
    head = next((i for i, w in enumerate(words) if w.lower() in _AUX), None)
    noun = words[head - 1].lower() if head else ""
    if len(noun) > 3 and noun.isalpha() and noun not in taken and not noun.endswith("s"):
        return (noun + "s",)
    return ()


# an amount something costs: "How much does the exam cost?", "What does the course cost?", "What's the exam fee?"
_PRICE_Q = re.compile(
    r"\bhow\s+much\s+(?:does|do|did|will|would|is|are)\s+(?:[\w/'’-]+\s+){0,8}?cost\b|"
    r"\bwhat\s+(?:does|do|will|would)\s+(?:[\w/'’-]+\s+){1,8}?cost\b|"
    r"\b(?:how\s+much|what)(?:'s|’s|\s+is|\s+are)?\s+(?:the\s+|a\s+)?(?:\w+\s+){0,3}?(?:fees?|price|tuition)\b",
    re.I,
)


def asks_for_price(question: str) -> bool:
    """The clause that asks wants what something costs ("How much does it cost to sit the exam?") (pure)."""
    return bool(_PRICE_Q.search(asking_clause(question)))


def asks_for_pay(question: str, measure: Measure = no_measure) -> bool:
    """The question asks for money: a word its corpus uses for pay ("earn"), or English's own ("what does X
    make?", "the pay range") (pure)."""
    return measure(question) == "currency" or any(p.search(question) for p in (_PAY_Q, _PAY_NOUN, _PAY_WORD))


_PAY_WORD = re.compile(r"\b(?:earn|earns|earning|paid|pay|pays)\b", re.I)  # English's own words for money made
# ... and the rest of how a person speaks of money made ("serious money", "a big paycheck", "money-wise")
_MONEY = re.compile(r"\b(?:money|salar(?:y|ies)|earn\w*|financially)\b", re.I)


def speaks_of_money(text: str) -> bool:
    """The text speaks of money made, in English's own words ("Pay is modest", "higher compensation") (pure)."""
    return any(p.search(text) for p in (_MONEY, _PAY_WORD, _PAY_NOUN))


def detect_intent(question: str, subjects: Subjects = no_subjects, measure: Measure = no_measure) -> Intent:
    """What kind of answer the question wants (pure; table-tested)."""
    found = tuple(subjects(question))
    figure: str | None = None
    decision = is_personal_decision(question)
    if _DURATION_Q.search(question):
        figure = "duration"
    elif (kind := measure(question)) and not (decision and _YES_NO.match(asking_clause(question))):
        figure = kind  # "what do they earn?": a word the corpus uses for one kind of figure
    elif (_PAY_Q.search(question) or _PAY_NOUN.search(question)) and not (
        decision and _YES_NO.match(asking_clause(question))
    ):
        figure = "currency"  # "what does X make?": English asks for pay so, whatever the corpus calls it
    elif _FIGURE_Q.search(question):
        figure = "percent" if _PERCENT_Q.search(question) else "any"
    elif asks_for_price(question) and not decision:  # "What does the course cost?": an amount of money
        figure = "currency"
    elif statistics_in(question) and not decision:  # "the median pay", "the middle-of-the-range pay": a figure
        figure = "currency" if _PAY_WORD.search(question) else "any"
    facts = stated_facts(question)
    numbers, units = (
        question_numbers(question),
        frozenset(u.lower().rstrip("s") for _, u in _UNIT.findall(with_digits(spelled_in_full(question)))),
    )
    if figure and early_case(question):
        numbers, units = frozenset({"0"}), frozenset({"year"})  # "an entry-level X": the row of the first years
    return Intent(
        figure=figure,
        comparison=bool(_COMPARE.search(question)) or (len(found) >= 2 and not _TRANSITION.search(question)),
        decision=decision or (bool(facts) and not asks_for_information(question)),
        listing=list_nouns(question, found) if figure is None and _LIST_Q.search(question) else (),
        subjects=found,
        numbers=numbers,
        facts=facts,
        at_least=frozenset(m.group(1) or m.group(2) for m in _AT_LEAST.finditer(question)),
        units=units,
        names=asked_names(question, found),
        contrast=bool(_HOW_MUCH_MORE.search(question)),
        statistics=statistics_in(question),
        per=per_units(question) if figure else frozenset(),
        unit=(m.group(1).lower() if (m := _HOW_MANY_UNIT.search(question)) else ""),
    )


_TIMES = "hour|day|week|month|year"
_PER_Q = re.compile(rf"\b(?:(?:a|an|per|each|every)\s+({_TIMES})|(hour|dai|week|month|year)ly|(annual)(?:ly)?)\b", re.I)
_PER_TEXT = re.compile(rf"\d[\d,.]*\s*%?\+?\s*(?:\w+\s+){{0,2}}?(?:(?:a|an|per|each)\s+|/\s*)({_TIMES}|hr)\b", re.I)


def per_units(question: str) -> frozenset[str]:
    """The time a question asks a figure per ("the hourly rate" -> hour, "how many hours a week" -> week,
    "annual pay" -> year) (pure)."""
    out = set()
    for m in _PER_Q.finditer(question):
        unit = (m.group(1) or m.group(2) or m.group(3)).lower()
        out.add({"dai": "day", "annual": "year"}.get(unit, unit))
    return frozenset(out)


def states_per(text: str, per: frozenset[str]) -> bool:
    """A sentence gives a figure per the asked time ("$29.60 an hour", "6 hours a week") (pure)."""
    return any({"hr": "hour"}.get(m.group(1).lower(), m.group(1).lower()) in per for m in _PER_TEXT.finditer(text))


# the statistic a figure is ("the median", "the 75th percentile"), as English names it
_STATISTIC = re.compile(r"\b(?:median|average|avg|mean|(?:\d+(?:st|nd|rd|th)\s+)?percentile)\b", re.I)


# the median in plain words: "the middle-of-the-range pay", "the midpoint", "the 50th percentile"
_MEDIAN = re.compile(
    r"\bmiddle[- ]of[- ]the[- ]range\b|\bmid-?point\b|\b50th\s+percentile\b|\bmiddle\s+(?:number|figure|value)\b", re.I
)
# the quartiles in plain words: "the upper-quartile figures", "the top quarter of the market" are the 75th percentile
_QUARTILES = (
    (re.compile(r"\b(?:upper|top|third)[- ]quartile\b|\b(?:upper|top)\s+quarter\b", re.I), "75th percentile"),
    (re.compile(r"\b(?:lower|bottom|first)[- ]quartile\b|\b(?:lower|bottom)\s+quarter\b", re.I), "25th percentile"),
)


# a statistic the text sets aside: "just the median, not the average", "rather than the mean"
_NOT_THIS = re.compile(r"\b(?:not|rather\s+than|instead\s+of|other\s+than|ignor(?:e|ing))\s+(?:the\s+|an?\s+)?$", re.I)


def statistics_in(text: str) -> frozenset[str]:
    """The statistics a text names ("What is the median pay?" -> {"median"}; "Avg." is "average"; "the
    middle-of-the-range pay" is the median), less those it sets aside ("not the average") (pure)."""
    named = {
        re.sub(r"\s+", " ", m.group(0).lower())
        for m in _STATISTIC.finditer(text)
        if not _NOT_THIS.search(text[max(0, m.start() - 20) : m.start()])
    }
    if _MEDIAN.search(text):
        named = (named - {"50th percentile"}) | {"median"}
    named |= {statistic for pattern, statistic in _QUARTILES if pattern.search(text)}
    return frozenset("average" if n == "avg" else n for n in named)


# a number the question asks at least of: "over 12", "more than 12", "12+"
_AT_LEAST = re.compile(r"\b(?:over|more\s+than|at\s+least|above)\s+(\d+)|\b(\d+)\s?\+", re.I)
_UNIT = re.compile(r"(\d+)\s*\+?\s*(?:more\s+)?([a-z]+)", re.I)
COMPARATIVE = re.compile(r"\b(?:more|less|higher|lower|fewer|greater)\b", re.I)
_HOW_MUCH_MORE = re.compile(rf"\bhow\s+(?:much|many)\s+(?:\w+\s+)?{COMPARATIVE.pattern}", re.I)


def asked_names(question: str, subjects: Sequence[str] = ()) -> tuple[str, ...]:
    """The names a question asks about ("in Peru", "at Acme"), without those that are words of its
    subjects ("ML" in "ML potters") (pure)."""
    taken = {w.lower() for s in subjects for w in re.findall(r"[\w-]+", s)}
    return tuple(
        dict.fromkeys(n for n in names_in(question) if any(w.lower() not in taken for w in re.findall(r"[\w-]+", n)))
    )


def early_case(question: str) -> bool:
    """The question asks about the start of a career ("an entry-level X", "fresh grad", "straight out of
    college") and gives no number of its own: the case of the first years (pure)."""
    return bool(_EARLY.search(question)) and not re.search(r"\d", question)


def aspect_of(question: str, subjects: Sequence[str]) -> str:
    """What a question compares: its asking clause, the subjects' words taken out ("Do potters or glaziers
    have more job openings?" -> "Do or have more job openings ?"): the sentence that answers a comparison
    speaks of this, not only of the subjects, which every sentence about them names (pure)."""
    names = {w for s in subjects for w in subject_words(s)}
    words = re.findall(r"[\w'$%-]+|[?]", asking_clause(question))
    return " ".join(w for w in words if w.lower().rstrip("s") not in names and w.lower() not in names)


def content_terms(text: str) -> set[str]:
    """A text's content words, cut to six letters ("experience" -> "experi"): what a fact and a sentence share."""
    return {w[:6] for w in TERM.findall(text.lower()) if w not in TERM_STOPWORDS}


# -- decisions and the person's own words, as the LLM's prompt states them ------------------------------------------
_DECISION = re.compile(
    r"\b(should\s+i|shall\s+i|is\s+it\s+worth|right\s+for\s+me|am\s+i\s+ready|would\s+i\s+be|"
    r"do\s+i\s+need\s+to|is\s+it\s+a\s+good\s+idea|which\s+should\s+i)\b",
    re.I,
)
_FIRST_PERSON = re.compile(r"\b(i|i'm|i've|i'd|i am|my|me|myself)\b", re.I)


def is_decision(question: str) -> bool:
    """A question asking whether the user should do something ("should I ...", "Am I too old to ...?"); not
    one asking what, which thing or how ("What certifications should I go for?": `asks_for_information`)."""
    return is_personal_decision(question) or (bool(_DECISION.search(question)) and not asks_for_information(question))


def stated_sentences(question: str, history: Sequence[Turn]) -> list[str]:
    """What the user said about themselves, in their words: first-person statements, not questions."""
    texts = [t.content for t in history if t.role == "user"] + [question]
    facts: list[str] = []
    for text in texts:
        for sentence in re.split(r"(?<=[.!?])\s+|\n+", text):
            s = sentence.strip()
            clauses = [s] if not s.endswith("?") else [c for c in re.split(r",|;|\bbut\b", s[:-1]) if c.strip()]
            for c in clauses:
                c = c.strip()
                if _FIRST_PERSON.search(c) and not _DECISION.search(c) and len(c.split()) >= 3 and c not in facts:
                    facts.append(c.rstrip(".") + ".")
    return facts
