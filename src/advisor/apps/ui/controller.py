"""`ChatController`: what each control of the page does, without a browser and without Gradio.

Every method takes plain values (the stored value of `conversations.py`, the page's user and session, the text
or index the page sent) and returns what to draw: a `Screen`, or while an answer is written the chat so far.
`app.py` only builds the page and turns a `Screen` into Gradio updates, so the whole conversation logic can be
driven by tests with a fake `Advisor` (tests/unit/test_ui_controller.py). An answer is stored as
`Answer.to_json()` (CONTRACTS.md section 1).
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from advisor.apps.feedback import answer_key, seal
from advisor.apps.ui.answering import in_background
from advisor.apps.ui.api import api_answer, parse_k
from advisor.apps.ui.auth import Sessions, may_reindex
from advisor.apps.ui.conversations import (
    chat_messages,
    conversation_title,
    current,
    feedback_values,
    history_of,
    keep_before_edit,
    mark_interrupted,
    message_text,
    new_conversation,
    prune,
    restore,
    same_message,
    take_away,
    undo_note,
    user_space,
)
from advisor.apps.ui.knowledge import (
    _Profile,
    banner_html,
    header_html,
    index_problems,
    knowledge_markdown,
    reindex_from_page,
    technical_markdown,
)
from advisor.apps.ui.records import rate_answer, write_export
from advisor.apps.ui.render import STOPPED, _escape, _now, _short, _verification, document_html, question_html
from advisor.apps.ui.render import sources_html as _sources_html
from advisor.pipeline import Advisor, IndexUnavailable, InvalidQuestion
from advisor.schema import Answer

log = logging.getLogger(__name__)

RATED = {"up": "You found this answer helpful.", "down": "You found this answer not helpful."}


@dataclass
class Comment:
    """The comment row under the chat: shown after a rating (with the rated answer's id), hidden after a save."""

    visible: bool
    exchange_id: str | None = None  # None: only show or hide the row
    label: str = ""
    text: str = ""


@dataclass
class Screen:
    """Everything the page draws from the stored value after an action. `box` and `banner` are None when the
    action leaves them as they are; `notices` are (`"info"` or `"warning"`, text) pop-ups."""

    store: dict
    messages: list[dict]
    feedback: list[str | None]
    sources: str
    exportable: bool
    choices: list[tuple[str, str]]
    conversation: str
    title: str
    undo: str
    box: str | None = None
    banner: str | None = None
    comment: Comment | None = None
    notices: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Page:
    """What the page says once loaded: read afresh, with the operator's controls for an operator only."""

    operator: bool
    header: str
    knowledge: str
    technical: str
    placeholder: str
    chat_placeholder: str
    examples: list[dict] | None
    banner: str


def _index_of_message(index: object) -> int:
    """The exchange a chat message belongs to (two messages per exchange); -1 for anything else."""
    index = index[0] if isinstance(index, list | tuple) and index else index
    return index // 2 if isinstance(index, int) and not isinstance(index, bool) else -1


class ChatController:
    """The page's actions on one `Advisor`; `host` is the address the server listens on (default
    `ADVISOR_HOST`), which decides who may reindex and set passages per answer (`may_reindex`)."""

    def __init__(self, advisor: Advisor, host: str | None = None) -> None:
        self.advisor = advisor
        self.settings = advisor.settings
        self.host = host or self.settings.host
        self.profile = _Profile(advisor)
        self.key = answer_key(self.settings.data_dir / "answer-key")  # seals the answers given here
        self.acted = Sessions()  # pages whose user changed the conversations already: their load must not draw
        self.answering: dict[str, float] = {}  # session -> when its running answer started
        self.stop_asked: dict[str, float] = {}  # session -> when Stop was last pressed there

    # -- drawing ---------------------------------------------------------------------------------------------

    def screen(self, store: dict, user: str, undoable: bool = False, **changes: object) -> Screen:
        """The screen drawn from the store: the one state. A delete or clear can be undone until the next
        change (`undoable` keeps the offer). Nothing is written to disk here (Export writes the file)."""
        space = user_space(store, user)
        if not undoable:
            space.pop("undo", None)
        prune(space)
        conv = current(space)
        note = undo_note(space.get("undo"))
        drawn = Screen(
            store=store,
            messages=chat_messages(conv["exchanges"]),
            feedback=feedback_values(conv["exchanges"]),
            sources=_sources_html(conv["exchanges"]),
            exportable=bool(conv["exchanges"]),
            choices=[(conversation_title(c), c["id"]) for c in space["conversations"]],
            conversation=conv["id"],
            title=conversation_title(conv) if conv["exchanges"] else "",
            undo=note,
        )
        for name, value in changes.items():
            setattr(drawn, name, value)
        return drawn

    def load(self, store: dict, user: str, session: str) -> Screen | None:
        """Draw the stored conversations, unless the user was quicker (None: draw nothing): a question asked,
        or any change made, before this load finished is newer than the store this load read."""
        if self.acted.seen(session):
            return None
        mark_interrupted(user_space(store, user))
        drawn = self.screen(store, user, undoable=True)
        return None if self.acted.seen(session) else drawn  # None when the user acted while this was drawn

    def page(self, user: str) -> Page:
        """After the page is drawn: what it says about the corpus, read afresh (a reindex or another writer may
        have changed the index since the page was built), and the banner of index problems."""
        self.profile.read(self.advisor)
        return Page(
            operator=may_reindex(self.host, user, self.settings.operators),
            header=header_html(self.profile),
            knowledge=knowledge_markdown(self.advisor, self.profile),
            technical=technical_markdown(self.advisor),
            placeholder=self.profile.placeholder(),
            chat_placeholder=self.profile.chat_placeholder(),
            examples=self.profile.chat_examples(),
            banner=banner_html(index_problems(self.advisor)),
        )

    # -- answering -------------------------------------------------------------------------------------------

    def answer_into(
        self, store: dict, user: str, session: str, k: object, question: str, exchanges_before: int
    ) -> Iterator[Screen | list[dict]]:
        """Ask `question` after the first `exchanges_before` exchanges of the current conversation: a screen
        with the question, the chat so far while the answer is written, and the screen with the answer.

        Stop is a request this answer honours within `BEAT_SECONDS` (it finishes as stopped), not a cancel of
        the page's event: a cancelled event can leave "Error" badges on the page and keeps Ask busy.
        """
        self.acted.add(session)
        space = user_space(store, user)
        mark_interrupted(space)  # what the page's load would have marked, had it finished first
        conv = current(space)
        if not (question or "").strip():
            return
        del conv["exchanges"][exchanges_before:]
        exchange = {"id": uuid.uuid4().hex, "question": question, "answer": None, "time": _now()}
        conv["exchanges"].append(exchange)
        history = history_of(conv["exchanges"][:-1])
        yield self.screen(store, user, box="")
        problem = None
        started = self.answering[session] = time.monotonic()
        try:  # only an operator sets passages per answer (the slider is shown to operators only)
            operator = may_reindex(self.host, user, self.settings.operators)
            passages = parse_k(k, self.settings.k) if operator else self.settings.k
        except InvalidQuestion:  # the page's slider gives 1-8; anything else came from elsewhere
            passages = self.settings.k
        items = in_background(self.advisor.stream(question, history, k=passages))
        try:
            partial = ""
            for item in items:
                if self.stop_asked.get(session, 0.0) > started:
                    exchange["error"] = STOPPED
                    break
                if not item:  # nothing new yet (None: no item for a while; "": a model token still drafting)
                    continue
                if isinstance(item, Answer):
                    exchange["answer"] = item.to_json()
                    exchange["verification"] = _verification(item)
                    exchange["seal"] = seal(self.key, exchange)  # only a sealed answer can be rated
                    break
                partial += item
                exchange["partial"] = partial
                yield chat_messages(conv["exchanges"])
        except InvalidQuestion as exc:
            exchange["error"] = f"{str(exc)[:1].upper()}{str(exc)[1:]}."
        except IndexUnavailable as exc:
            exchange["error"] = "I cannot read my sources right now."
            problem = str(exc)
        except Exception as exc:  # never a traceback on the page: the log has it, the page says what to do
            log.exception("answering failed")
            exchange["error"] = "Something went wrong while answering."
            problem = f"The index could not be read ({type(exc).__name__}); run `advisor index --full`."
        finally:
            items.close()  # a stopped answer's worker closes the stream after its current step
            if self.answering.get(session) == started:
                del self.answering[session]
        if exchange.get("error") != STOPPED:  # a stopped answer keeps what it had written
            exchange.pop("partial", None)
        if exchange["answer"] is None and not exchange.get("error"):
            exchange["error"] = "No answer came back."
        yield self.screen(store, user, banner=banner_html([problem]) if problem else None)

    def ask(self, store: dict, user: str, session: str, text: str, k: object = None) -> Iterator[Screen | list[dict]]:
        """A new question at the end of the current conversation."""
        n = len(current(user_space(store, user))["exchanges"])
        yield from self.answer_into(store, user, session, k, text, n)

    def retry(self, store: dict, user: str, session: str, index: int, k: object = None) -> Iterator[Screen | list]:
        """Ask again the question of chat message `index` (what follows it is replaced)."""
        conv = current(user_space(store, user))
        ex = min(index // 2, len(conv["exchanges"]) - 1)
        if ex < 0:
            yield self.screen(store, user)
            return
        yield from self.answer_into(store, user, session, k, conv["exchanges"][ex]["question"], ex)

    def edit(
        self, store: dict, user: str, session: str, index: int, value: object, previous: object, k: object = None
    ) -> Iterator[Screen | list[dict]]:
        """Resend the question of chat message `index`, edited to `value` (`previous`: what the page showed).
        An edit box left open while the conversation changed must not rewrite the conversation shown now; the
        exchanges an edit replaces stay in the list, as a copy of the conversation before the edit."""
        space = user_space(store, user)
        conv = current(space)
        ex = index // 2
        text = message_text(value)
        if not 0 <= ex < len(conv["exchanges"]) or not text.strip():
            yield self.screen(store, user)
            return
        if not same_message(previous, question_html(conv["exchanges"][ex]["question"])):
            gone = "That question is not in this conversation any more: nothing was changed."
            yield self.screen(store, user, notices=[("warning", gone)])
            return
        steps = self.answer_into(store, user, session, k, html.unescape(text), ex)
        if ex < len(conv["exchanges"]) - 1:
            kept = keep_before_edit(space, conv)
            first = next(steps, None)
            if isinstance(first, Screen):
                kept_as = f"The conversation as it was before this edit is kept in your list as “{kept['title']}”."
                first.notices.append(("info", kept_as))
                yield first
        yield from steps

    def stop(self, store: dict, user: str, session: str) -> Screen | None:
        """Ask the running answer to stop (None: it then draws itself as stopped); with none running, mark any
        unfinished answer of the stored conversation as stopped, keeping what was written so far."""
        if session in self.answering:
            self.stop_asked[session] = time.monotonic()
            return None
        for e in current(user_space(store, user))["exchanges"]:
            if e.get("answer") is None and not e.get("error"):
                e["error"] = STOPPED
        return self.screen(store, user)

    # -- conversations ---------------------------------------------------------------------------------------

    def undo(self, store: dict, user: str, index: int) -> Screen:
        """The chat's undo: the exchange of message `index` and those after it go, its question back in the box."""
        conv = current(user_space(store, user))
        ex = index // 2
        question = conv["exchanges"][ex]["question"] if 0 <= ex < len(conv["exchanges"]) else ""
        del conv["exchanges"][max(ex, 0) :]
        return self.screen(store, user, box=question)

    def clear(self, store: dict, user: str, session: str) -> Screen:
        """The chat's trash icon: this conversation is emptied everywhere (chat, sources, export, list)."""
        return self._take_away(store, user, session, "cleared")

    def new(self, store: dict, user: str, session: str) -> Screen:
        """A new empty conversation, first in the list (the current one when it is empty already)."""
        self.acted.add(session)
        space = user_space(store, user)
        if current(space)["exchanges"]:
            conv = new_conversation()
            space["conversations"].insert(0, conv)
            space["current"] = conv["id"]
        return self.screen(store, user, box="")

    def switch(self, store: dict, user: str, conversation: str) -> Screen:
        space = user_space(store, user)
        if any(c["id"] == conversation for c in space["conversations"]):
            space["current"] = conversation
        return self.screen(store, user)

    def rename(self, store: dict, user: str, session: str, title: str | None) -> Screen:
        self.acted.add(session)
        current(user_space(store, user))["title"] = _short(title, 80) if (title or "").strip() else ""
        return self.screen(store, user)

    def delete(self, store: dict, user: str, session: str) -> Screen:
        return self._take_away(store, user, session, "deleted")

    def _take_away(self, store: dict, user: str, session: str, how: str) -> Screen:
        """Clear or delete the current conversation, keeping it for one undo."""
        self.acted.add(session)
        take_away(user_space(store, user), how)
        return self.screen(store, user, undoable=True)

    def undo_removal(self, store: dict, user: str, session: str) -> Screen:
        """Undo the last delete or clear (nothing happens when another change came in between)."""
        self.acted.add(session)
        space = user_space(store, user)
        record = space.pop("undo", None)
        if undo_note(record):
            restore(space, record)
        return self.screen(store, user)

    # -- ratings and the export ------------------------------------------------------------------------------

    def _rate(self, exchange: dict, user: str, notices: list[tuple[str, str]], **change: object) -> bool:
        problem = rate_answer(self.key, self.settings.feedback_file, exchange, user, **change)
        if problem:
            notices.append(("warning", problem))
        return not problem

    def rate(self, store: dict, user: str, index: object, liked: object) -> Screen:
        """A like or dislike (`liked` True or False; anything else takes the rating back) of message `index`;
        the comment row then asks why."""
        conv = current(user_space(store, user))
        ex = _index_of_message(index)
        if not 0 <= ex < len(conv["exchanges"]) or not conv["exchanges"][ex].get("answer"):
            return self.screen(store, user)
        exchange = conv["exchanges"][ex]
        rating = {True: "up", False: "down"}.get(liked) if isinstance(liked, bool) else None
        notices: list[tuple[str, str]] = []
        if not self._rate(exchange, user, notices, rating=rating):
            return self.screen(store, user, notices=notices)
        label = f"{RATED.get(exchange['rating'], '')} Tell us why (optional):"
        comment = Comment(bool(exchange["rating"]), exchange["id"], label, exchange.get("comment", ""))
        return self.screen(store, user, comment=comment)

    def comment(self, store: dict, user: str, exchange_id: str | None, text: str | None) -> Screen:
        """Store a comment with the rating of the answer `exchange_id` of the current conversation."""
        notices: list[tuple[str, str]] = []
        for e in current(user_space(store, user))["exchanges"]:
            if e["id"] == exchange_id and self._rate(e, user, notices, comment=(text or "").strip()[:2000]):
                notices.append(("info", "Thanks, your comment was saved with your rating."))
        return self.screen(store, user, comment=Comment(False), notices=notices)

    def export(self, store: dict, user: str, previous: str | None) -> str | None:
        """Write the current conversation as Markdown, only when the user asks for it: the file's path (None
        for an empty conversation); the session's previous export (`previous`) is removed."""
        return write_export(current(user_space(store, user)), previous)

    # -- the rest of the page --------------------------------------------------------------------------------

    def reindex(self, user: str) -> tuple[str, str, str]:
        """The page's "Update from the corpus folder" (an operator only): knowledge, technical details, banner."""
        return reindex_from_page(self.advisor, self.profile, self.host, user)

    def document(self, request: object) -> str:
        """The viewer's HTML of `{source, chunk}` (called from the page); never a traceback."""
        request = request if isinstance(request, dict) else {}
        try:
            return document_html(self.advisor, str(request.get("source", "")), str(request.get("chunk", "")))
        except Exception as exc:
            return f"<p>This document cannot be shown ({_escape(type(exc).__name__)}).</p>"

    def api_ask(
        self, message: object, chat: object, k: object, previous: str | None, left: Callable[[], bool]
    ) -> tuple[list[dict], str, str | None, str | None]:
        """The programmatic `ask` endpoint (gradio_client): see `api.api_answer`."""
        return api_answer(self.advisor, message, chat, k, previous, left)
