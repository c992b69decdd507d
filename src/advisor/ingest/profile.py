"""The corpus profile: what the documents are about, derived from them when they are indexed.

The pipeline must not know any domain's words, yet condensing ("how much do they earn?"), refusals
("the sources have no figures for X") and the UI's header need to know what questions are about.
`derive_profile` finds that in the documents themselves:

- subjects: the noun phrases the titles are about ("Pastry Chef: The Job..." -> "pastry chef"),
  kept when the body uses them, plus the qualified forms of their head nouns the body uses
  repeatedly ("senior pastry chef", "executive chef": levels and variants);
- examples: the FAQ questions of the documents that stand alone (no "it"/"this" pointing elsewhere);
- synonyms: acronyms the documents define ("Point of sale (POS)" -> alias of "POS");
- measures: the words the documents' headings use for a kind of figure ("How Much Bakers
  Earn" over a body of amounts -> "earn" asks for currency);
- description: one sentence built from the subjects and the titles' topics.

An optional `corpus/advisor.yaml` overrides or adds to it (name, description, examples, subjects,
synonyms). The index writer saves the result as `profile.json` next to the index.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import Counter
from collections.abc import Mapping, Sequence
from pathlib import Path

from advisor.profile import PROFILE, WORD, canonical
from advisor.quantities import figure_kind
from advisor.schema import Chunk, Profile, SourceDocument
from advisor.text import (
    STOPWORDS,
    head_pattern,
    normalize,
    phrase_pattern,
    plural,
    split_sentences,
    word_stem,
)

log = logging.getLogger(__name__)

PROFILE_VERSION = "5"  # bump when derivation changes: the next `advisor index` re-derives
OVERRIDES = "advisor.yaml"
MIN_COUNT = 2  # a phrase must occur this often in the documents to count as a subject
MAX_SUBJECTS = 60
MAX_EXAMPLES = 24

_DEICTIC = re.compile(r"\b(it(?!\s+takes?\b)|this|that|these|those|here|there)\b", re.I)
_ACRONYM = re.compile(r"\b((?:[A-Za-z][\w-]*\s+){1,4}?)\(([A-Z][A-Za-z&]{1,7})\)")


def derive_profile(
    docs: Sequence[SourceDocument], chunks: Sequence[Chunk], overrides: Mapping | None = None
) -> Profile:
    """The profile of a corpus (pure): subjects, example questions, synonyms and a description."""
    documents = _documents(docs, chunks)
    text = "\n".join(normalize(f"{c.section or ''}\n{c.text}") for c in chunks)
    low = text.lower()
    title_subjects: list[str] = []
    facets: list[str] = []
    per_document: list[list[str]] = []
    counter = _PhraseCounter(low)
    for _, title in documents:
        found, facet = _title_subjects(normalize(title), counter)
        title_subjects += found
        per_document.append(found)
        if facet:
            facets.append(facet)
    subjects = _dedupe(title_subjects + _qualified(chunks, title_subjects))[:MAX_SUBJECTS]
    examples = _examples(chunks)
    named = [q for q in examples if _names_a_subject(q, subjects)]
    examples = named if len(named) >= 4 else examples  # "How long does it take to get licensed?" needs context
    synonyms = _acronyms(text)
    description = _description(len(documents), _round_robin(per_document), facets)
    profile = Profile(
        description=description,
        subjects=tuple(subjects),
        examples=tuple(examples),
        synonyms=tuple(synonyms),
        documents=tuple(documents),
        measures=tuple(_measures(chunks, subjects)),
        authors=tuple(_authors(docs)),
    )
    return apply_overrides(profile, overrides or {})


def apply_overrides(profile: Profile, overrides: Mapping) -> Profile:
    """`advisor.yaml` on top of the derived profile: name/description replace, lists are put first."""

    def strings(key: str) -> list[str]:
        value = overrides.get(key) or []
        return [str(v).strip() for v in (value if isinstance(value, list) else [value]) if str(v).strip()]

    synonyms = overrides.get("synonyms") or {}
    pairs = [(str(a).strip(), str(b).strip()) for a, b in synonyms.items()] if isinstance(synonyms, Mapping) else []
    return Profile(
        name=str(overrides.get("name") or profile.name).strip(),
        description=str(overrides.get("description") or profile.description).strip(),
        subjects=tuple(_dedupe(strings("subjects") + list(profile.subjects))),
        examples=tuple(_dedupe(strings("examples") + list(profile.examples))),
        synonyms=tuple(dict([*profile.synonyms, *pairs]).items()),
        documents=profile.documents,
        measures=tuple(dict([*profile.measures, *_measure_overrides(overrides.get("measures"))]).items()),
        authors=profile.authors,
    )


def _measure_overrides(value: object) -> list[tuple[str, str]]:
    """`measures: {currency: [...], duration: [...]}` from advisor.yaml as (stem, kind) pairs."""
    if not isinstance(value, Mapping):
        return []
    return [
        (word_stem(str(w).strip().lower()), str(kind))
        for kind, words in value.items()
        if str(kind) in ("currency", "percent", "duration")
        for w in (words if isinstance(words, list) else [words])
        if str(w).strip()
    ]


MIN_MEASURE_HEADINGS = 2  # headings that must use a word over figures of one kind before it names that kind


def _measures(chunks: Sequence[Chunk], subjects: Sequence[str]) -> list[tuple[str, str]]:
    """(stem, kind) for words the headings use over bodies holding one kind of figure (pure).

    A heading (or FAQ question) is the author's own label for what follows it: when at least
    `MIN_MEASURE_HEADINGS` headings with a word head bodies whose figures are mostly of one kind,
    and most headings with that word do, a question using the word asks for that kind of figure.
    Subjects' words are left out (they say who, not what is measured).
    """
    bodies: dict[tuple[str, str], list[str]] = {}
    for c in chunks:
        heading = (c.section or "").split(" > ")[-1]
        if heading:
            bodies.setdefault((c.source, heading), []).append(c.text)
    taken = {word_stem(w) for s in subjects for w in re.findall(r"[a-z]+", s.lower())}
    votes: dict[str, Counter] = {}
    for (_, heading), texts in bodies.items():
        kinds = Counter(k for t in texts for line in split_sentences(t) if (k := figure_kind(line)))
        kind = kinds.most_common(1)[0][0] if kinds else ""
        for w in {word_stem(w) for w in re.findall(r"[a-z]{3,}", heading.lower()) if w not in STOPWORDS} - taken:
            votes.setdefault(w, Counter())[kind] += 1
    out = []
    for w, count in sorted(votes.items()):
        kind, n = max(((k, n) for k, n in count.items() if k), key=lambda x: x[1], default=("", 0))
        if kind and n >= MIN_MEASURE_HEADINGS and n * 2 > sum(count.values()):
            out.append((w, kind))
    return out


AUTHOR_KEYS = ("author", "authors", "publisher", "organization", "site_name")  # front matter naming who wrote it


def _authors(docs: Sequence[SourceDocument]) -> list[tuple[str, str]]:
    """(name, source) for every author or publisher a document's front matter names ("Jo Bloggs, Ann Lee")."""
    out = []
    for d in docs:
        for key in AUTHOR_KEYS:
            for name in re.split(r"\s*[,;]\s*|\s+and\s+", d.meta.get(key, "")):
                if name.strip():
                    out.append((name.strip(), d.source))
    return list(dict.fromkeys(out))


def _documents(docs: Sequence[SourceDocument], chunks: Sequence[Chunk]) -> list[tuple[str, str]]:
    seen: dict[str, str] = {d.source: d.title for d in docs}
    for c in chunks:
        seen.setdefault(c.source, c.title)
    return sorted(seen.items())


class _PhraseCounter:
    """Counts `phrase_pattern` matches in one lower-cased text, as `re.findall` would, trying the
    pattern only where a word starting with the phrase's first letters begins: the text is scanned
    once, not once per title (which made deriving a profile quadratic in the number of documents)."""

    def __init__(self, low: str) -> None:
        self.low = low
        self.starts: dict[str, list[int]] = {}
        for m in _WORD_START.finditer(low):
            self.starts.setdefault(low[m.start() : m.start() + 2], []).append(m.start())

    def count(self, phrase: str) -> int:
        first = normalize(phrase).split()[0].lower()
        if len(first) > 1 and first[1] != "/":  # both letters literal in the pattern
            positions = self.starts.get(first[:2], [])
        else:
            positions = sorted(p for key, ps in self.starts.items() if key[:1] == first[:1] for p in ps)
        pattern = re.compile(phrase_pattern(phrase), re.I)
        n, end = 0, -1
        for pos in positions:
            if pos >= end and (m := pattern.match(self.low, pos)):
                n, end = n + 1, m.end()
        return n


_WORD_START = re.compile(r"(?<![\w/])[a-z]")


def _title_subjects(title: str, counter: _PhraseCounter) -> tuple[list[str], str | None]:
    """Subjects named by a title and the topic part after its colon ("Training, Certification and Earnings")."""
    head, sep, rest = (re.split(r"(:|\s[—–]\s|\s-\s)", title, maxsplit=1) + ["", ""])[:3]
    facet = rest.strip().rstrip(".") if sep and rest.strip() and not rest.strip().endswith("?") else None
    found: list[str] = []
    for part in re.split(r"\s+(?:vs\.?|versus|or|and|&)\s+|,|\?", head, flags=re.I):
        words = re.findall(WORD, part)
        while words and words[0].lower() in STOPWORDS:
            words.pop(0)
        # the longest prefix the documents actually use: "Pastry Chef Guide" -> "Pastry Chef"
        for n in range(len(words), 0, -1):
            if words[n - 1].lower() in STOPWORDS or words[n - 1].isdigit():
                continue
            phrase = " ".join(words[:n])
            if counter.count(phrase) >= MIN_COUNT:
                found.append(canonical(phrase))
                break
    return found, facet


def _qualified(chunks: Sequence[Chunk], title_subjects: list[str]) -> list[str]:
    """Qualified forms of the title subjects' head nouns ("senior pastry chef", "executive chef").

    A form counts when a heading or a table's row label names it, or the body uses it twice. The
    row labels of a table that lists such forms are subjects too (a ladder's "Sous chef" row).
    """
    heads = {s.split()[-1].lower() for s in title_subjects}
    if not heads:
        return []
    head_re = "|".join(head_pattern(h) for h in sorted(heads, key=lambda h: -len(h)))
    mention = re.compile(rf"((?:{WORD}\s+){{0,3}})({head_re})(?![\w/])", re.I)
    counts: Counter[str] = Counter()
    forms: dict[str, Counter[str]] = {}
    strong: list[str] = []

    def found(text: str) -> list[str]:
        out = []
        for m in mention.finditer(text):
            keep: list[str] = []
            for w in reversed(m.group(1).split()):
                if w.lower() in STOPWORDS or w.lower() in heads or not re.fullmatch(WORD, w):
                    break
                keep.insert(0, w)
            phrase = canonical(" ".join([*keep, m.group(2)]))
            counts[phrase.lower()] += 1
            forms.setdefault(phrase.lower(), Counter())[phrase] += 1
            out.append(phrase)
        return out

    for c in chunks:
        for part in (c.section or "").split(" > "):
            strong += found(normalize(part))
        for labels in _table_labels(c.text):
            named = [found(normalize(label)) for label in labels]
            if any(named):
                strong += [canonical(lab) for lab in _split_alternatives(labels)]
        found(normalize(re.sub(r"^\|.*$", "", c.text, flags=re.M)))
    ranked = sorted((k for k, n in counts.items() if n >= MIN_COUNT), key=lambda k: (-counts[k], k))
    return _dedupe(strong + [forms[k].most_common(1)[0][0] for k in ranked])


def _table_labels(text: str) -> list[list[str]]:
    """The first cells of each Markdown table's body rows."""
    tables: list[list[str]] = []
    rows: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line.strip().startswith("|"):
            rows.append(line.strip())
            continue
        body = [r for r in rows[1:] if not re.match(r"^\|?\s*:?-{2,}", r)]
        if body:
            tables.append([normalize(r.strip("|").split("|")[0]) for r in body])
        rows = []
    return tables


def _split_alternatives(labels: list[str]) -> list[str]:
    """Row labels split at " or ": "Head or executive chef" -> "head chef", "executive chef"."""
    out = []
    for label in labels:
        label = re.sub(r"\s*\(.*?\)", "", label).strip()
        parts = [p.strip() for p in re.split(r"\s+or\s+|\s*/\s*(?=[A-Za-z]{5,})", label) if p.strip()]
        last = parts[-1].split() if parts else []
        for p in parts:
            words = p.split()
            if len(last) >= 2 and len(words) == 1 and p is not parts[-1]:
                p = f"{p} {last[-1]}"
            if words and not words[-1].isdigit() and re.search(r"[A-Za-z]", p):
                out.append(p)
    return out


def _examples(chunks: Sequence[Chunk]) -> list[str]:
    """FAQ questions (headings, or lines opening with a question) that stand on their own."""
    candidates: list[str] = []
    for c in chunks:
        candidates += (c.section or "").split(" > ")
        candidates += re.findall(r"^([A-Z][^.!?\n|]{8,160}\?)(?=\s|$)", c.text, flags=re.M)
    out: list[str] = []
    for candidate in candidates:
        q = normalize(candidate.lstrip("#").strip())
        words = q.split()
        if q.endswith("?") and 3 <= len(words) <= 20 and not re.search(r"[.!?]\s|:", q[:-1]) and not _DEICTIC.search(q):
            out.append(q)
    return _dedupe(out)[:MAX_EXAMPLES]


def _names_a_subject(question: str, subjects: list[str]) -> bool:
    low = normalize(question).lower()
    return any(re.search(phrase_pattern(s.split()[-1]), low, re.I) for s in subjects)


def _acronyms(text: str) -> list[tuple[str, str]]:
    """("point of sale", "POS") for every "Point of sale (POS)" whose initials spell the acronym."""
    pairs: dict[str, str] = {}
    for m in _ACRONYM.finditer(text):
        acronym = m.group(2)
        words = m.group(1).split()
        letters = [c for c in acronym.upper() if c.isalpha()]
        for n in range(1, len(words) + 1):
            tail = words[-n:]
            if [w[0].upper() for w in tail] == letters:
                pairs.setdefault(" ".join(tail).lower(), acronym)
                break
    return sorted(pairs.items())


def _description(n_docs: int, subjects: list[str], facets: list[str]) -> str:
    if not n_docs:
        return "No documents are indexed yet."
    about = _join([plural(s) for s in subjects[:8]]) if subjects else "the indexed topics"
    head = f"Documents about {about}"  # no digits: a refusal quotes it, and states no number it cannot cite
    topics = _dedupe([f.lower() for f in facets if not re.search(r"\d", f)])[:3]
    return head + (f" ({'; '.join(topics)})." if topics else ".")


def _round_robin(lists: list[list[str]]) -> list[str]:
    """Every document's first subject, then every document's second, ... (each once): all documents named."""
    out: list[str] = []
    for i in range(max((len(x) for x in lists), default=0)):
        out += [x[i] for x in lists if i < len(x)]
    return _dedupe(out)


def _join(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _dedupe(items: list[str]) -> list[str]:
    seen: set[str] = set()
    out = []
    for item in items:
        key = normalize(item).lower()
        if key and key not in seen:
            seen.add(key)
            out.append(item)
    return out


# -- storage ---------------------------------------------------------------------------------


def read_overrides(corpus_dir: Path) -> dict:
    """`corpus_dir/advisor.yaml` as a dict; {} when absent; a one-line warning and {} when unreadable."""
    path = Path(corpus_dir) / OVERRIDES
    if not path.is_file():
        return {}
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        log.warning("ignored %s: %s", path.name, str(exc).splitlines()[0] if str(exc) else type(exc).__name__)
        return {}
    if data is None:
        return {}
    if not isinstance(data, dict):
        log.warning("ignored %s: expected a mapping of name, description, examples, subjects, synonyms", path.name)
        return {}
    return data


def overrides_stamp(corpus_dir: Path) -> str:
    """The derivation's version and a hash of `advisor.yaml`, stored with the profile to notice either changing."""
    path = Path(corpus_dir) / OVERRIDES
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        digest = ""
    return f"{PROFILE_VERSION}:{digest}"


def write_profile(corpus_dir: Path, data_dir: Path, docs: Sequence[SourceDocument], chunks: Sequence[Chunk]) -> Profile:
    """Derive the profile with `advisor.yaml` applied and save it (called by the index writer)."""
    profile = derive_profile(docs, chunks, read_overrides(corpus_dir))
    save_profile(profile, data_dir, overrides_stamp(corpus_dir))
    return profile


def save_profile(profile: Profile, data_dir: Path, stamp: str = "") -> None:
    """Write `data_dir/profile.json` atomically."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    path = data_dir / PROFILE
    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps({**profile.to_json(), "stamp": stamp}, indent=2, ensure_ascii=False))
    tmp.replace(path)


def profile_stamp(data_dir: Path) -> str | None:
    """The `advisor.yaml` hash the saved profile was derived with (None when there is no profile)."""
    try:
        return str(json.loads((Path(data_dir) / PROFILE).read_text(encoding="utf-8")).get("stamp", ""))
    except (OSError, ValueError, AttributeError):
        return None
