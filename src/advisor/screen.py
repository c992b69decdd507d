"""Which sentences of a document are not career information: set aside, never quoted as advice.

A document scraped from the web carries more than its subject: calls to action ("Secure your spot
now!"), the author speaking of themselves (a bio, a testimonial, an offer), a vendor addressing its
customer ("we discuss your goals"), navigation ("Related reading: ..."), and text addressed to an
assistant rather than a reader ("ignore previous instructions", "SYSTEM: ..."). Each is recognised
from the form of the sentence (person, mood, labels), never from a particular corpus's words.

`sentence_reason` reads one sentence, `passage_reason` a whole chunk (set aside when most of its
sentences are, or when any of them is an instruction). Both are pure and shared by both pipelines:
the chunker stores a chunk's reason with it at index time (`Chunk.set_aside`), and the answer step
reads them to keep such text out of answers unless the question asks about it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence

from advisor.text import NAVIGATION_LINE, split_sentences

INSTRUCTION = "instructions addressed to an assistant, not information for a reader"
CALL_TO_ACTION = "a call to action (sign-up, offer or advert)"
AUTHOR = "the author speaking of themselves (a bio, testimonial or offer)"
VENDOR = "a seller addressing its customer"
NAVIGATION = "navigation or related-reading links"
HYPE = "a promotional prediction, not information"
ASKABLE = frozenset({AUTHOR, VENDOR})  # set aside, yet facts about the author or the offer when asked about

_INSTRUCTION = re.compile(
    r"\b(?:ignore|disregard|forget|override)\b.{0,40}\b(?:instructions?|prompts?|rules?|directions?|guidelines)\b"
    r"|\byou\s+(?:must|should|need\s+to|have\s+to)\s+(?:now\s+|always\s+|immediately\s+)?"
    r"(?:tell|inform|say\s+to|reply\s+to|respond\s+to|answer)\s+(?:the\s+)?(?:user|reader|human|customer)\b"
    r"|\b(?:tell|inform)\s+the\s+user\b|\bas\s+an?\s+(?:ai\s+)?(?:language\s+model|assistant)\b"
    r"|\bnew\s+instructions?\b|\bsystem\s+prompt\b"
    r"|^\W*(?:system|assistant|developer)\s*(?:prompt\s*)?:",
    re.I,
)
# An imperative that asks the reader to act for the publisher, with the marks of an advert.
_CTA_VERB = re.compile(
    r"^\W*(?:join|sign\s+up|subscribe|register|enrol+|book|download|click|buy|order|claim|grab|secure|"
    r"reserve|apply|start|get|explore|discover|unlock|contact|call|follow|share|try|check\s+out|don't\s+miss)\b",
    re.I,
)
_CTA_MARK = re.compile(
    r"!|\b(?:now|today|free|your\s+(?:spot|seat|place|copy|dream|journey)|newsletter|inbox|weekly|monthly|"
    r"exclusive|limited|discount|offer|access|trial|sign\s+up|subscribe|enrol+|register)\b",
    re.I,
)
# "will be the most sought-after ...": a superlative promised about the future
_HYPE = re.compile(
    r"\bwill\s+(?:be|become|remain)\s+(?:among\s+)?the\s+(?:most|highest|best|biggest|top)\b"
    r"|\b(?:revolution|game[- ]chang\w*)\b.{0,30}\b(?:is|are)\s+(?:accelerating|here|coming)\b",
    re.I,
)
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I've|I'll|I'd|[Mm]y|[Mm]e|[Mm]yself)\b")  # case-sensitive: "I", not "i"
_WE = re.compile(r"\b(?:we|we'll|we're|us|our)\b", re.I)
_YOU = re.compile(r"\b(?:you|you'll|you're|your)\b", re.I)


def sentence_reason(sentence: str) -> str | None:
    """Why `sentence` is not career information (one of the reasons above), or None (pure)."""
    text = sentence.strip()
    if not text:
        return None
    if _INSTRUCTION.search(text):
        return INSTRUCTION
    if NAVIGATION_LINE.match(text):
        return NAVIGATION
    if text.endswith("?"):
        return None  # a question heading or list item ("Which model should we use?") states nothing
    if _CTA_VERB.match(text) and _CTA_MARK.search(text):
        return CALL_TO_ACTION
    if _FIRST_PERSON.search(text):
        return AUTHOR
    if _WE.search(text) and _YOU.search(text):
        return VENDOR
    if _HYPE.search(text):
        return HYPE
    return None


def passage_reason(sentences: Sequence[str]) -> str | None:
    """Why a whole passage is set aside: it holds an instruction, or most of its sentences are set
    aside (the commonest reason is given); None when it is career information (pure)."""
    reasons = [sentence_reason(s) for s in sentences if not s.rstrip().endswith("?")]
    if INSTRUCTION in reasons:
        return INSTRUCTION
    flagged = [r for r in reasons if r]
    if not flagged or len(flagged) * 2 < len(reasons):
        return None
    return Counter(flagged).most_common(1)[0][0]


def set_aside_sentences(text: str, section: str | None = None) -> list[tuple[str, str]]:
    """(sentence, reason) for every sentence of a passage that is set aside (pure)."""
    return [(s, r) for s in split_sentences(text, section) if (r := sentence_reason(s))]
