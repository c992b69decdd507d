"""Structure-aware chunking: every chunk knows its document title and section.

Headings (`#` lines) and FAQ questions (a short line ending in "?" followed by its answer) open
sections. Tiny sibling sections (a ladder level's "Scope", "Ownership") are merged under their parent
so a chunk carries a whole thought; long sections are split by tokens (cl100k, counted with the
offline tiktoken encoding) with overlap. Sizes keep title + section + text inside the embedding
model's 256 word-piece window. Chunk ids are derived from source, section and position: stable.
How text is chunked is part of the storage format: bump `advisor.text.STORAGE_VERSION` with any change.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

from advisor.schema import Chunk, SourceDocument
from advisor.screen import passage_reason
from advisor.text import ENCODING, HEADING, LIST_ITEM, count_tokens, is_caption, split_sentences

SMALL_SECTION = 60  # tokens: sibling sections this small are merged under their parent


@dataclass(frozen=True)
class Section:
    path: tuple[str, ...]
    body: str


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
        m = HEADING.match(line)
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


def _is_faq_question(lines: list[str], i: int) -> bool:
    """A standalone short question line whose next non-empty line is an answer, not another question."""
    line = lines[i].strip()
    if not line.endswith("?") or len(line) > 160 or len(line.split()) < 3:
        return False
    if re.search(r"[.!?]\s", line[:-1]):
        return False  # several sentences on one line: a paragraph, not a question heading
    if LIST_ITEM.match(line) or line.startswith("|") or HEADING.match(line):
        return False
    if i > 0 and lines[i - 1].strip() and not lines[i - 1].strip().endswith((".", "!", "?", ":")):
        return False  # the end of a wrapped paragraph, not a line of its own
    for nxt in lines[i + 1 :]:
        s = nxt.strip()
        if s:
            return not s.endswith("?") and not HEADING.match(s) and len(s.split()) >= 4
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
    if LIST_ITEM.match(first) or first.startswith("|"):
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
