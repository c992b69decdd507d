"""Loading the corpus: Markdown (with YAML front matter), plain text, HTML and PDF files.

Every format becomes a `SourceDocument` whose `text` is Markdown-ish (headings as `#` lines where
the format has them), so chunking has a single input shape. A file that cannot be read is skipped
with a warning naming it; the rest still loads.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

from advisor.schema import SourceDocument
from advisor.settings import DEFAULT_MAX_FILE_MB
from advisor.text import neutral_markers

SUFFIXES = (".md", ".markdown", ".txt", ".html", ".htm", ".pdf")


class UnreadableDocument(Exception):
    """A corpus file that exists but cannot be turned into text."""


def scan_corpus(corpus_dir: Path) -> tuple[list[Path], list[str]]:
    """Every file of a supported format under `corpus_dir`, in a stable order, and what was left out.

    Hidden files are skipped silently. A symbolic link whose target lies outside the corpus
    directory is never followed (a link `x.md -> /etc/passwd` must not become passages): it is
    skipped with a warning naming it.
    """
    if not corpus_dir.is_dir():
        return [], []
    root = corpus_dir.resolve()
    files: list[Path] = []
    warnings: list[str] = []
    for p in sorted(corpus_dir.rglob("*")):
        if p.suffix.lower() not in SUFFIXES or any(part.startswith(".") for part in p.relative_to(corpus_dir).parts):
            continue
        try:
            target = p.resolve(strict=True)
        except (OSError, RuntimeError):  # a dangling link, a link loop, or a file deleted meanwhile
            if p.is_symlink():
                warnings.append(f"skipped {source_name(p, corpus_dir)}: broken symbolic link")
            continue
        if not target.is_relative_to(root):
            warnings.append(
                f"skipped {source_name(p, corpus_dir)}: symbolic link to {target}, outside {corpus_dir.name}/"
            )
            continue
        if p.is_file():
            files.append(p)
    return files, warnings + _unreadable_folders(corpus_dir)


def _unreadable_folders(corpus_dir: Path) -> list[str]:
    """One warning per folder of the corpus that cannot be listed (its documents would vanish unnoticed)."""
    warnings: list[str] = []

    def note(exc: OSError) -> None:
        folder = Path(exc.filename or corpus_dir)
        if folder != corpus_dir and not any(part.startswith(".") for part in folder.relative_to(corpus_dir).parts):
            name = f"{source_name(folder, corpus_dir)}/"
            warnings.append(f"skipped {name}: the folder cannot be read ({exc.strerror or type(exc).__name__})")

    for _ in os.walk(corpus_dir, onerror=note):
        pass
    return warnings


def corpus_files(corpus_dir: Path) -> list[Path]:
    """Every file of a supported format under `corpus_dir`, in a stable order (see `scan_corpus`)."""
    return scan_corpus(corpus_dir)[0]


def source_name(path: Path, corpus_dir: Path) -> str:
    """The user-facing name of a corpus file: `corpus/<relative path>`."""
    return f"{corpus_dir.name}/{path.relative_to(corpus_dir).as_posix()}"


def load_corpus(corpus_dir: Path, max_file_mb: float = DEFAULT_MAX_FILE_MB) -> tuple[list[SourceDocument], list[str]]:
    """All readable documents under `corpus_dir` and one one-line warning per file that was skipped.

    A file larger than `max_file_mb` is skipped before it is read, so one huge file delays nothing
    else. The caller shows the warnings (each exactly once).
    """
    files, warnings = scan_corpus(corpus_dir)
    docs: list[SourceDocument] = []
    limit = max_file_mb * 1024 * 1024
    for path in files:
        name = source_name(path, corpus_dir)
        try:
            size = path.stat().st_size
            if limit and size > limit:
                raise UnreadableDocument(
                    f"{size / 1024 / 1024:.1f} MB is over the {max_file_mb:g} MB limit per file (ADVISOR_MAX_FILE_MB)"
                )
            docs.append(load_document(path, name))
        except UnreadableDocument as exc:
            warnings.append(f"skipped {name}: {exc}")
        except OSError as exc:
            warnings.append(f"skipped {name}: {exc.strerror or exc}")
    return docs, [" ".join(w.split()) for w in warnings]


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
    text = neutral_markers(text.replace("\r\n", "\n").strip())
    if not text:
        raise UnreadableDocument("no text found")
    return SourceDocument(
        source=source,
        title=neutral_markers(title or _first_heading(text) or _title_from_name(path)),
        text=text,
        meta=meta,
        sha256=hashlib.sha256(raw).hexdigest(),
    )


def _read_markdown(text: str) -> tuple[str | None, str, dict[str, str]]:
    import frontmatter

    post = frontmatter.loads(text)
    meta = {str(k): v for k, v in ((k, _meta_value(v)) for k, v in post.metadata.items()) if v is not None}
    return meta.get("title"), post.content, meta


def _meta_value(value: object) -> str | None:
    """A front-matter value as text: scalars, or a flat list of them; nested values are dropped.

    YAML aliases let a few hundred bytes describe gigabytes once printed ("billion laughs"), so
    nothing nested is ever turned into a string.
    """
    if isinstance(value, list) and all(isinstance(v, str | int | float | bool) for v in value):
        return ", ".join(str(v) for v in value)[:1000] or None
    if value is None or isinstance(value, list | dict | set | tuple):
        return None
    return str(value)


# a "<" with no ">" before the next "<" or the end: each segment between angles is read once, so linear
_UNCLOSED = re.compile(r"<(?=[^<>]*(?:<|\Z))")


def escape_unclosed(html: str) -> str:
    """`html` with each "<" that no ">" follows before the next "<" (or the end) written as "&lt;" (pure).

    Such a "<" starts no tag, and Python's `html.parser` (3.11.7) rescans the rest of the file for each one
    ("<a<a<a…", "<a b='…"): a 100 KB file of them took minutes. Escaped, it is the text it already was."""
    return _UNCLOSED.sub("&lt;", html)


def _read_html(html: str) -> tuple[str | None, str, dict[str, str]]:
    from bs4 import BeautifulSoup
    from markdownify import markdownify

    soup = BeautifulSoup(escape_unclosed(html), "html.parser")
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
