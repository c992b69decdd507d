"""Checks of an LLM draft, one sentence at a time, before the user sees it (pure functions).

A drafted sentence is released only if its markers point at passages that exist (the others are
removed), a factual sentence carries at least one marker, every number in it occurs in one of its
cited passages, and its content is close to a sentence of a cited passage (cosine similarity of
sentence vectors above a threshold calibrated on evals/dev). `SentenceSplitter` cuts the streamed
draft into sentences as soon as each one is complete.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from advisor.schema import SentenceCheck
from advisor.text import MARKER, NUMBER, STOPWORDS, attach_marker, numbers_in

# -- sentence splitting of a streamed draft ----------------------------------------------------------------
_ABBREVIATIONS = frozenset(
    {"e.g", "i.e", "etc", "vs", "dr", "mr", "mrs", "ms", "approx", "no", "st", "jr", "sr", "inc"}
)
# sentence end: . ! or ? (closing quotes/brackets), then any markers, then whitespace before more text
_END = re.compile(r"[.!?][\"')\u201d\u2019*]*((?:\s*\[\d+\])*)[ \t]+(?=[^\s\[])")


def _real_end(text: str, period_at: int) -> bool:
    """False for the dot of a list number ("2. "), an initial ("J. ") or a known abbreviation."""
    if text[period_at] != ".":
        return True
    line = text[:period_at].rsplit("\n", 1)[-1]
    if re.fullmatch(r"\s*(\d{1,2}|[A-Za-z])", line):
        return False
    word = re.search(r"([A-Za-z.]+)$", line)
    return not (word and word.group(1).lower() in _ABBREVIATIONS)


def next_sentence(buffer: str) -> tuple[str, str] | None:
    """The first complete sentence of `buffer` and the rest, or None while it is still incomplete."""
    newline = buffer.find("\n")
    for m in _END.finditer(buffer):
        if newline != -1 and newline < m.start():
            break
        if _real_end(buffer, m.start()):
            return buffer[: m.end()].rstrip(), buffer[m.end() :]
    if newline != -1:
        return buffer[:newline].rstrip(), buffer[newline + 1 :]
    return None


class SentenceSplitter:
    """Feed streamed text; get back each sentence (or line) once it is complete."""

    def __init__(self) -> None:
        self._buffer = ""

    def feed(self, piece: str) -> list[str]:
        self._buffer += piece
        out = []
        while (found := next_sentence(self._buffer)) is not None:
            sentence, self._buffer = found
            if sentence.strip():
                out.append(sentence)
        return out

    def flush(self) -> list[str]:
        rest, self._buffer = self._buffer.strip(), ""
        return [rest] if rest else []


# -- what a sentence says ------------------------------------------------------------------------------------
_FORMAT = re.compile(r"^\s*(?:[-*\u2022]|\d{1,2}[.)]|#+)\s*|\*\*|__|`")
_NO_ANSWER = re.compile(
    r"\b(passages?|sources?|documents?|context|provided\s+information)\b.{0,60}"
    r"\b(do\s+not|don't|does\s+not|doesn't|not|no)\b|\bno\s+information\b",
    re.I,
)


def plain(sentence: str) -> str:
    """The sentence without markers, list bullets or Markdown emphasis, whitespace collapsed."""
    text = MARKER.sub(" ", sentence)
    text = _FORMAT.sub(" ", text)
    text = text.replace("**", " ").replace("__", " ")
    return re.sub(r"\s+([.,;:!?])", r"\1", re.sub(r"\s+", " ", text)).strip()


def markers_of(sentence: str) -> list[int]:
    return [int(m.group(1)) for m in MARKER.finditer(sentence)]


def is_question(sentence: str) -> bool:
    return plain(sentence).rstrip().endswith("?")


def is_factual(sentence: str) -> bool:
    """A sentence that states something about the world (so it needs a source).

    Not factual: headings and lead-ins ending with ':', questions, very short fragments, and
    statements that the sources do not answer.
    """
    text = plain(sentence)
    if len(re.findall(r"\w+", text)) < 3 or text.endswith((":", "?")):
        return False
    return not (_NO_ANSWER.search(text) and not NUMBER.search(text))


def keep_markers(sentence: str, n_passages: int) -> tuple[str, list[int], list[int]]:
    """The sentence with markers to missing passages removed; valid and removed marker numbers."""
    valid, removed = [], []
    for n in markers_of(sentence):
        (valid if 1 <= n <= n_passages else removed).append(n)
    text = MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_passages else "", sentence)
    text = re.sub(r"[ \t]+([.,;:!?])", r"\1", re.sub(r"[ \t]{2,}", " ", text)).rstrip()
    return text, list(dict.fromkeys(valid)), removed


_LEADING_MARKERS = re.compile(r"^\s*((?:\[\d+\]\s*)+)(?=\S)")


def markers_last(sentence: str) -> str:
    """`sentence` with the markers a model wrote in front of it moved to its end ("[2] A b." -> "A b [2].")."""
    found = _LEADING_MARKERS.match(sentence)
    if not found:
        return sentence
    text = sentence[found.end() :]
    for n in dict.fromkeys(markers_of(found.group(1))):
        text = attach_marker(text, n)
    return text


def check_sentence(
    sentence: str,
    passage_texts: Sequence[str],
    support: Callable[[str, Sequence[int]], float],
    threshold: float,
    titles: Sequence[str] = (),
) -> tuple[str, SentenceCheck]:
    """Check one drafted sentence against the passages (`passage_texts[n-1]` is passage n).

    `support(text, cited)` gives the best similarity of `text` to a sentence of the cited passages;
    it is only called when the cheaper checks pass. A sentence the model left without a valid marker
    gets `[n]` attached here, n the passage that supports it best (when one does, above `threshold`),
    instead of being dropped: small models rarely place markers well. A sentence that only repeats a
    passage's title or heading (`titles[n-1]`) says nothing: it is dropped, and not counted as a factual
    sentence (it states nothing wrong; a figure beside a title is content). Returns the sentence as it
    may be shown (valid markers only) and the verdict.
    """
    text, cited, removed = keep_markers(markers_last(sentence), len(passage_texts))
    claim = plain(text)
    factual = is_factual(text)
    short = not factual and _short_claim(claim, cited)
    if not (factual or short):
        return text, SentenceCheck(sentence, True, None, tuple(cited), tuple(removed), None, False)

    def verdict(reason: str | None, score: float | None = None) -> tuple[str, SentenceCheck]:
        return text, SentenceCheck(sentence, reason is None, reason, tuple(cited), tuple(removed), score)

    words = set(_words(claim)) - STOPWORDS
    if words and not numbers_in(text) and any(words <= set(_words(t)) for t in titles):
        return text, SentenceCheck(sentence, False, "title_only", tuple(cited), tuple(removed), None, False)

    def score_of(numbers: Sequence[int]) -> float:
        if short:  # a fragment's meaning is too thin to compare: it must stand word for word in the passage
            return 1.0 if any(quoted(claim, passage_texts[n - 1]) for n in numbers) else 0.0
        return support(claim, numbers)

    score = None
    missing = sorted(numbers_in(text) - set().union(*(numbers_in(passage_texts[n - 1]) for n in cited)))
    if cited and not missing:
        score = score_of(cited)
        if score >= threshold:
            return verdict(None, score)
    # no valid marker, or its passages lack its figures or do not support it: the passage that supports it best
    holding = [n for n in range(1, len(passage_texts) + 1) if numbers_in(text) <= numbers_in(passage_texts[n - 1])]
    scores = {n: score_of([n]) for n in holding}
    best = max(scores, key=scores.__getitem__, default=None)
    if best is None or scores[best] < threshold:
        if cited and missing:
            return verdict(f"number_not_in_source: {', '.join(missing)}")
        return verdict(
            "unsupported" if cited else "no_citation", score if cited else max(scores.values(), default=None)
        )
    cited = [best]
    text = attach_marker(keep_markers(text, 0)[0].strip(), best)  # its own markers gone, [best] attached
    return verdict(None, scores[best])


def _short_claim(claim: str, cited: Sequence[int]) -> bool:
    """A fragment the model cited that names something: a list item ("- LangChain [4]"), a figure ("20-40% [1]")."""
    return bool(cited) and not claim.endswith("?") and bool(numbers_in(claim) or set(_words(claim)) - STOPWORDS)


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z]{3,}", text.lower())


def _folded(text: str) -> str:
    """Lower case, Markdown emphasis and typographic quotes gone, whitespace collapsed: for word-for-word matching."""
    text = text.lower().translate(str.maketrans({"\u2019": "'", "\u2018": "'", "\u201c": '"', "\u201d": '"'}))
    return re.sub(r"\s+", " ", re.sub(r"[*_`]", "", text)).strip()


def quoted(claim: str, passage: str) -> bool:
    """True when `claim` (plain text, a final full stop aside) occurs word for word in `passage`."""
    needle = _folded(claim).rstrip(".;, ")
    if not needle or not (numbers_in(needle) or set(_words(needle)) - STOPWORDS):
        return False
    return re.search(rf"(?<!\w){re.escape(needle)}(?!\w)", _folded(passage)) is not None


def restates(sentence: str, quoted_lines: Sequence[str]) -> bool:
    """True when every word and figure of `sentence` is already in `quoted_lines` (the answer's opening):
    the model only repeated what the answer quoted first."""
    words = set(_words(plain(sentence))) - STOPWORDS
    said = " ".join(quoted_lines)
    return bool(words) and words <= set(_words(said)) and numbers_in(sentence) <= numbers_in(said)


def mark_unsupported(text: str) -> str:
    """How a sentence that failed a check is shown when ADVISOR_LLM_UNSUPPORTED=mark."""
    return f"{text} *(unverified)*"
