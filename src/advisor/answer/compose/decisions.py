"""How much a source sentence decides a question for this person (pure, table-tested): its condition's
words shared with what they said, a recommending form, a range of the unit they gave a number in; the
conditional list that fits them, and the one follow-up question for the facts that would change the
answer. Used by the extractive generator for decision questions (`Intent.decision`).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

from advisor.answer.compose.lists import ListBlock, list_blocks
from advisor.answer.intent import TERM, TERM_STOPWORDS, Intent, with_digits
from advisor.schema import Passage
from advisor.text import CONDITION, RECOMMENDS, career_start, seasoned, spelled_in_full

_RANGE = re.compile(r"(\d+)\s*(?:-|–|to)\s*(\d+)\s*\+?\s*([a-z]+)|(\d+)\s*\+\s*([a-z]+)", re.I)
_FRAME_WORDS = frozenset(
    """
    should shall would could can will do does did am is are was were be been being have has had get got
    go going want wants like know think thinking make makes right good idea plan sense fit time still
    really just also ever even yet now then there here not no yes don't can't won't i'm i've i'd
    """.split()
)
VERDICT_CONDITION = 0.10  # per word the sentence's condition shares with what the person said (at most 3)
VERDICT_CUE = 0.08  # a conditional or a recommendation
# a condition the person's story rules out ("If you're early in your career" for six years in): it decides nothing
VERDICT_UNMET = 0.3
VERDICT_RANGE = 0.12  # the person gave a number and the sentence a range of the same unit
FAQ_SIMILARITY = 0.6  # a FAQ question this close to the asked one is the same question in other words
VERDICT_FAQ = 0.20  # the first sentence answering a FAQ question worded like the person's
VERDICT_PRIORITY = 0.2  # a sentence stating pay when money is what matters most to the person; dev (0.1: half)

# what the person says matters most to them: a want after "but" ("I love plants, but I want a big paycheck"),
# a stated priority ("money is what motivates me most", "getting hired fast matters more to me than anything",
# "purely on pay") or the question's own measure ("worth it money-wise", "financially")
_PRIORITY = re.compile(
    r"\bbut\s+(?:i\s+|i'?ll\s+|i'?d\s+)?(?:also\s+|really\s+|still\s+)*(?:want|need|care|would\s+like)\b[^.?!;]*"
    r"|[^.?!;,]*\b(?:is|are)\s+(?:what\s+(?:\w+\s+){0,2}(?:motivates|matters\s+to|drives)\s+me"
    r"|the\s+(?:main|only|one|first)\s+thing|my\s+(?:top|first|main|biggest)\s+priority)\b[^.?!;]*"
    r"|[^.?!;,]*\bmatters?\s+(?:most|more)\s+to\s+me\b[^.?!;]*"
    r"|\bpurely\s+on\s+\w+|\b\w+-wise\b|\bfinancially\b",
    re.I,
)


def priority(question: str) -> str:
    """What the person says matters most to them, in their words ("" when they say nothing of it) (pure)."""
    return " ".join(m.group(0).strip() for m in _PRIORITY.finditer(question))


@functools.cache
def _stemmer():
    import Stemmer

    return Stemmer.Stemmer("english")


def stems(text: str) -> frozenset[str]:
    """The content words of a text as English stems ("drawing", "draw" -> "draw")."""
    words = [w for w in TERM.findall(text.lower()) if w not in TERM_STOPWORDS and w not in _FRAME_WORDS and len(w) > 1]
    return frozenset(_stemmer().stemWords(words))


def overlap(a: frozenset[str], b: frozenset[str]) -> int:
    """Stems of `a` that `b` shares, counting a stem of five letters or more that begins the other
    ("creativi" / "creativ") as shared."""
    return sum(1 for x in a if _shared(x, b))


def speaks_to(text: str, user: frozenset[str]) -> frozenset[str]:
    """What the person said (`user`, as stems) that the text speaks to (pure)."""
    own = stems(text)
    return frozenset(u for u in user if _shared(u, own))


def _shared(x: str, b: frozenset[str]) -> bool:
    """`b` holds the stem `x`, or one of five letters or more beginning it or begun by it."""
    return x in b or (len(x) >= 5 and any(y.startswith(x) or x.startswith(y) for y in b if len(y) >= 5))


_NEGATOR = re.compile(
    r"\b(?:not|no|never|less|fewer|than|without|hate|hates|dislike|dislikes|dread|dreads|avoid|can't|don't|won't|isn't)"
    r"((?:\s+[\w'-]+){1,4})",
    re.I,
)


@functools.lru_cache(maxsize=256)  # the person's question is read once per candidate sentence
def negated(text: str) -> frozenset[str]:
    """Stems a text says less of, none of or dislikes: up to four words after "less", "no", "hate", "don't"
    ("comfortable with less hands-on coding", "I hate kilns") (pure)."""
    return frozenset(t for m in _NEGATOR.finditer(text) for t in stems(m.group(1)))


def agreement(condition: str, question: str, user: frozenset[str]) -> int:
    """The words a sentence's condition shares with what the person said, each counted +1 when both say it
    the same way and -1 when one says it with "less", "no" or "hate" and the other does not ("if you
    enjoy designing … less hands-on coding" against "coding is what I enjoy most": 1 - 1 = 0) (pure)."""
    theirs, ours = negated(question), negated(condition)
    return sum(1 if (x in ours) == _shared(x, theirs) else -1 for x in stems(condition) if _shared(x, user))


def user_terms(question: str, subjects: Sequence[str] = ()) -> frozenset[str]:
    """What the person said about themselves and their wish, as stems: the question without its frame
    words and the subjects it names (pure)."""
    return stems(question) - {w for s in subjects for w in stems(s)}


def ranges(text: str) -> dict[str, list[tuple[float, float]]]:
    """Ranges stated in a text, by the unit word after them ("5-8 years" -> {"year": [(5, 8)]})."""
    out: dict[str, list[tuple[float, float]]] = {}
    for m in _RANGE.finditer(text):
        if m.group(1):
            lo, hi, unit = float(m.group(1)), float(m.group(2)), m.group(3)
        else:
            lo, hi, unit = float(m.group(4)), float("inf"), m.group(5)
        out.setdefault(unit.lower().rstrip("s"), []).append((lo, hi))
    return out


def in_asked_range(text: str, intent: Intent) -> bool:
    """A number the question gives falls in a range the sentence states in the same unit ("four years in"
    against the "3-5 Years" row; "10 years" against "8+ Years"): the figure for the asked case (pure). A
    question giving a range itself ("3 to 5 years") is matched by its numbers, not by this."""
    asked = [float(n) for n in intent.numbers if n.replace(".", "", 1).isdigit()]
    return len(asked) == 1 and any(
        lo <= n <= hi for unit, spans in ranges(text).items() if unit in intent.units for lo, hi in spans for n in asked
    )


def unmet(text: str, question: str) -> bool:
    """The sentence's condition is the start of a career ("If you're early in your career, …") and the person
    tells of three years or more of experience, and of no start: it is advice for someone else (pure)."""
    m = CONDITION.search(text)
    condition = next((g for g in m.groups() if g), "") if m else ""
    return bool(question) and career_start(condition) and not career_start(question) and seasoned(question)


def verdict_bonus(
    text: str,
    user: frozenset[str],
    intent: Intent,
    faq_opener: bool = False,
    question: str = "",
    told: frozenset[str] = frozenset(),
) -> float:
    """How much a sentence decides the question for this person (pure; table-tested).

    The words of its condition ("if you still love working with dough") shared with what the person said
    (`agreement`: a word one says with "less" or "hate" and the other not counts against it),
    a conditional or recommending form, a range of the unit the person gave a number in ("5-8 years"
    against "3 years": in or out of it, it decides), being the first answer to a FAQ question
    worded like theirs, and, with no cue, sharing two words or more with what they stated about themselves
    (`told`: "Remote work … 7% … fully remote vs 12%" for "I really want to work fully from home").
    """
    bonus = 0.0
    m = CONDITION.search(text)
    if m and not re.search(r"\b(?:sure|unsure|wonder\w*|ask\w*|know|decide|whether)\s+if\s+you\b", text, re.I):
        condition = next(g for g in m.groups() if g)
        # the start of a career on both sides is a shared condition, however each words it ("just finished my
        # degree" for "if you're early in your career")
        stage = 2 if question and career_start(condition) and career_start(question) else 0
        if unmet(text, question):
            bonus -= VERDICT_UNMET  # advice for people starting out, and this person has years behind them
        else:
            bonus += VERDICT_CUE + VERDICT_CONDITION * min(3, agreement(condition, question, user) + stage)
    elif RECOMMENDS.search(text):
        bonus += VERDICT_CUE / 2 + VERDICT_CONDITION / 2 * min(2, overlap(stems(text), user))
    elif (shared := overlap(stems(text), told)) >= 2:  # a fact that speaks to what they said ("fully remote")
        bonus += VERDICT_CUE / 2 + VERDICT_CONDITION / 2 * min(2, shared)
    if intent.units & set(ranges(text)):
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
    said = with_digits(spelled_in_full(question))  # "7 yrs" gives the years
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
            if not CONDITION.search(block.label) or not block.label:
                continue
            shared = overlap(user, stems(" ".join(block.items)))
            if shared >= 2 and (best is None or shared > best[0]):
                best = (shared, p, block)
    return (best[1], best[2]) if best else None
