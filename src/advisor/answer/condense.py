"""Follow-up questions: rewrite a question that leans on the conversation into a standalone one.

Deterministic and pure. What a conversation is about — its subjects — are the corpus's own subjects
(`Profile.subjects`: roles, careers, levels, derived from the documents) as named by the user's
turns; no domain word is written here. A follow-up either points back ("they", "that level",
"which one", "both"), or is elliptical ("And in India?", "What about X?"), or is a short question
naming no subject ("Do I need a degree?"). A question that names its own subject is never given an
older one; a long question naming none is a new topic and left alone. Only the subjects and the
previous question are carried over; the history is never pasted into the query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from advisor.answer.intent import is_decision, opens_a_question, stated_facts, stated_sentences
from advisor.profile import Mention, ProfileBound, mentions, subjects_in
from advisor.schema import Profile, Turn
from advisor.text import normalize, plural, singular

__all__ = ["Condenser", "RuleCondenser", "condense", "subjects_in"]

_LEVEL_NOUN = r"level|role|position|job|track|path|career|stage|grade|profession|title"
_POINTER = re.compile(rf"\b(?:that|this|the\s+same)\s+({_LEVEL_NOUN})s?\b", re.I)
# where in a career a question is asked ("at the senior staff level"): carried with the subject to a pronoun
_LEVEL_PHRASE = re.compile(rf"\b(?:at|in|on)\s+the\s+(?:[\w/+-]+\s+){{1,3}}(?:{_LEVEL_NOUN})\b", re.I)
_BOTH = re.compile(rf"\b(?:both(?:\s+(?:{_LEVEL_NOUN})s)?|(?:these|those|the)\s+two(?:\s+(?:{_LEVEL_NOUN})s)?)\b", re.I)
_THEY = re.compile(r"\b(they|them|their|theirs|themselves)\b", re.I)
_COMPARATIVE = r"(?:more|less|most|least|better|worse|higher|lower|longer|shorter|faster)"
_WHICH_ONE = re.compile(
    r"\b(which\s+one|which\s+of\s+(?:the\s+)?(?:two|them|these|those|both)|which\s+(?:\w+\s+)?(?:is|has|needs)"
    rf"|(?:which|who)\s+(?:\w+\s+){{1,2}}{_COMPARATIVE})\b",
    re.I,
)
_ELLIPSIS = re.compile(r"^\s*(?:and|but|so)?\s*,?\s*(?:what|how)\s+about\s+|^\s*(?:and|but|also)\s*,?\s+(?=\S)", re.I)
_QUESTION_WORD = re.compile(r"\b(is|are|do|does|did|should|can|could|would|will|what|how|which|who|why|when)\b", re.I)
_PREPOSITION = re.compile(r"^(in|for|at|with|after|before|outside|inside|within|on|across|without|from|by)\b", re.I)
# how a chat opens a follow-up before what it asks: "and", "but", "so", "ok", with a comma or not
_OPENER = r"^\s*(?:(?:and|but|so|ok(?:ay)?)\s*,?\s+)?"
# "and if I moved to the UK, …": the person puts themselves in another place and asks the same again
_MOVED = re.compile(
    _OPENER + r"(?:what\s+)?if\s+(?:i|we)\s+(?:moved|move|relocated|relocate|lived|"
    r"live|went|go|were|was|worked|work)\s+(?:over\s+)?(?:to|in)\s+(?P<place>[^,?.!]+?)\s*(?:[,?.!]|$)",
    re.I,
)
# ... and asks nothing of its own: "what would I be looking at?", "what then?", "how would that change?"
_VAGUE = re.compile(
    r"(?:(?:what|how)\s+(?:would|will|does|do|could)\s+(?:i|we|that|it|things?|this)\s+(?:be\s+)?"
    r"(?:look(?:ing)?(?:\s+(?:at|like))?|change|compare|be|get|make|earn)|what\s+then|how\s+about\s+then|"
    r"would\s+(?:that|it)\s+change(?:\s+(?:things|anything))?)?\s*\??\s*",
    re.I,
)
# a follow-up that is only a clause of time or condition: "and once they've got a few years in?", "and when
# they're fully qualified?" (one clause: "and if I moved to Peru, what then?" asks more)
_WHEN_CLAUSE = re.compile(
    _OPENER + r"(?P<clause>(?:once|when|after|if|by\s+the\s+time|now\s+that)\b[^,?.!]*)\?*\s*$",
    re.I,
)
# "and how does that compare with the US?" after a question asked of another place: the same question there
_COMPARED_WITH = re.compile(
    _OPENER + r"how\s+(?:does|do|would|will|is|are)\s+(?:that|this|it|those|these)\s+"
    r"compare\s+(?:with|to|against)\s+(?P<place>[^?,.!]+?)\s*\?*\s*$",
    re.I,
)
_CONTRACTION = re.compile(r"\b(they|we|you|i)'(ve|re|ll|d|m)\b", re.I)
_FULL = {"ve": "have", "re": "are", "ll": "will", "d": "would", "m": "am"}


def _expanded(text: str) -> str:
    """Contractions of a pronoun written out ("they've" -> "they have") (pure)."""
    return _CONTRACTION.sub(lambda m: f"{m.group(1)} {_FULL[m.group(2).lower()]}", text)


_OVER = re.compile(r"^(?:over|out|down|up|back)\s+(?=(?:in|at|on)\b)", re.I)  # "what about over in the UK?"
_THERE = re.compile(r"^(?:over|out|back|down|up)?\s*there\b\s*,?\s*", re.I)  # "(over) there": the place already asked
_LEAD = re.compile(r"^\s*(?:and|but|so|ok(?:ay)?|then|also)\s*,?\s+", re.I)
_DEICTIC = re.compile(r"\b(it|this|that|there|these|those|then|here)\b", re.I)
_PERSON = re.compile(r"^[a-z][a-z-]*(?:ers?|ors?|ists?|ians?|ants?|eers?|ects?|aries|ary|ees?|men|women|people)$", re.I)
_PLACE_PHRASE = r"(?:the\s+)?[A-Z][\w.&'-]*(?:\s+[A-Z][\w.&'-]*)*"
SHORT = 8  # a question this short that names no subject leans on the conversation
RESTATED = 16  # a question this short that restates a quantity of the person's ("closer to nine years now") asks again
# a quantity of the person's situation ("4 years", "around ten years", "six months"): its number and unit
_QUANTITY = re.compile(
    r"\b(\d+(?:\.\d+)?|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|a\s+few|several)"
    r"\s*\+?\s*(years?|yrs?|months?|weeks?)\b",
    re.I,
)


def condense(question: str, history: Sequence[Turn | dict], profile: Profile | None = None) -> str:
    """The standalone form of `question` given earlier turns (oldest first); unchanged if it stands alone.

    A question about the person ("Should I…?", "Is my background enough?") also carries what they said
    about themselves in earlier turns, in their words, in front of it."""
    profile = profile or Profile()
    turns = [t if isinstance(t, Turn) else Turn(t.get("role", "user"), t.get("content", "")) for t in history]
    previous: str | None = None
    subjects: list[str] = []
    seen: list[str] = []  # every subject of the conversation, the latest first
    for t in turns:
        if t.role == "user" and t.content.strip():
            previous = _rewrite(t.content.strip(), previous, subjects, profile, seen)
            subjects = _subjects(previous, profile) or subjects
            seen = [*subjects, *(s for s in seen if s.lower() not in {x.lower() for x in subjects})]
    standalone = _rewrite(question.strip(), previous, subjects, profile, seen)
    return _with_person(standalone, turns)


_ABOUT_ME = re.compile(
    r"\bmy\s+(?:background|experience|situation|profile|skills?|case|career|degree|job|chances|odds)\b|\bfor\s+me\b",
    re.I,
)


def _with_person(question: str, turns: Sequence[Turn]) -> str:
    """`question` preceded by the person's earlier statements about themselves when it asks about them
    and states nothing of its own (the decision it asks for depends on those facts)."""
    if not (is_decision(question) or _ABOUT_ME.search(question)) or stated_facts(question):
        return question
    said = [c for c in stated_sentences("", [t for t in turns if t.role == "user"]) if not opens_a_question(c)]
    said = latest_statements(said, question)
    return " ".join([*said[-2:], question]) if said else question


def _unit(quantity: re.Match) -> str:
    return quantity.group(2).lower().rstrip("s").replace("yr", "year")


def restated(question: str, previous: str) -> str | None:
    """The previous question with its quantity replaced by the one a short follow-up states in the same unit
    ("I have 3 years … Should I move?" then "Actually it's closer to nine years now, does that change things?"
    -> "I have nine years … Should I move?"): the person corrects their situation and asks again; None when
    the follow-up states no such quantity (pure)."""
    new = _QUANTITY.search(question)
    if new is None or len(question.split()) > RESTATED:
        return None
    old = next((q for q in _QUANTITY.finditer(previous) if _unit(q) == _unit(new)), None)
    if old is None:
        return None
    return previous[: old.start()] + new.group(0) + previous[old.end() :]


def latest_statements(said: Sequence[str], question: str = "") -> list[str]:
    """The person's statements without those a later one (or the question) replaces: a new quantity in the same
    unit ("around ten years" after "4 years") is their situation now, not in addition (pure)."""
    out = []
    for i, sentence in enumerate(said):
        later = " ".join([*said[i + 1 :], question])
        units = {_unit(q) for q in _QUANTITY.finditer(sentence)}
        if not (units and units <= {_unit(q) for q in _QUANTITY.finditer(later)}):
            out.append(sentence)
    return out


def _subjects(text: str, profile: Profile) -> list[str]:
    """The conversation's subjects named in `text`, with their unknown qualifiers ("vegan chef")."""
    out: dict[str, str] = {}
    for m in mentions(text, profile):
        full = f"{m.qualifier} {m.subject}".strip()
        out.setdefault(full.lower(), full)
    return list(out.values())


def _rewrite(
    question: str, previous: str | None, subjects: list[str], profile: Profile, seen: Sequence[str] = ()
) -> str:
    """Rewrite one question against the previous standalone question and the conversation's subjects
    (`subjects`: the latest named; `seen`: all of them, the latest first, for "the two" and "which one")."""
    if previous is None:
        return question
    own = mentions(question, profile)
    if not own and (again := restated(question, previous)):
        return again
    earlier = mentions(previous, profile)

    moved = _MOVED.match(question)
    if moved and not own and _VAGUE.fullmatch(question[moved.end() :].strip()):
        return _with_phrase(previous, f"in {moved.group('place').strip()}")  # "And if I moved to the UK, what then?"

    compared = _COMPARED_WITH.match(question)
    place = compared.group("place") if compared and not own else ""
    # ... a place, after a question asked of a place
    if re.fullmatch(_PLACE_PHRASE, place) and re.search(rf"\bin\s+{_PLACE_PHRASE}$", _strip_q(previous)):
        return _with_phrase(previous, f"in {place}")

    clause = _WHEN_CLAUSE.match(question)
    if clause and not own:  # "and once they've got a few years in?": the previous question, in that case
        return f"{_strip_q(previous)} {_expanded(clause.group('clause').strip())}?"

    m = _ELLIPSIS.match(question)
    rest = _OVER.sub("", question[m.end() :].strip().rstrip("?").strip()) if m else ""
    if m and _WHEN_CLAUSE.match(rest):  # "what about once you reach the next grade?": the previous question, then
        return f"{_strip_q(previous)} {_expanded(rest)}?"
    if m and rest and len(rest.split()) <= SHORT and not _QUESTION_WORD.search(rest):
        return _elliptical(rest, own, previous, earlier, subjects, profile)

    if own or not subjects:
        return question  # names its own subject, or there is none to carry over
    body = _cap(_LEAD.sub("", question))
    changed = False
    if _POINTER.search(body):
        body = _POINTER.sub(lambda p: f"the {subjects[0]} {p.group(1).lower()}", body, count=1)
        changed = True
    pair = [*subjects, *(s for s in seen if s not in subjects)][:2]  # "the two": the latest two subjects
    if len(pair) == 2 and _BOTH.search(body) and not _WHICH_ONE.search(body):
        body = _BOTH.sub(lambda _: f"both {plural(pair[0])} and {plural(pair[1])}", body, count=1)
        changed = True
    if _THEY.search(body):
        body = _expanded(body)  # "they've" -> "they have", so "potters've" is never written
        group = " and ".join(plural(s) for s in subjects[:2])
        at = _LEVEL_PHRASE.search(previous)
        level = [at.group(0)] if at and not _LEVEL_PHRASE.search(body) and not _POINTER.search(body) else []

        def named(t: re.Match) -> str:
            if t.group(1).lower().startswith("their"):
                return group + "'"
            return f"{group} {level.pop()}" if level else group  # the level once, after the first

        body = _THEY.sub(named, body)
        changed = True
    if _WHICH_ONE.search(body) and len(pair) == 2:
        body = f"{_strip_q(body)}: {pair[0]} or {pair[1]}?"
        changed = True
    if not changed and (step := _step_of(previous)) and _THING.search(body):
        return _THING.sub(step, body, count=1)  # "Can that be sped up?" after "How long does it take to go …?"
    if not changed and (len(question.split()) <= SHORT or _DEICTIC.search(question)):
        body = f"{_strip_q(body)} ({' and '.join(subjects[:2])})?"
        changed = True
    return body if changed else question


# "that" / "it" standing for what the previous question asked about doing ("Can that be sped up?")
_THING = re.compile(r"(?<=\s)(?:that|it|this)(?=\s+(?:be|is|was|get|gets|take|takes|happen|work|done)\b)", re.I)
_STEP = re.compile(
    r"\b(?:take|takes|took|need|needs|does\s+it\s+take)\s+(?:\w+\s+)?to\s+(become|get|go|move|reach|switch|transition|make\s+it)\b([^?]*)",
    re.I,
)
_GERUND = {
    "become": "becoming",
    "get": "getting",
    "go": "going",
    "move": "moving",
    "reach": "reaching",
    "switch": "switching",
    "transition": "transitioning",
    "make it": "making it",
}


def _step_of(previous: str) -> str:
    """What the previous question asked it takes to do, as a noun phrase ("How long does it take to go from X to
    Y?" -> "going from X to Y"); "" when it asked no such thing (pure)."""
    m = _STEP.search(previous)
    return f"{_GERUND[m.group(1).lower()]}{m.group(2).rstrip()}" if m else ""


def _elliptical(
    rest: str, own: list[Mention], previous: str, earlier: list[Mention], subjects: list[str], profile: Profile
) -> str:
    """ "What about X?" / "And in India?" as the previous question about X or in India."""
    if own and earlier:
        swapped = _swap(previous, earlier, [_in_context(m, earlier[0].subject, profile) for m in own])
        at = rest.lower().rfind(own[-1].text.lower())
        tail = _THERE.sub("", rest[at + len(own[-1].text) :].strip(" ,") if at >= 0 else "")
        # "and for glaziers over there with 12+ yrs?" after "4 yrs as a potter": the person's years are these now
        if again := restated(tail, swapped):
            return again
        # "And for potters with more than 12 years?": the phrase after the new subject stays asked
        return _with_phrase(swapped, tail) if _PREPOSITION.match(tail) else swapped
    if _PREPOSITION.match(rest):
        return _with_phrase(previous, rest)
    one = re.fullmatch(r"(?:(?:a|an|the)\s+)?([\w-]+(?:\s+[\w-]+)?)\s+ones?", rest, re.I)
    if one and earlier:  # "And a junior one?"
        return _swap(previous, earlier[:1], [_requalified(one.group(1), earlier[0].subject, profile)])
    words = rest.split()
    if own or (len(words) <= 3 and _PERSON.match(words[-1]) and words[-1].lower().endswith("s")):
        # another subject, though the previous question named none (or one the profile does not know)
        if earlier:
            return _swap(previous, earlier, [" ".join([*words[:-1], singular(words[-1])])])
        return f"{_strip_q(previous)}: {rest}?"
    if re.fullmatch(_PLACE_PHRASE, rest) and rest.split()[-1][:1].isupper():
        return _with_phrase(previous, f"in {rest}")  # "What about the UK?"
    if subjects:
        return f"What about {rest} for {' and '.join(plural(s) for s in subjects[:2])}?"
    return f"{_strip_q(previous)}: {rest}?"


def _in_context(m: Mention, earlier: str, profile: Profile) -> str:
    """A bare head noun ("a baker?") after a qualified subject ("senior pastry chef") as the profile's subject
    with the most of the earlier qualifiers ("pastry baker"), else as written: the conversation's field goes on."""
    written = f"{m.qualifier} {m.subject}".strip()
    if m.qualifier or len(m.subject.split()) != 1:
        return written
    known = {normalize(s).lower(): s for s in profile.subjects}
    words = earlier.split()[:-1]
    for k in range(len(words)):
        candidate = normalize(" ".join([*words[k:], m.subject]))
        if candidate.lower() in known:
            return known[candidate.lower()]
    return written


def _requalified(qualifier: str, subject: str, profile: Profile) -> str:
    """ "junior" + "senior pastry chef" -> "junior pastry chef": the profile's subject that fits, else prefixed."""
    known = {normalize(s).lower(): s for s in profile.subjects}
    words = subject.split()
    for k in range(len(words)):
        candidate = normalize(f"{qualifier} {' '.join(words[k:])}")
        if candidate.lower() in known:
            return known[candidate.lower()]
    return f"{qualifier} {subject}"


def _with_phrase(previous: str, phrase: str) -> str:
    """The previous question with a prepositional phrase added, or replacing one of the same kind."""
    prep = phrase.split()[0].lower()
    base = _strip_q(previous)
    replaced = re.sub(rf"\b{prep}\s+{_PLACE_PHRASE}$", phrase, base)
    return f"{replaced if replaced != base else f'{base} {phrase}'}?"


def _swap(previous: str, old: list[Mention], new: list[str]) -> str:
    """The previous question with its subject mentions replaced by the new ones, in the old number."""
    text = normalize(previous)
    if len(new) < len(old):  # fewer subjects now: the whole span of the old ones becomes the new ones
        old = [Mention(old[0].start, old[-1].end, "", "", any(m.plural for m in old))]
    pieces: list[str] = []
    pos = 0
    for i, m in enumerate(old):
        items = new[i:] if i == len(old) - 1 else [new[i]]
        written = " and ".join(plural(s) if m.plural else s for s in items)
        pieces += [_fix_article(text[pos : m.start], written), written]
        pos = m.end
    pieces.append(text[pos:])
    return "".join(pieces)


def _fix_article(before: str, word: str) -> str:
    """`before` with a trailing "a"/"an" agreeing with `word`."""
    m = re.search(r"\b(a|an|A|An)\s+$", before)
    if not m:
        return before
    article = "an" if _vowel_sound(word) else "a"
    article = article.capitalize() if m.group(1)[0].isupper() else article
    return before[: m.start(1)] + article + before[m.end(1) :]


def _vowel_sound(word: str) -> bool:
    first = word.split()[0] if word.split() else ""
    if first.isupper() and len(first.split("/")[0]) > 1:  # an acronym is read letter by letter
        return first[0] in "AEFHILMNORSX"
    return first[:1].lower() in "aeio"


def _strip_q(text: str) -> str:
    return text.rstrip().rstrip("?").rstrip()


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


class Condenser(Protocol):
    """Rewrites a follow-up into a standalone question (unchanged when it already stands alone)."""

    name: str

    def condense(self, question: str, history: Sequence[Turn]) -> str: ...


class RuleCondenser(ProfileBound):
    """The rule-based default: pronouns, ellipsis and "which one" resolved against the corpus's subjects.

    `profile` is the corpus profile or a function returning the current one (the `Advisor` binds
    its own, so a reindex is followed); without one, only prepositional ellipsis is resolved.
    """

    name = "rules"

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        return condense(question, history, self.profile)
