"""`create_app(advisor)`: the Gradio Blocks of the page and the handlers of its controls, built without
launching (testable). Every control changes the one stored value (`conversations.py`) and the whole screen is
drawn again from it, so what is saved, shown and exported always agrees. An answer is stored as
`Answer.to_json()` (CONTRACTS.md section 1).
"""

from __future__ import annotations

import html
import logging
import time
import uuid
from collections.abc import Iterator

import gradio as gr

from advisor.apps.feedback import (
    answer_key,
    seal,
)
from advisor.apps.ui.answering import client_left, in_background
from advisor.apps.ui.api import api_answer, parse_k
from advisor.apps.ui.auth import Sessions, _secret, _session, _user, may_reindex
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
from advisor.apps.ui.records import rate_answer, remove_export, write_export
from advisor.apps.ui.render import (
    _MD,
    STOPPED,
    _asset,
    _escape,
    _now,
    _short,
    _verification,
    document_html,
    question_html,
    sources_html,
)
from advisor.pipeline import (
    Advisor,
    IndexUnavailable,
    InvalidQuestion,
)
from advisor.schema import Answer

log = logging.getLogger(__name__)


_MD.disable("image")  # a passage never makes the browser fetch anything


def create_app(advisor: Advisor, host: str | None = None) -> gr.Blocks:
    """Build the Gradio app around one `Advisor` (no launch; the index is read lazily); `host` is the address
    the server listens on (default `ADVISOR_HOST`), which decides who may reindex (`may_reindex`)."""
    settings = advisor.settings
    host = host or settings.host
    profile = _Profile(advisor)

    def draw(store: dict, user: str, previous: str | None, extra: dict | None = None, undoable: bool = False) -> dict:
        """Every output drawn from the store: the one state. A delete or clear can be undone until the next
        change (`undoable` keeps the offer)."""
        space = user_space(store, user)
        if not undoable:
            space.pop("undo", None)
        prune(space)
        conv = current(space)
        export_path = write_export(conv, previous)
        choices = [(conversation_title(c), c["id"]) for c in space["conversations"]]
        out = {
            state: store,
            chatbot: gr.Chatbot(
                value=chat_messages(conv["exchanges"]), feedback_value=feedback_values(conv["exchanges"])
            ),
            sources: sources_html(conv["exchanges"]),
            export: gr.DownloadButton(value=export_path, interactive=export_path is not None),
            export_file: export_path,
            convs: gr.Radio(choices=choices, value=conv["id"]),
            rename_box: gr.Textbox(value=conversation_title(conv) if conv["exchanges"] else ""),
            undo_row: gr.Row(visible=bool(undo_note(space.get("undo")))),
            undo_label: undo_note(space.get("undo")),
        }
        out.update(extra or {})
        return out

    acted = Sessions()  # pages whose user changed the conversations already: their load must not draw

    def on_load(store, previous, request: gr.Request):
        """Draw the stored conversations, unless the user was quicker: a question asked (or any change made)
        before this load finished is newer than the store this load read, so drawing it would wipe it."""
        session, user = _session(request), _user(request)
        # nothing to draw is a skip per output, not `{}`: Gradio rejects `{}` as an error, and then the load's
        # next step (the header, the banner of index problems, the operator's controls) never runs
        unchanged = {component: gr.skip() for component in drawn}
        if acted.seen(session):
            return unchanged
        mark_interrupted(user_space(store, user))
        out = draw(store, user, previous, undoable=True)
        if acted.seen(session):  # the user acted while this was drawn
            remove_export(out[export_file])
            return unchanged
        return out

    def on_loaded(request: gr.Request):
        """After the page is drawn: what it says about the corpus, read afresh (the index may have changed since
        the page was built: a reindex, another writer), the banner of index problems (checking the index
        can take seconds), and the operator's controls (passages per answer, reindex) for an operator only."""
        profile.read(advisor)
        operator = may_reindex(host, _user(request), settings.operators)
        return {
            reindex: gr.Button(visible=operator),
            k: gr.Slider(visible=operator),
            header: header_html(profile),
            knowledge: knowledge_markdown(advisor, profile),
            technical: technical_markdown(advisor),
            box: gr.Textbox(placeholder=profile.placeholder()),
            chatbot: gr.Chatbot(placeholder=profile.chat_placeholder(), examples=profile.chat_examples()),
            banner: banner_html(index_problems(advisor)),
        }

    key = answer_key(settings.data_dir / "answer-key")  # seals the answers given here (never sent out)
    answering: dict[str, float] = {}  # session -> when its running answer started
    stop_asked: dict[str, float] = {}  # session -> when Stop was last pressed there

    def answer_into(store, request, previous, k, question: str, exchanges_before: int) -> Iterator[dict]:
        """Ask `question` after the first `exchanges_before` exchanges of the current conversation.

        Stop is a request this answer honours within `BEAT_SECONDS` (it finishes as stopped), not a cancel of
        the Gradio event: a cancelled event can leave "Error" badges on the page and keeps Ask busy until
        the step it interrupted returns.
        """
        user, session = _user(request), _session(request)
        acted.add(session)
        space = user_space(store, user)
        mark_interrupted(space)  # what the page's load would have marked, had it finished first
        conv = current(space)
        if not (question or "").strip():
            yield {box: gr.update()}
            return
        del conv["exchanges"][exchanges_before:]
        exchange = {"id": uuid.uuid4().hex, "question": question, "answer": None, "time": _now()}
        conv["exchanges"].append(exchange)
        history = history_of(conv["exchanges"][:-1])
        yield draw(store, user, previous, {box: ""})
        problem = None
        started = answering[session] = time.monotonic()
        try:  # only an operator sets passages per answer (the slider is shown to operators only)
            passages = parse_k(k, settings.k) if may_reindex(host, user, settings.operators) else settings.k
        except InvalidQuestion:  # the page's slider gives 1-8; anything else came from elsewhere
            passages = settings.k
        items = in_background(advisor.stream(question, history, k=passages))
        try:
            partial = ""
            for item in items:
                if stop_asked.get(session, 0.0) > started:
                    exchange["error"] = STOPPED
                    break
                if not item:  # nothing new yet (None: no item for a while; "": a model token still drafting)
                    continue
                if isinstance(item, Answer):
                    exchange["answer"] = item.to_json()
                    exchange["verification"] = _verification(item)
                    exchange["seal"] = seal(key, exchange)  # only a sealed answer can be rated
                    break
                partial += item
                exchange["partial"] = partial
                yield {chatbot: gr.Chatbot(value=chat_messages(conv["exchanges"]))}
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
            if answering.get(session) == started:
                del answering[session]
        if exchange.get("error") != STOPPED:  # a stopped answer keeps what it had written
            exchange.pop("partial", None)
        if exchange["answer"] is None and not exchange.get("error"):
            exchange["error"] = "No answer came back."
        yield draw(store, user, previous, {banner: banner_html([problem])} if problem else None)

    def ask(message, store, previous, k, request: gr.Request):
        n = len(current(user_space(store, _user(request)))["exchanges"])
        yield from answer_into(store, request, previous, k, message, n)

    def on_retry(data: gr.RetryData, store, previous, k, request: gr.Request):
        user = _user(request)
        conv = current(user_space(store, user))
        ex = min(data.index // 2, len(conv["exchanges"]) - 1)
        if ex < 0:
            yield draw(store, user, previous)
            return
        yield from answer_into(store, request, previous, k, conv["exchanges"][ex]["question"], ex)

    def on_edit(data: gr.EditData, store, previous, k, request: gr.Request):
        """Resend an edited question. An edit box left open while the conversation changed (switched, deleted)
        must not rewrite the conversation shown now; the exchanges the edit replaces stay in the list."""
        user = _user(request)
        space = user_space(store, user)
        conv = current(space)
        ex = data.index // 2
        text = message_text(data.value)
        if not 0 <= ex < len(conv["exchanges"]) or not text.strip():
            yield draw(store, user, previous)
            return
        if not same_message(data.previous_value, question_html(conv["exchanges"][ex]["question"])):
            gr.Warning("That question is not in this conversation any more: nothing was changed.")
            yield draw(store, user, previous)
            return
        if ex < len(conv["exchanges"]) - 1:
            kept = keep_before_edit(space, conv)
            gr.Info(f"The conversation as it was before this edit is kept in your list as “{kept['title']}”.")
        yield from answer_into(store, request, previous, k, html.unescape(text), ex)

    def on_undo(data: gr.UndoData, store, previous, request: gr.Request):
        user = _user(request)
        conv = current(user_space(store, user))
        ex = data.index // 2
        question = conv["exchanges"][ex]["question"] if 0 <= ex < len(conv["exchanges"]) else ""
        del conv["exchanges"][max(ex, 0) :]
        return draw(store, user, previous, {box: question})

    def on_stop(store, previous, request: gr.Request):
        """Ask the running answer to stop (it then draws itself as stopped); with none running, mark any
        unfinished answer of the stored conversation as stopped."""
        session = str(getattr(request, "session_hash", "") or "")
        if session in answering:
            stop_asked[session] = time.monotonic()
            return {box: gr.skip()}
        user = _user(request)
        for e in current(user_space(store, user))["exchanges"]:
            if e.get("answer") is None and not e.get("error"):
                e["error"] = STOPPED  # what was written so far (`partial`) is kept, marked as stopped
        return draw(store, user, previous)

    def on_clear(store, previous, request: gr.Request):
        """The chat's trash icon: this conversation is emptied everywhere (chat, sources, export, list)."""
        acted.add(_session(request))
        user = _user(request)
        take_away(user_space(store, user), "cleared")
        return draw(store, user, previous, undoable=True)

    def on_new(store, previous, request: gr.Request):
        acted.add(_session(request))
        user = _user(request)
        space = user_space(store, user)
        conv = current(space)
        if conv["exchanges"]:
            conv = new_conversation()
            space["conversations"].insert(0, conv)
            space["current"] = conv["id"]
        return draw(store, user, previous, {box: ""})

    def on_switch(conv_id, store, previous, request: gr.Request):
        user = _user(request)
        space = user_space(store, user)
        if any(c["id"] == conv_id for c in space["conversations"]):
            space["current"] = conv_id
        return draw(store, user, previous)

    def on_rename(title, store, previous, request: gr.Request):
        acted.add(_session(request))
        user = _user(request)
        conv = current(user_space(store, user))
        conv["title"] = _short(title, 80) if (title or "").strip() else ""
        return draw(store, user, previous)

    def on_delete(store, previous, request: gr.Request):
        acted.add(_session(request))
        user = _user(request)
        space = user_space(store, user)
        take_away(space, "deleted")
        user_space(store, user)
        return draw(store, user, previous, undoable=True)

    def on_undo_removal(store, previous, request: gr.Request):
        """Undo the last delete or clear (nothing happens when another change came in between)."""
        acted.add(_session(request))
        user = _user(request)
        space = user_space(store, user)
        record = space.pop("undo", None)
        if undo_note(record):
            restore(space, record)
        return draw(store, user, previous)

    def rate(exchange: dict, user: str, **change: object) -> bool:
        return rate_answer(key, settings.feedback_file, exchange, user, **change)

    def on_like(data: gr.LikeData, store, previous, request: gr.Request):
        user = _user(request)
        conv = current(user_space(store, user))
        ex = data.index[0] if isinstance(data.index, list | tuple) and data.index else data.index
        ex = ex // 2 if isinstance(ex, int) else -1
        if not 0 <= ex < len(conv["exchanges"]) or not conv["exchanges"][ex].get("answer"):
            return draw(store, user, previous)
        exchange = conv["exchanges"][ex]
        rating = {True: "up", False: "down"}.get(data.liked) if isinstance(data.liked, bool) else None
        if not rate(exchange, user, rating=rating):
            return draw(store, user, previous)
        rated_label = {"up": "You found this answer helpful.", "down": "You found this answer not helpful."}
        label = rated_label.get(exchange["rating"], "")
        return draw(
            store,
            user,
            previous,
            {
                rated: exchange["id"],
                comment_row: gr.Row(visible=bool(exchange["rating"])),
                comment_label: f"{label} Tell us why (optional):",
                comment_box: exchange.get("comment", ""),
            },
        )

    def on_comment(text, exchange_id, store, previous, request: gr.Request):
        user = _user(request)
        for e in current(user_space(store, user))["exchanges"]:
            if e["id"] == exchange_id and rate(e, user, comment=(text or "").strip()[:2000]):
                gr.Info("Thanks, your comment was saved with your rating.")
        return draw(store, user, previous, {comment_row: gr.Row(visible=False)})

    def on_example(data: gr.SelectData) -> str:
        return str(data.value.get("text", "")) if isinstance(data.value, dict) else str(data.value)

    def on_reindex(request: gr.Request):
        return reindex_from_page(advisor, profile, host, _user(request))

    def read_document(request: dict) -> str:
        """Called from the page (`server.read_document({source, chunk})`): the viewer's HTML."""
        request = request if isinstance(request, dict) else {}
        try:
            return document_html(advisor, str(request.get("source", "")), str(request.get("chunk", "")))
        except Exception as exc:  # the viewer says what went wrong, never a traceback
            return f"<p>This document cannot be shown ({_escape(type(exc).__name__)}).</p>"

    def api_ask(message, chat, k, previous, request: gr.Request):
        """The programmatic `ask` endpoint (gradio_client): see `api.api_answer`."""
        left = lambda: client_left(app, getattr(request, "session_hash", None))  # noqa: E731
        return api_answer(advisor, message, chat, k, previous, left)

    title = profile.name
    with gr.Blocks(title=title, analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        state = gr.BrowserState({"users": {}}, storage_key="advisor-conversations", secret=_secret(settings))
        export_file = gr.State(None, delete_callback=remove_export)
        rated = gr.State(None)
        with gr.Sidebar(label="Conversations", open=True, elem_id="sidebar"):
            gr.HTML("<h2 class='side-h'>Conversations</h2>")
            new = gr.Button("New conversation", elem_id="new", variant="primary")
            convs = gr.Radio(choices=[], label="Your conversations (kept in this browser)", elem_id="conversations")
            rename_box = gr.Textbox(label="Name of this conversation", elem_id="rename-box", max_lines=1)
            with gr.Row():
                rename = gr.Button("Rename", elem_id="rename", size="sm")
                delete = gr.Button("Delete", elem_id="delete", variant="stop", size="sm")
            with gr.Accordion("What I know", open=False, elem_id="know-panel"):
                knowledge = gr.Markdown(knowledge_markdown(advisor, profile), elem_id="knowledge")
                # operator controls, shown by `on_loaded` to an operator only (`may_reindex`)
                reindex = gr.Button("Update from the corpus folder", elem_id="reindex", size="sm", visible=False)
                with gr.Accordion("Technical details", open=False, elem_id="tech-panel"):
                    technical = gr.Markdown(technical_markdown(advisor), elem_id="technical")
        header = gr.HTML(header_html(profile))
        banner = gr.HTML("", elem_id="banner")
        with gr.Row(equal_height=False, elem_id="main"):
            with gr.Column(scale=3, min_width=320):
                with gr.Row(visible=False, elem_id="undo-row") as undo_row:
                    undo_label = gr.Markdown("", elem_id="undo-label")
                    undo_button = gr.Button("Undo", elem_id="undo", size="sm", scale=0, min_width=80)
                chatbot = gr.Chatbot(
                    label="Conversation",
                    show_label=False,
                    elem_id="chat",
                    height="62vh",
                    autoscroll=False,
                    editable="user",
                    sanitize_html=True,
                    feedback_options=("Like", "Dislike"),
                    buttons=["copy"],
                    placeholder=profile.chat_placeholder(),
                    examples=profile.chat_examples(),
                )
                with gr.Row(elem_id="ask-row"):
                    box = gr.Textbox(
                        placeholder=profile.placeholder(),
                        label="Your question",
                        show_label=False,
                        scale=6,
                        elem_id="question",
                        autofocus=True,
                        max_lines=6,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, min_width=70, elem_id="ask")
                    stop = gr.Button("Stop", variant="secondary", scale=1, min_width=70, elem_id="stop")
                    gr.Button("Sources", size="sm", scale=0, min_width=70, elem_id="open-sources")  # phone (ui.js)
                with gr.Row(visible=False, elem_id="comment-row") as comment_row:
                    comment_label = gr.Markdown("", elem_id="comment-label")
                    comment_box = gr.Textbox(label="Comment (optional)", elem_id="comment", scale=4, max_lines=3)
                    comment_send = gr.Button("Save comment", elem_id="comment-send", scale=1)
                with gr.Row(elem_id="actions"):
                    export = gr.DownloadButton("Export conversation", interactive=False, elem_id="export", size="sm")
                    k = gr.Slider(
                        1, 8, value=settings.k, step=1, label="Passages per answer", elem_id="k", visible=False
                    )
            with gr.Column(scale=2, min_width=300, elem_id="sources-panel"):
                gr.HTML(
                    "<div class='src-head'><h2>Sources</h2>"
                    "<button type='button' class='drawer-close' aria-label='Close the sources'>Close</button></div>"
                )
                sources = gr.HTML(
                    sources_html([]),
                    elem_id="sources",
                    js_on_load=_asset("ui.js"),
                    server_functions=[read_document],
                )

        with gr.Column(visible=False):
            api_question = gr.Textbox(label="question")
            api_history = gr.JSON([], label="chat")  # any JSON (a malformed chat gets our one-line error); optional
            api_k = gr.JSON(settings.k, label="k")  # any JSON too: a bad k gets our one-line error, not Gradio's
            api_chat = gr.Chatbot(label="chat")
            api_sources = gr.HTML()
            api_export = gr.File(label="export")
            api_trigger = gr.Button("ask (API)")
        api_trigger.click(
            api_ask,
            [api_question, api_history, api_k, export_file],
            [api_chat, api_sources, api_export, export_file],
            api_name="ask",
            concurrency_id="answer",
        )
        base = [state, export_file]
        drawn = [state, chatbot, sources, export, export_file, convs, rename_box, box, banner, undo_row, undo_label]
        liked = [*drawn, rated, comment_row, comment_label, comment_box]
        ask_inputs = [box, state, export_file, k]
        box.submit(ask, ask_inputs, drawn, api_name=False, concurrency_id="answer")
        send.click(ask, ask_inputs, drawn, api_name=False, concurrency_id="answer")
        chatbot.retry(on_retry, [state, export_file, k], drawn, api_name=False, concurrency_id="answer")
        chatbot.edit(on_edit, [state, export_file, k], drawn, api_name=False, concurrency_id="answer")
        chatbot.example_select(on_example, None, box, api_name=False).then(
            ask, ask_inputs, drawn, api_name=False, concurrency_id="answer"
        )
        stop.click(on_stop, base, drawn, api_name=False)  # every answer above honours it (answer_into)
        chatbot.undo(on_undo, base, drawn, api_name=False)
        chatbot.clear(on_clear, base, drawn, api_name=False)
        chatbot.like(on_like, base, liked, api_name=False)
        comment_send.click(on_comment, [comment_box, rated, *base], [*drawn, comment_row], api_name=False)
        new.click(on_new, base, drawn, api_name=False)
        convs.input(on_switch, [convs, *base], drawn, api_name=False)
        rename.click(on_rename, [rename_box, *base], drawn, api_name=False)
        rename_box.submit(on_rename, [rename_box, *base], drawn, api_name=False)
        delete.click(on_delete, base, drawn, api_name=False)
        undo_button.click(on_undo_removal, base, drawn, api_name=False)
        reindex.click(
            on_reindex,
            None,
            [knowledge, technical, banner],
            concurrency_limit=1,
            concurrency_id="reindex",
            api_name="on_reindex",
        )
        app.load(on_load, base, drawn, api_name=False).then(
            on_loaded,
            None,
            [header, knowledge, technical, box, chatbot, banner, reindex, k],
            api_name=False,
            show_progress="hidden",
        )
    return app
