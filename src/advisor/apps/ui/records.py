"""What the page writes to disk: a conversation's export (`advisor-conversation-*.md`, one folder per server
process) and a rating of an answer this server sealed (stored by `apps/feedback.py`).
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from datetime import UTC, datetime
from pathlib import Path

from advisor.apps.feedback import FeedbackNotSaved, save_feedback, sealed
from advisor.apps.ui.conversations import conversation_title
from advisor.apps.ui.render import STOPPED, _now, display_numbers, renumbered, stopped_text, when_in_words


def _quote_block(text: str) -> str:
    return "\n".join(f"> {line}" if line.strip() else ">" for line in str(text).splitlines())


def conversation_markdown(conv: dict) -> str:
    """The conversation as Markdown: every question, answer, and the passages each answer cites."""
    out = [f"# {conversation_title(conv)}", "", f"Exported {when_in_words(_now())}.", ""]
    for e in conv["exchanges"]:
        out += [f"**You:** {e.get('question', '')}", ""]
        answer = e.get("answer")
        if e.get("error") or answer is None:
            kept = stopped_text(str(e.get("partial") or "")) if e.get("error") == STOPPED else ""
            kept = f"{kept}\n\n" if kept else ""
            out += [f"**Advisor:** {kept}*{e.get('error') or 'no answer'}*", ""]
            continue
        text = str(answer.get("answer", ""))
        number = display_numbers(text, [p.get("rank") for p in answer.get("passages", [])])
        out += [f"**Advisor:** {renumbered(text, number)}", ""]
        cited = answer.get("cited") or []
        passages = sorted(
            (p for p in answer.get("passages", []) if p.get("rank") in cited), key=lambda p: number[p["rank"]]
        )
        if passages:
            out += ["Sources of this answer:", ""]
        for p in passages:
            section = f" — {p['section']}" if p.get("section") else ""
            out += [
                _quote_block(
                    f"[{number[p['rank']]}] *{p.get('title')}{section}* ({p.get('source')})\n\n{p.get('text')}"
                ),
                "",
            ]
        if e.get("rating"):
            out += [f"*Your rating: {'helpful' if e['rating'] == 'up' else 'not helpful'}*", ""]
    return "\n".join(out)


def write_export(conv: dict, previous: str | None) -> str | None:
    """The conversation as Markdown in a file private to one session (a fresh, unguessable temp dir).

    The session's previous export is removed; Gradio serves its own copy from a content-hashed path.
    """
    remove_export(previous)
    if not conv["exchanges"]:
        return None
    folder = Path(tempfile.mkdtemp(prefix="advisor-export-", dir=_export_root()))
    path = folder / f"advisor-conversation-{datetime.now(UTC):%Y-%m-%d-%H%M}.md"
    path.write_text(conversation_markdown(conv), encoding="utf-8")
    return str(path)


log = logging.getLogger(__name__)

_EXPORTS: list[Path] = []  # this process's folder of exports, made on first use


def _export_root() -> Path:
    """`<tmp>/advisor-exports-<pid>-*`: every export of this process, so a later start can tell leftovers."""
    if not _EXPORTS:
        _EXPORTS.append(Path(tempfile.mkdtemp(prefix=f"advisor-exports-{os.getpid()}-")))
    return _EXPORTS[0]


def clean_stale_exports(tmp: Path | None = None) -> int:
    """Delete the export folders of servers that are gone (a crash leaves them in /tmp); how many were deleted."""
    removed = 0
    for folder in Path(tmp or tempfile.gettempdir()).glob("advisor-exports-*-*"):
        pid = folder.name.split("-")[2]
        if pid.isdigit() and not _alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True  # another user's process
    return True


def remove_export(path: str | None) -> None:
    """Delete one session's export file and its folder (no-op when there is none)."""
    if path and Path(path).parent.name.startswith("advisor-export-"):
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def rate_answer(key: bytes, feedback_file: Path, exchange: dict, user: str, **change: object) -> str | None:
    """Store a rating or comment of an answer this server gave (sealed with `key`): None when it was stored,
    else what to tell the user."""
    if not sealed(key, exchange):
        return "This answer cannot be rated: it was not given by this server (or was changed since)."
    try:
        save_feedback(feedback_file, {**exchange, **change}, user)
    except FeedbackNotSaved as exc:
        log.error("a rating was not saved: %s", exc)
        return f"Your rating was not saved: {exc}. Please try again later."
    exchange.update(change)
    return None
