"""The refusal's words: what is missing, what the sources cover (the profile's description) and the profile's
example questions closest to the one asked (pure: a `Verdict` and a `Profile` in, text out)."""

from __future__ import annotations

import re
from collections.abc import Sequence

from advisor.profile import mentions
from advisor.schema import Profile, Verdict
from advisor.text import STOPWORDS, base_word, plain_words, plural, singular

SUGGESTIONS = 4


def suggestions(question: str, profile: Profile, n: int = SUGGESTIONS) -> list[str]:
    """The profile's example questions closest to `question` by shared words (then in profile order)."""

    def content(text: str) -> set[str]:
        return {base_word(w) for w in plain_words(text) if len(w) > 2 and w not in STOPWORDS}

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
        head = f"I can't answer that from my sources: {_not_discussed(verdict.missing, list(dict.fromkeys(named)))}."
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


# English adjective endings: a topic asked about as a quality ("less stressful") is said as one ("how stressful")
_ADJECTIVE = re.compile(r"^[a-z]{3,}(?:ful|ous|ive|able|ible|less|ish)$", re.I)


def _not_discussed(topics: Sequence[str], subjects: Sequence[str]) -> str:
    """What the sources do not discuss, as English says it: "pension for <subjects>"; a single quality as a
    question, "how stressful <subjects> are" (pure)."""
    who = " or ".join(subjects)
    if len(topics) == 1 and _ADJECTIVE.match(topics[0]):
        return f"they don't say how {topics[0]} {who + ' are' if who else 'it is'}"
    return f"they don't discuss {' or '.join(topics)}{f' for {who}' if who else ''}"


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text
