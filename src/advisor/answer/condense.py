"""Follow-up questions: rewrite a question that leans on the conversation into a standalone one.

Deterministic and pure. The subject of a conversation is the role(s) its user turns talk about
("staff AI engineer", "AI architect"); its topic is the question last asked. A follow-up either
points back with a pronoun ("they", "that level", "which one"), or is elliptical ("And in India?",
"What about staff engineers?"), or names no role at all. Only the subject and the previous question
are carried over; the history is never pasted into the query.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Protocol

from advisor.schema import Turn

_ROLE = re.compile(
    r"\b(?:(?:principal|distinguished|senior\s+staff|staff|senior|lead|junior|mid-level)\s+)?"
    r"(?:(?:ai\s*/\s*ml|ai|ml|machine\s+learning)\s+)?"
    r"(?:engineering\s+architect|engineer|architect)s?\b",
    re.IGNORECASE,
)
_PRONOUN_LEVEL = re.compile(r"\b(?:that|this|the|these|those)\s+(level|role|position|job|track|path)s?\b", re.I)
_THEY = re.compile(r"\b(they|them|their|theirs)\b", re.I)
_WHICH_ONE = re.compile(
    r"\b(which\s+one|which\s+of\s+(?:the\s+)?(?:two|them|these)|which\s+(?:role\s+)?(?:pays|is|earns))", re.I
)
_ELLIPSIS = re.compile(r"^\s*(?:and|but|so)?\s*(?:what|how)\s+about\s+|^\s*(?:and|but)\s+(?=\S)", re.I)
_PREPOSITION = re.compile(r"^(in|for|at|with|after|before|outside|inside|within|on|across|without|from)\b", re.I)
_LEAD_AND = re.compile(r"^\s*(?:and|but|so|ok(?:ay)?|then)\s*,?\s+", re.I)


def roles_in(text: str) -> list[str]:
    """Role mentions in reading order, singular, as written ("staff AI engineer", "AI architect")."""
    found: list[str] = []
    for m in _ROLE.finditer(text):
        phrase = re.sub(r"\s+", " ", m.group(0)).strip()
        if phrase.lower().endswith("s") and not phrase.lower().endswith("ss"):
            phrase = phrase[:-1]
        if phrase.lower() in {"engineer", "architect"} and found:
            continue  # a bare "engineer" after a qualified mention adds nothing
        if phrase.lower() not in (f.lower() for f in found):
            found.append(phrase)
    return found


def _plural(role: str) -> str:
    return role if role.endswith("s") else role + "s"


def _cap(text: str) -> str:
    return text[:1].upper() + text[1:]


def condense(question: str, history: Sequence[Turn | dict]) -> str:
    """The standalone form of `question` given earlier turns (oldest first); unchanged if it stands alone."""
    turns = [t if isinstance(t, Turn) else Turn(t.get("role", "user"), t.get("content", "")) for t in history]
    previous: str | None = None
    for t in turns:
        if t.role == "user" and t.content.strip():
            previous = _rewrite(t.content.strip(), previous)
    return _rewrite(question.strip(), previous)


def _rewrite(question: str, previous: str | None) -> str:
    """Rewrite one question against the previous standalone question."""
    if previous is None:
        return question
    subjects = roles_in(previous)
    own = roles_in(question)
    words = question.split()

    # Elliptical follow-up: "And in India?", "What about staff engineers?"
    m = _ELLIPSIS.match(question)
    if (
        m
        and len(words) <= 7
        and not re.search(r"\b(is|are|do|does|should|can|what|how|which|who|why)\b", question[m.end() :], re.I)
    ):
        rest = question[m.end() :].strip().rstrip("?").strip()
        if own and subjects:
            return _swap_roles(previous, subjects, own)
        if rest and _PREPOSITION.match(rest) and previous.rstrip().endswith("?"):
            return f"{previous.rstrip().rstrip('?').rstrip()} {rest}?"  # "And in India?"
        if rest and subjects:
            return f"What about {rest} for {' and '.join(_plural(s) for s in subjects[:2])}?"
        if rest and previous.rstrip().endswith("?"):
            return f"{previous.rstrip().rstrip('?').rstrip()}: {rest}?"

    if own and not _PRONOUN_LEVEL.search(question) and not _WHICH_ONE.search(question):
        return question
    if not subjects:
        return question

    body = _cap(_LEAD_AND.sub("", question))
    subject = subjects[0]
    changed = False
    if _PRONOUN_LEVEL.search(body):
        body = _PRONOUN_LEVEL.sub(lambda m: f"the {subject} {m.group(1).lower()}", body, count=1)
        changed = True
    if _THEY.search(body):

        def they(m: re.Match) -> str:
            word = m.group(1).lower()
            return _plural(subject) + ("'" if word.startswith("their") else "")

        body = _THEY.sub(they, body)
        changed = True
    if _WHICH_ONE.search(body) and len(subjects) >= 2 and not own:
        body = f"{body.rstrip().rstrip('?')}: {subjects[0]} or {subjects[1]}?"
        changed = True
    if not changed and not own:
        body = f"{body.rstrip().rstrip('?')} ({' vs '.join(subjects[:2])})?"
    return body


def _swap_roles(previous: str, old: list[str], new: list[str]) -> str:
    """The previous question with its role mentions replaced by the new ones."""
    out = previous
    for i, role in enumerate(old):
        replacement = new[min(i, len(new) - 1)]
        out = re.sub(rf"\b{re.escape(role)}(s?)\b", lambda m, r=replacement: r + m.group(1), out, flags=re.I)
    return out


class Condenser(Protocol):
    """Rewrites a follow-up into a standalone question (unchanged when it already stands alone)."""

    name: str

    def condense(self, question: str, history: Sequence[Turn]) -> str: ...


class RuleCondenser:
    """The rule-based default: pronouns, ellipsis and "which one" resolved against earlier subjects."""

    name = "rules"

    def condense(self, question: str, history: Sequence[Turn]) -> str:
        return condense(question, history)
