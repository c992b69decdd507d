"""The one state of the page (pure): every conversation of every user in one value, shaped
`{"users": {user: {"current": id, "conversations": [conversation, ...]}}}`, and the changes the controls make
to it (new, switch, take away and restore, keep before an edit, mark interrupted), and the chat drawn from it.
"""

from __future__ import annotations

import html
import json
import re
import uuid
from typing import Any

from advisor.apps.ui.render import _escape, _norm, _now, _short, answer_html, question_html
from advisor.pipeline import (
    HISTORY_SHAPE,
    InvalidHistory,
)

MAX_CONVERSATIONS = 50  # kept per user in the browser; the oldest go first


def new_conversation() -> dict:
    return {"id": uuid.uuid4().hex[:12], "title": "", "created": _now(), "exchanges": []}


def user_space(store: Any, user: str) -> dict:
    """This user's conversations inside the browser store (created when missing; malformed data is dropped).

    Gradio's page hands the store back with `"__type__": "update"` merged in after a streamed step that left
    it unchanged (the case when Stop interrupts an answer); that key is dropped here, or the store returned
    would be taken for a component update.
    """
    if isinstance(store, dict):
        store.pop("__type__", None)
    if not isinstance(store, dict) or not isinstance(store.get("users"), dict):
        store = {"users": {}} if not isinstance(store, dict) else store | {"users": {}}
    space = store["users"].get(user)
    if not isinstance(space, dict) or not isinstance(space.get("conversations"), list):
        space = {"current": None, "conversations": []}
        store["users"][user] = space
    space["conversations"] = [c for c in space["conversations"] if isinstance(c, dict) and "exchanges" in c]
    if not any(c["id"] == space.get("current") for c in space["conversations"]):
        conv = new_conversation()
        space["conversations"].insert(0, conv)
        space["current"] = conv["id"]
    return space


def current(space: dict) -> dict:
    return next(c for c in space["conversations"] if c["id"] == space["current"])


def conversation_title(conv: dict) -> str:
    if conv.get("title"):
        return conv["title"]
    first = next((e.get("question") for e in conv["exchanges"]), "")
    return _short(first, 48) if first else "New conversation"


def prune(space: dict) -> None:
    """Drop empty conversations other than the current one, and the oldest beyond `MAX_CONVERSATIONS`."""
    keep = [c for c in space["conversations"] if c["exchanges"] or c["id"] == space["current"]]
    space["conversations"] = keep[:MAX_CONVERSATIONS]
    if not any(c["id"] == space["current"] for c in space["conversations"]):
        space["conversations"].insert(0, new_conversation())
        space["current"] = space["conversations"][0]["id"]


def history_of(exchanges: list[dict]) -> list[dict]:
    """Earlier turns for condensing: questions as typed, answers as their text (unfinished ones left out)."""
    out = []
    for e in exchanges:
        if e.get("answer"):
            out += [
                {"role": "user", "content": e["question"]},
                {"role": "assistant", "content": e["answer"].get("answer", "")},
            ]
    return out


def take_away(space: dict, kind: str) -> dict:
    """Delete (`kind` "deleted") or empty ("cleared") the current conversation; the record `restore` undoes it by.

    The record is kept in the store as `space["undo"]` until the next change, so Undo survives a reload."""
    conv = current(space)
    record = {"kind": kind, "conv": json.loads(json.dumps(conv)), "position": space["conversations"].index(conv)}
    if kind == "deleted":
        space["conversations"].remove(conv)
        space["current"] = space["conversations"][0]["id"] if space["conversations"] else None
    else:
        conv["exchanges"] = []
    space["undo"] = record
    return record


def restore(space: dict, record: dict) -> None:
    """Undo `take_away`: the conversation comes back where it was, with its exchanges, and is shown."""
    conv = record["conv"]
    there = next((c for c in space["conversations"] if c["id"] == conv["id"]), None)
    if there is not None:
        there["exchanges"] = conv["exchanges"]
    else:
        space["conversations"].insert(min(record["position"], len(space["conversations"])), conv)
    space["current"] = conv["id"]


def undo_note(record: dict | None) -> str:
    """What Undo would bring back, in words ("" when there is nothing to undo)."""
    if not isinstance(record, dict) or not isinstance(record.get("conv"), dict):
        return ""
    title = _escape(conversation_title(record["conv"]))
    return f"Deleted “{title}”." if record.get("kind") == "deleted" else f"Emptied “{title}”."


def keep_before_edit(space: dict, conv: dict) -> dict:
    """A copy of `conv` as it was, listed right after it, so an edit that replaces later exchanges loses none."""
    kept = json.loads(json.dumps(conv))
    kept |= {"id": uuid.uuid4().hex[:12], "title": _short(f"{conversation_title(conv)} (before the edit)", 80)}
    space["conversations"].insert(space["conversations"].index(conv) + 1, kept)
    return kept


def same_message(shown: object, expected_html: str) -> bool:
    """Whether a message the page sent back (text, typed parts or HTML) is the one `expected_html` draws."""

    def plain(x: object) -> str:
        return _norm(html.unescape(re.sub(r"<[^>]+>", "", message_text(x))))

    return plain(shown) == plain(expected_html)


def mark_interrupted(space: dict) -> None:
    """Answers a closed or reloaded page left unfinished say so (none is being written for a new page)."""
    for conv in space["conversations"]:
        for e in conv["exchanges"]:
            if e.get("answer") is None and not e.get("error"):
                e.pop("partial", None)
                e["error"] = "This answer was interrupted."


def chat_messages(exchanges: list[dict]) -> list[dict]:
    msgs = []
    for i, e in enumerate(exchanges):
        msgs.append({"role": "user", "content": question_html(e.get("question", ""))})
        msgs.append({"role": "assistant", "content": answer_html(e, i)})
    return msgs


def feedback_values(exchanges: list[dict]) -> list[str | None]:
    return [{"up": "Like", "down": "Dislike"}.get(e.get("rating")) for e in exchanges]


def message_text(content: object) -> str:
    """The text of a chat message; Gradio 6 hands content back as a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return "".join(message_text(part) for part in content)
    return ""


def history_from_chat(chat: object) -> list[dict]:
    """Earlier turns from a chat value sent to the `ask` API (messages with text or HTML content).

    Raises `InvalidHistory` naming the first message that is not {"role": "user"|"assistant", "content": ...}.
    """
    if chat is None:
        return []
    if not isinstance(chat, list):
        raise InvalidHistory(f"the chat must be a list of {HISTORY_SHAPE} messages, not {type(chat).__name__}")
    out = []
    for n, m in enumerate(chat, 1):
        if not isinstance(m, dict) or m.get("role") not in ("user", "assistant"):
            raise InvalidHistory(f"chat message {n} must be {HISTORY_SHAPE}")
        text = html.unescape(re.sub(r"<[^>]+>", "", message_text(m.get("content"))))
        out.append({"role": m["role"], "content": text.strip()})
    return out


def _api_exchanges(history: list[dict]) -> list[dict]:
    """Earlier turns as exchanges (question and answer text) for the API's export."""
    out = []
    for i in range(0, len(history) - 1, 2):
        if history[i]["role"] == "user" and history[i + 1]["role"] == "assistant":
            answer = {"answer": history[i + 1]["content"], "cited": [], "passages": []}
            out.append({"id": f"api-{i}", "question": history[i]["content"], "answer": answer})
    return out
