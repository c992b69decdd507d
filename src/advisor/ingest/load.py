"""Loading the corpus: Markdown (with YAML front matter), plain text, HTML and PDF files.

Every format becomes a `SourceDocument` whose `text` is Markdown-ish (headings as `#` lines where
the format has them), so chunking has a single input shape. A file that cannot be read is skipped
with a warning naming it; the rest still loads.
"""

from __future__ import annotations

import hashlib
import logging
import re
from pathlib import Path

from advisor.schema import SourceDocument

log = logging.getLogger(__name__)

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")


class UnreadableDocument(Exception):
    """A corpus file that exists but cannot be turned into text."""


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file of a supported format under `corpus_dir`, in a stable order (hidden files skipped)."""
    if not corpus_dir.is_dir():
        return []
    return sorted(
        p
        for p in corpus_dir.rglob("*")
        if p.is_file() and p.suffix.lower() in SUFFIXES and not any(part.startswith(".") for part in p.parts)
    )


def source_name(path: Path, corpus_dir: Path) -> str:
    """The user-facing name of a corpus file: `corpus/<relative path>`."""
    return f"{corpus_dir.name}/{path.relative_to(corpus_dir).as_posix()}"


def load_corpus(corpus_dir: Path) -> tuple[list[SourceDocument], list[str]]:
    """All readable documents under `corpus_dir` and one warning per file that was skipped."""
    docs: list[SourceDocument] = []
    warnings: list[str] = []
    for path in corpus_files(corpus_dir):
        try:
            docs.append(load_document(path, source_name(path, corpus_dir)))
        except UnreadableDocument as exc:
            warnings.append(f"skipped {source_name(path, corpus_dir)}: {exc}")
    for w in warnings:
        log.warning(w)
    return docs, warnings


def load_document(path: Path, source: str) -> SourceDocument:
    """Read one file of any supported format; raise `UnreadableDocument` with a short reason."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise UnreadableDocument(exc.strerror or str(exc)) from None
    suffix = path.suffix.lower()
    try:
        if suffix == ".pdf":
            title, text, meta = _read_pdf(raw)
        else:
            try:
                decoded = raw.decode("utf-8-sig")
            except UnicodeDecodeError:
                raise UnreadableDocument("not valid UTF-8 text") from None
            if suffix in (".html", ".htm"):
                title, text, meta = _read_html(decoded)
            elif suffix in (".md", ".markdown"):
                title, text, meta = _read_markdown(decoded)
            else:
                title, text, meta = None, decoded, {}
    except UnreadableDocument:
        raise
    except Exception as exc:  # a parser's own error: report it, keep indexing the rest
        raise UnreadableDocument(f"{type(exc).__name__}: {exc}".strip()) from None
    text = text.replace("\r\n", "\n").strip()
    if not text:
        raise UnreadableDocument("no text found")
    return SourceDocument(
        source=source,
        title=title or _first_heading(text) or _title_from_name(path),
        text=text,
        meta=meta,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _read_markdown(text: str) -> tuple[str | None, str, dict[str, str]]:
    import frontmatter

    post = frontmatter.loads(text)
    meta = {str(k): str(v) for k, v in post.metadata.items() if v is not None}
    return meta.get("title"), post.content, meta


def _read_html(html: str) -> tuple[str | None, str, dict[str, str]]:
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    soup = BeautifulSoup(html, "html.parser")
    title = soup.title.get_text(" ", strip=True) if soup.title else None
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    body = markdownify(str(soup), heading_style="ATX", strip=["a", "img"])
    return title or None, re.sub(r"\n{3,}", "\n\n", body), {}


def _read_pdf(raw: bytes) -> tuple[str | None, str, dict[str, str]]:
    import io

    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(raw))
    if reader.is_encrypted:
        raise UnreadableDocument("encrypted PDF")
    pages = [page.extract_text() or "" for page in reader.pages]
    title = reader.metadata.title if reader.metadata and reader.metadata.title else None
    return title, "\n\n".join(pages), {}


def _first_heading(text: str) -> str | None:
    m = re.search(r"^#\s+(.+)$", text, flags=re.MULTILINE)
    return m.group(1).strip() if m else None


def _title_from_name(path: Path) -> str:
    return re.sub(r"[-_]+", " ", path.stem).strip().capitalize()
