"""The corpus profile at answer time: reading the saved profile and finding its subjects in a text.

The profile itself is derived from the documents when they are indexed (`advisor.ingest.profile`);
what answering needs of it lives here, so that condensing, the judge and the facade import nothing
of the indexing pipeline: `load_profile`, the subjects a text names (`mentions`, `subjects_in`),
the kind of figure a question asks for (`measure_in`) and `ProfileBound`, the base of the rule-based
stages that read the profile.
"""

from __future__ import annotations

import bisect
import functools
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from advisor.schema import Profile
from advisor.text import STOPWORDS, head_pattern, normalize, phrase_pattern, singular, word_stem

PROFILE = "profile.json"  # the saved profile's file name in the data dir
WORD = r"[A-Za-z][\w'&+-]*(?:/[A-Za-z][\w&+-]*)*"


def subject_words(subject: str) -> frozenset[str]:
    """A subject's words as subjects are compared: lower case, a plural "s" dropped ("Nurses" -> "nurse")."""
    return frozenset(w.rstrip("s") for w in re.findall(r"[a-z0-9]+", subject.lower()))


def same_subject(a: str, b: str) -> bool:
    """One subject's words hold the other's ("nurse" / "nurse practitioner", "ICU nurse")."""
    wa, wb = subject_words(a), subject_words(b)
    return bool(wa and wb) and (wa <= wb or wb <= wa)


def names_an_author(name: str, profile: Profile) -> bool:
    """`name` is a document's author or publisher, or a word of one's name ("K21" of "K21 Academy"): it says
    whose document a question means, not what it asks about."""
    low = name.lower()
    return any(low == a.lower() or low in a.lower().split() for a, _ in profile.authors if low not in STOPWORDS)


def authored_sources(text: str, profile: Profile) -> frozenset[str]:
    """The documents whose author or publisher `text` names: a name of several words in full, in any case, or a
    word of the name as the name writes it ("K21" of "K21 Academy"; "zen" in lower case is a word, not "Zen")."""
    out = set()
    for author, source in profile.authors:
        words = [w for w in author.split() if len(w) >= 3 and w.lower() not in STOPWORDS]
        full = len(author.split()) > 1 and re.search(rf"\b{re.escape(author)}\b", text, re.I)
        if full or any(re.search(rf"(?<![\w-]){re.escape(w)}(?![\w-])", text) for w in words):
            out.add(source)
    return frozenset(out)


def load_profile(data_dir: Path) -> Profile | None:
    """The saved profile, or None when there is none (or it cannot be read)."""
    try:
        return Profile.from_json(json.loads((Path(data_dir) / PROFILE).read_text(encoding="utf-8")))
    except (OSError, ValueError, TypeError, AttributeError):
        return None


def canonical(phrase: str) -> str:
    """Singular, lower case except acronyms and capitalised-inside words ("F/B manager", "BBQ chef")."""
    words = normalize(phrase).split()
    words[-1] = singular(words[-1])
    keep = [(w.isupper() and len(w) > 1) or "/" in w or w[1:] != w[1:].lower() for w in words]
    return " ".join(w if k else w.lower() for w, k in zip(words, keep, strict=True))


def measure_in(text: str, profile: Profile) -> str | None:
    """The kind of figure `text` asks for by a word its corpus uses for one ("earn" -> currency), else None."""
    if not profile.measures:
        return None
    kinds = dict(profile.measures)
    for w in re.findall(r"[a-z]{3,}", text.lower()):
        if kind := kinds.get(word_stem(w)):
            return kind
    return None


@dataclass(frozen=True)
class Mention:
    """A subject named in a text: where, as written, its canonical singular form, and any unknown qualifier.

    A mention is a head noun of the profile's subjects ("chef", "cook") with the words in front
    of it. Words the profile's subjects use ("senior", "pastry", "BBQ") make up `subject`
    ("senior BBQ chef"); words in front of those that no subject uses form `qualifier`
    ("vegan" in "vegan chef", "aspiring" in "aspiring pastry chef"): the judge asks the
    corpus about those.
    """

    start: int
    end: int
    text: str
    subject: str
    plural: bool
    qualifier: str = ""

    @property
    def known(self) -> bool:
        return not self.qualifier


@functools.lru_cache(maxsize=8)
def _matcher(profile: Profile) -> tuple[re.Pattern | None, dict[str, str], re.Pattern | None, frozenset[str]]:
    """The compiled patterns of a profile: aliases of its subjects, and its head nouns with their qualifiers."""
    subjects = {normalize(s).lower(): s for s in profile.subjects if s.strip()}
    aliases = {
        normalize(a).lower(): subjects[normalize(t).lower()]
        for a, t in profile.synonyms
        if normalize(t).lower() in subjects and a.strip()
    }
    ordered = sorted(aliases, key=lambda p: -len(p))
    alias_re = re.compile("|".join(f"(?:{phrase_pattern(p)})" for p in ordered), re.I) if ordered else None
    heads = {key.split()[-1] for key in subjects}
    modifiers = frozenset(w for key in subjects for w in key.split())  # a head qualifies too: "cook instructor"
    by_length = sorted(heads, key=lambda h: -len(h))
    head_re = "|".join(head_pattern(h) for h in by_length)
    mention_re = re.compile(rf"(?<![\w/])({head_re})(?![\w/])", re.I) if heads else None
    return alias_re, aliases, mention_re, modifiers


_OPENERS = "([{\"'“‘"


def mentions(text: str, profile: Profile) -> list[Mention]:
    """Subjects named in `text`, in reading order (the text is matched after `normalize`).

    Linear in the number of matches: alias matches are found first (in order, never overlapping),
    and each head-noun match consults only the aliases and earlier mentions within the few words
    in front of it, never every earlier match (a history of 1,000 mentions took 10 s that way).
    """
    alias_re, aliases, mention_re, modifiers = _matcher(profile)
    text = normalize(text)
    named: list[Mention] = []  # alias matches, by start, disjoint
    if alias_re is not None:
        for m in alias_re.finditer(text):
            subject = aliases.get(normalize(m.group(0)).lower(), "")
            if subject:
                named.append(Mention(m.start(), m.end(), m.group(0), subject, _is_plural(m.group(0))))
    if mention_re is None:
        return named
    starts = [f.start for f in named]
    swallowed: set[int] = set()  # indexes of alias matches inside a longer head-noun mention
    heads: list[Mention] = []  # head-noun mentions, by start
    for m in mention_re.finditer(text):
        before = bisect.bisect_left(starts, m.end()) - 1  # the last alias starting before this match ends
        if before >= 0 and named[before].end > m.start():
            continue  # part of an alias
        lo = max(0, m.start() - 80)
        run: list[tuple[int, str]] = []  # (offset in the window, word) of the qualifying words in front
        for w in reversed(list(re.finditer(r"\S+", text[lo : m.start()]))[-3:]):
            word = w.group(0).lstrip(_OPENERS)  # "(senior chef)": the bracket ends the run, the word counts
            if not word or word.lower() in STOPWORDS or not re.fullmatch(WORD, word) or word[0].isdigit():
                break
            run.insert(0, (w.end() - len(word), word))
            if len(word) < len(w.group(0)):
                break
        words = [word for _, word in run]
        split = len(words)
        while split > 0 and words[split - 1].lower() in modifiers:
            split -= 1
        start = lo + run[0][0] if run else m.start()
        for i in range(bisect.bisect_left(starts, start), before + 1):
            swallowed.add(i)  # every alias from `start` on ends before this match (it does not overlap)
        while heads and heads[-1].start >= start:
            heads.pop()  # an earlier mention inside this one ("head chef chef")
        subject = canonical(" ".join([*words[split:], m.group(1)]))
        qualifier = " ".join(words[:split])
        heads.append(Mention(start, m.end(), text[start : m.end()], subject, _is_plural(m.group(1)), qualifier))
    kept = [f for i, f in enumerate(named) if i not in swallowed]
    return sorted(kept + heads, key=lambda f: f.start)


def _is_plural(written: str) -> bool:
    last = written.split()[-1]
    return singular(last).lower() != last.lower()


def subjects_in(text: str, profile: Profile) -> list[str]:
    """The subjects named in `text`, in reading order, each once, canonical and singular ("pastry chef").

    Qualifiers the corpus does not use are left off ("aspiring pastry chef" -> "pastry chef"); see
    `mentions` for them.
    """
    out: dict[str, str] = {}
    for m in mentions(text, profile):
        out.setdefault(m.subject.lower(), m.subject)
    return list(out.values())


ProfileSource = Profile | Callable[[], Profile]


class ProfileBound:
    """A rule-based stage that reads the corpus profile: given one, or a function returning the current one."""

    def __init__(self, profile: ProfileSource | None = None) -> None:
        self._profile = profile

    @property
    def has_profile(self) -> bool:
        return self._profile is not None

    def bind_profile(self, profile: ProfileSource) -> None:
        """Use this profile (or function returning it) from now on."""
        self._profile = profile

    @property
    def profile(self) -> Profile:
        source = self._profile
        return (source() if callable(source) else source) or Profile()
