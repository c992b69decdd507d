"""What the page says about the corpus and the index, read through the facade: the profile's name, examples
and placeholder, the header, "What I know", the technical details and the banner of index problems.
"""

from __future__ import annotations

import logging

from advisor.apps.ui.auth import REINDEX_REFUSED, may_reindex
from advisor.apps.ui.render import _escape, when_in_words
from advisor.pipeline import (
    Advisor,
    IndexUnavailable,
)

log = logging.getLogger(__name__)


class _Profile:
    """What the page says about the corpus, read from `Advisor.profile` when there is one."""

    def __init__(self, advisor: Advisor) -> None:
        self.read(advisor)

    def read(self, advisor: Advisor) -> None:
        """Read the profile afresh (on a page load, after a reindex: the index rewrote it)."""
        profile = None
        try:
            profile = getattr(advisor, "profile", None)
        except Exception:  # a profile that cannot be built must not take the page down
            profile = None
        self.name = str(getattr(profile, "name", "") or "advisor")
        self.description = str(getattr(profile, "description", "") or "")
        self.subjects = [str(s) for s in getattr(profile, "subjects", None) or []]
        self.examples = [str(e) for e in getattr(profile, "examples", None) or []][:5]
        self.documents = list(getattr(profile, "documents", None) or [])

    def placeholder(self) -> str:
        if self.subjects:
            return "Ask about " + ", ".join(self.subjects[:4])
        return "Ask a question about the documents"

    def chat_placeholder(self) -> str:
        return "Ask a question" + (", or pick one of these:" if self.examples else ".")

    def chat_examples(self) -> list[dict] | None:
        return [{"text": q} for q in self.examples] or None


def header_html(profile: _Profile) -> str:
    return (
        f"<header id='header'><h1>{_escape(profile.name)}</h1>"
        f"<p class='subtitle'>{_escape(profile.description)} Every claim cites a passage: "
        "click a [1] (or press Alt+1) to read it.</p></header>"
    )


def documents_of(advisor: Advisor, profile: _Profile) -> list[tuple[str, str]]:
    """(title, source) of every indexed document: from the profile, else from what the advisor serves."""
    docs = []
    for d in profile.documents:
        if isinstance(d, dict):
            docs.append((str(d.get("title") or d.get("source")), str(d.get("source") or "")))
        elif isinstance(d, str):
            docs.append((d, ""))
        elif isinstance(d, list | tuple) and len(d) == 2:  # Profile.documents: (source, title)
            docs.append((str(d[1] or d[0]), str(d[0])))
        else:
            docs.append((str(getattr(d, "title", "") or getattr(d, "source", "")), str(getattr(d, "source", "") or "")))
    if docs:
        return docs
    try:
        return [(title, source) for source, title in advisor.documents()]
    except Exception:
        return []


def knowledge_markdown(advisor: Advisor, profile: _Profile) -> str:
    """The "What I know" panel in plain words: which documents, last updated when."""
    try:
        status = advisor.status()
    except Exception:
        status = {}
    docs = documents_of(advisor, profile)
    lines = [
        f"I answer only from these {len(docs)} documents, last updated {when_in_words(status.get('built_at'))}:",
        "",
    ]
    lines += [f"- {t}" for t, _ in docs] or ["- (none yet: add documents to the corpus folder and update)"]
    return "\n".join(lines)


def technical_markdown(advisor: Advisor) -> str:
    try:
        s = advisor.status()
    except Exception as exc:
        return f"The index cannot be read: {exc}"
    extra = advisor.settings.extra_embedding_model
    dense = f"dense + {extra} + BM25" if extra else "dense + BM25"
    return (
        f"Generator: {advisor.settings.generator} · embeddings: {s.get('embedding_model')} · retrieval: hybrid "
        f"({dense}) · {s.get('documents', 0)} documents, {s.get('chunks', 0)} passages · "
        f"Chroma: {s.get('chroma')} · built {s.get('built_at') or 'never'}"
    )


def index_problems(advisor: Advisor) -> list[str]:
    """What is wrong with the index, as one line each (empty when it is healthy)."""
    try:
        problems = advisor.problems(serving=True)
        if not advisor.status().get("chunks"):
            problems.append("The index is empty: add documents to the corpus folder, then press “Update”.")
    except IndexUnavailable as exc:
        problems = [str(exc)]
    except Exception as exc:  # never a traceback on the page
        problems = [f"The index cannot be read ({type(exc).__name__}); run `advisor index --full`."]
    return problems


def banner_html(problems: list[str]) -> str:
    if not problems:
        return ""
    items = "".join(f"<li>{_escape(p)}</li>" for p in problems)
    return f"<div class='banner' role='alert'><strong>The index needs attention.</strong><ul>{items}</ul></div>"


def reindex_from_page(advisor: Advisor, profile: _Profile, host: str, user: str) -> tuple[str, str, str]:
    """The page's "Update from the corpus folder": reindex when this user may (`may_reindex`), then what
    "What I know", the technical details and the banner say."""
    if not may_reindex(host, user, advisor.settings.operators):
        log.warning("a reindex from the page was refused (user %r, server on %s)", user, host)
        return knowledge_markdown(advisor, profile), technical_markdown(advisor), banner_html([REINDEX_REFUSED])
    try:
        report = advisor.reindex()
    except IndexUnavailable as exc:
        return knowledge_markdown(advisor, profile), technical_markdown(advisor), banner_html([str(exc)])
    profile.read(advisor)
    note = "; ".join(report.warnings)
    done = f"Updated: {report.added} new and {report.updated} changed passages, {report.deleted} removed."
    return (
        knowledge_markdown(advisor, profile) + f"\n\n{done}" + (f"\n\nSkipped: {note}" if note else ""),
        technical_markdown(advisor) + f" · last run: {report.summary()}",
        banner_html(index_problems(advisor)),
    )
