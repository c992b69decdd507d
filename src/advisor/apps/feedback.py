"""Ratings of answers: what is stored, who may store it, and how a record reaches the disk whole.

The browser keeps the conversations, so whatever a rating arrives with (question, answer, comment, id)
could have been written by anyone. An answer the server gives carries a seal (an HMAC under a key that
only the server holds); a rating is stored only for a sealed answer, and only what the seal covers, cut to
fixed sizes. `index/feedback.jsonl` is append-only; a record is appended whole or not at all.
"""

from __future__ import annotations

import errno
import hashlib
import hmac
import json
import logging
import os
import threading
from datetime import UTC, datetime
from pathlib import Path

from advisor.apps.keys import kept_key

log = logging.getLogger(__name__)

MAX_COMMENT = 2000  # characters of a comment
MAX_QUESTION = 2000  # as much as is ever answered
MAX_ANSWER = 20_000
MAX_CITATIONS = 8
MAX_PASSAGE = 4000
_lock = threading.Lock()


class FeedbackNotSaved(Exception):
    """A rating that was not written; the message says why, for the user."""


def answer_key(path: Path) -> bytes:
    """The server's key for sealing answers, made once at `path` (never sent to a browser).

    An empty or unreadable key file is replaced, with a warning: the only loss is that answers sealed
    with the old key can no longer be rated. With no writable data dir the key lives as long as the process.
    """
    return kept_key(path, "older answers cannot be rated", "answers can be rated until a restart").encode()


def _sealed_fields(exchange: dict) -> list:
    answer = exchange.get("answer") if isinstance(exchange.get("answer"), dict) else {}
    return [
        exchange.get("id"),
        exchange.get("question"),
        answer.get("standalone_question"),
        answer.get("answer"),
        answer.get("refused"),
        answer.get("cited"),
        _citations(answer),
    ]


def seal(key: bytes, exchange: dict) -> str:
    """The seal of an answer the server gave: its id, question, text and cited passages (pure)."""
    message = json.dumps(_sealed_fields(exchange), sort_keys=True, ensure_ascii=True, default=str)
    return hmac.new(key, message.encode("ascii"), hashlib.sha256).hexdigest()


def sealed(key: bytes, exchange: object) -> bool:
    """Was this exchange, as the browser handed it back, given by this server unchanged?"""
    if not isinstance(exchange, dict) or not isinstance(exchange.get("seal"), str):
        return False
    return hmac.compare_digest(exchange["seal"], seal(key, exchange))


def _citations(answer: dict) -> list[dict]:
    passages = answer.get("passages") if isinstance(answer.get("passages"), list) else []
    cited = answer.get("cited") if isinstance(answer.get("cited"), list) else []
    return [
        {"n": p.get("rank"), "id": p.get("id"), "source": p.get("source"), "text": p.get("text")}
        for p in passages
        if isinstance(p, dict) and p.get("rank") in cited
    ]


def _cut(value: object, limit: int) -> str | None:
    return None if value is None else str(value)[:limit]


def feedback_record(exchange: dict, user: str = "") -> dict:
    """The record of one rating: the answer's id, rating, comment, question, answer and citations, each
    cut to a fixed size (pure, given the time)."""
    answer = exchange.get("answer") if isinstance(exchange.get("answer"), dict) else {}
    rating = exchange.get("rating") if exchange.get("rating") in ("up", "down") else None
    return {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "answer_id": _cut(exchange.get("id"), 64),
        "user": user or None,
        "rating": rating,
        "liked": {"up": True, "down": False}.get(rating),
        "comment": _cut(exchange.get("comment") or "", MAX_COMMENT),
        "question": _cut(exchange.get("question"), MAX_QUESTION),
        "standalone_question": _cut(answer.get("standalone_question"), MAX_QUESTION),
        "answer": _cut(answer.get("answer"), MAX_ANSWER),
        "refused": bool(answer.get("refused")),
        "citations": [
            {k: _cut(v, MAX_PASSAGE) if k == "text" else v for k, v in c.items()}
            for c in _citations(answer)[:MAX_CITATIONS]
        ],
    }


def append_record(path: Path, record: dict) -> None:
    """Append one JSON line whole, or nothing: a failed write is cut back off (raises `FeedbackNotSaved`).

    A last line left torn by a crash stays a line of its own (readers skip it), not glued to this one.
    """
    line = (json.dumps(record, ensure_ascii=False) + "\n").encode("utf-8", "replace")
    with _lock:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        except OSError as exc:
            raise FeedbackNotSaved(_why(exc)) from None
        try:
            end = os.lseek(fd, 0, os.SEEK_END)
            if end and os.pread(fd, 1, end - 1) != b"\n":
                line = b"\n" + line
            try:
                done = 0
                while done < len(line):
                    done += os.write(fd, line[done:])
            except OSError as exc:
                os.ftruncate(fd, end)  # nothing of this record stays
                raise FeedbackNotSaved(_why(exc)) from None
        finally:
            os.close(fd)


def _why(exc: OSError) -> str:
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return "the server's disk is full"
    if exc.errno == errno.EFBIG:
        return "the feedback file is as large as the server allows"
    return f"the feedback file cannot be written ({exc.strerror or type(exc).__name__})"


def save_feedback(path: Path, exchange: dict, user: str = "") -> None:
    """Append the current rating of one answer (with question, answer, citations, comment) to the feedback JSONL.

    The file is append-only; the last record of an `answer_id` is its current rating (`rating` null: withdrawn).
    """
    append_record(path, feedback_record(exchange, user))


def current_feedback(path: Path) -> dict[str, dict]:
    """The current rating of every answer: the last record per `answer_id` (withdrawn ones left out)."""
    latest: dict[str, dict] = {}
    if path.exists():
        for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(record, dict) and record.get("answer_id"):
                latest[record["answer_id"]] = record
    return {k: r for k, r in latest.items() if r.get("rating")}
