"""Messages that are no question for the sources: a greeting or thanks, and a question in another language.

Both are read from general English, never from a corpus: a greeting is a message made only of a small set of
greeting words; a message is taken as another language when few of its words are English function words or
words the corpus knows (the retriever's `unknown_terms` says which content words it does not know) and it
holds a common function word of another language. The
advisor answers them with a short greeting or "I answer in English from English documents", each with the
questions the corpus answers, instead of a refusal that names their words as missing.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection

from advisor.schema import Verdict
from advisor.text import STOPWORDS

# General English: greetings, thanks and farewells, and the words that go with them ("thank you so much").
HELLO = frozenset("hi hello hey hiya howdy greetings morning afternoon evening".split())
THANKS = frozenset("thanks thank thx ty cheers appreciated".split())
BYE = frozenset("bye goodbye".split())
_WITH = frozenset("good day there you all everyone so much very a lot again how are ok okay great nice".split())

ENGLISH_SHARE = 0.5  # below this share of English words a message may be in another language
# The commonest function words of Spanish, French, German, Portuguese, Italian and Dutch that are no English word
# (not "de", "die", "was", "con", "do", "so"...): a message holding one, and few English words, is in another
# language; English with typos or unknown names holds none ("Who won the Tour de France?").
FOREIGN = frozenset(
    """
    el la los las un una unos unas es qué que cómo cuánto cuántos cuál por para del al ser soy estoy debería
    puedo tengo pero muy más años mi yo
    le les une des du est sont je suis dans avec sur quel quelle quels comment combien et ou être dois peux
    faut ce cette mes
    der das ein eine einen ist sind ich wie viel viele welche welcher werden sollte soll kann mit für auf und
    nicht oder bei mein meine
    um uma é são como quanto quantos não você eu sou estou devo posso tenho mais ao da
    il gli della delle è sono che quanti di devo
    een het ik wat voor niet wordt zijn moet mijn
    """.split()
)
_TOKEN = re.compile(r"[^\W\d_]+(?:'[^\W\d_]+)?")


def greeting(text: str) -> str:
    """ "hello", "thanks" or "bye" when `text` is only a greeting, thanks or farewell; "" otherwise (pure)."""
    words = _TOKEN.findall(str(text).lower())
    if not words or len(words) > 8 or any(w not in HELLO | THANKS | BYE | _WITH for w in words):
        return ""
    for kind, vocabulary in (("thanks", THANKS), ("bye", BYE), ("hello", HELLO)):
        if any(w in vocabulary for w in words):
            return kind
    return ""


def english_share(text: str, unknown: Collection[str]) -> tuple[float, int, int]:
    """How English `text` reads (pure): the share of its counted words that are English (function words, or
    words of 3+ ASCII letters that are not among the `unknown` words the corpus does not know), how many words
    counted, and how many are function words of another language (`FOREIGN`).

    Words of one or two letters that are neither ("AI", "de") do not count.
    """
    unknown_parts = {p for u in unknown for p in _TOKEN.findall(str(u).lower())}
    english = counted = foreign = 0
    for word in _TOKEN.findall(str(text).lower()):
        if word in STOPWORDS:
            english, counted = english + 1, counted + 1
        elif word in FOREIGN:
            foreign, counted = foreign + 1, counted + 1
        elif len(word) > 2 or not word.isascii():
            counted += 1
            english += word.isascii() and word not in unknown_parts
    return (english / counted if counted else 1.0), counted, foreign


def other_language(text: str, unknown: Collection[str]) -> bool:
    """Whether `text` reads as written in another language than English (pure): letters of another script
    than Latin, or a function word of another language among two or more counted words of which fewer than
    `ENGLISH_SHARE` are English."""
    if any(ch.isalpha() and not unicodedata.name(ch, "LATIN").startswith("LATIN") for ch in str(text)):
        return True
    share, counted, foreign = english_share(text, unknown)
    return foreign > 0 and counted >= 2 and share < ENGLISH_SHARE


# The judge's `Verdict.kind` for each kind of message, and its `reason` (`Answer.refusal_reason`).
REASONS = {"hello": "a greeting", "thanks": "thanks", "bye": "a farewell", "language": "not in English"}


def intake_verdict(question: str, unknown: Collection[str]) -> Verdict | None:
    """A refusal `Verdict` for a greeting or a question in another language; None for anything else (pure)."""
    kind = greeting(question) or ("language" if other_language(question, unknown) else "")
    return Verdict(True, REASONS[kind], kind=kind) if kind else None
