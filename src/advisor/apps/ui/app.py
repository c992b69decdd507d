"""`create_app(advisor)`: the Gradio Blocks of the page, each control wired to a `ChatController` method
(`controller.py`, which holds what the controls do and imports no Gradio). The adapters here only turn the page's
event data into plain values and a `Screen` into Gradio updates: every control changes the one stored value
(`conversations.py`) and the whole screen is drawn again from it, so what is saved and shown always agrees.
"""

from __future__ import annotations

from collections.abc import Iterator

from advisor.apps.ui.auth import _secret, _session, _user
from advisor.apps.ui.controller import ChatController, Page, Screen
from advisor.apps.ui.gradio_loader import load_gradio
from advisor.apps.ui.knowledge import header_html, knowledge_markdown, technical_markdown
from advisor.apps.ui.records import remove_export
from advisor.apps.ui.render import _asset, sources_html
from advisor.pipeline import Advisor

gr = load_gradio()

# Export: the file is written when the user presses the button, then the browser saves it (a link it clicks).
DOWNLOAD_JS = """(file) => {
    if (!file || !file.url) return;
    const link = document.createElement("a");
    link.href = file.url;
    link.download = file.orig_name || "conversation.md";
    document.body.appendChild(link);
    link.click();
    link.remove();
}"""


def client_left(blocks: gr.Blocks, session_hash: str | None) -> bool:
    """Whether Gradio has marked the running event of `session_hash` dead (its client disconnected).

    Gradio only stops a generator whose client left; a plain function runs to its end, so it asks here.
    """
    jobs = getattr(getattr(blocks, "_queue", None), "active_jobs", None) or []
    return any(event.session_hash == session_hash and not event.alive for events in jobs if events for event in events)


def create_app(advisor: Advisor, host: str | None = None) -> gr.Blocks:
    """Build the Gradio app around one `Advisor` (no launch; the index is read lazily); `host` is the address
    the server listens on (default `ADVISOR_HOST`), which decides who may reindex (`may_reindex`)."""
    control = ChatController(advisor, host)
    settings, profile = control.settings, control.profile

    def drawn_as(screen: Screen) -> dict:
        """A `Screen` as updates of the page's components (its pop-ups shown)."""
        out = {
            state: screen.store,
            chatbot: gr.Chatbot(value=screen.messages, feedback_value=screen.feedback),
            sources: screen.sources,
            export: gr.Button(interactive=screen.exportable),
            convs: gr.Radio(choices=screen.choices, value=screen.conversation),
            rename_box: gr.Textbox(value=screen.title),
            undo_row: gr.Row(visible=bool(screen.undo)),
            undo_label: screen.undo,
        }
        if screen.box is not None:
            out[box] = screen.box
        if screen.banner is not None:
            out[banner] = screen.banner
        if screen.comment is not None:
            out[comment_row] = gr.Row(visible=screen.comment.visible)
            if screen.comment.exchange_id is not None:
                out |= {rated: screen.comment.exchange_id, comment_label: screen.comment.label}
                out[comment_box] = screen.comment.text
        for level, text in screen.notices:
            (gr.Info if level == "info" else gr.Warning)(text)
        return out

    def streamed(steps: Iterator[Screen | list[dict]]) -> Iterator[dict]:
        """An answer's steps as updates: whole screens, and the chat alone while the answer is written."""
        drew = False
        for step in steps:
            drew = True
            yield drawn_as(step) if isinstance(step, Screen) else {chatbot: gr.Chatbot(value=step)}
        if not drew:  # an empty question: nothing changes
            yield {box: gr.update()}

    def on_load(store, request: gr.Request):
        """Draw the stored conversations, unless the user was quicker (`ChatController.load`)."""
        screen = control.load(store, _user(request), _session(request))
        # nothing to draw is a skip per output, not `{}`: Gradio rejects `{}` as an error, and then the load's
        # next step (the header, the banner of index problems, the operator's controls) never runs
        return drawn_as(screen) if screen is not None else {component: gr.skip() for component in drawn}

    def on_loaded(request: gr.Request):
        page: Page = control.page(_user(request))
        return {
            reindex: gr.Button(visible=page.operator),
            k: gr.Slider(visible=page.operator),
            header: page.header,
            knowledge: page.knowledge,
            technical: page.technical,
            box: gr.Textbox(placeholder=page.placeholder),
            chatbot: gr.Chatbot(placeholder=page.chat_placeholder, examples=page.examples),
            banner: page.banner,
        }

    def ask(message, store, k_value, request: gr.Request):
        yield from streamed(control.ask(store, _user(request), _session(request), message, k_value))

    def on_retry(data: gr.RetryData, store, k_value, request: gr.Request):
        yield from streamed(control.retry(store, _user(request), _session(request), data.index, k_value))

    def on_edit(data: gr.EditData, store, k_value, request: gr.Request):
        user, session = _user(request), _session(request)
        yield from streamed(control.edit(store, user, session, data.index, data.value, data.previous_value, k_value))

    def on_undo(data: gr.UndoData, store, request: gr.Request):
        return drawn_as(control.undo(store, _user(request), data.index))

    def on_stop(store, request: gr.Request):
        screen = control.stop(store, _user(request), _session(request))
        return drawn_as(screen) if screen is not None else {box: gr.skip()}

    def on_clear(store, request: gr.Request):
        return drawn_as(control.clear(store, _user(request), _session(request)))

    def on_new(store, request: gr.Request):
        return drawn_as(control.new(store, _user(request), _session(request)))

    def on_switch(conversation, store, request: gr.Request):
        return drawn_as(control.switch(store, _user(request), conversation))

    def on_rename(title, store, request: gr.Request):
        return drawn_as(control.rename(store, _user(request), _session(request), title))

    def on_delete(store, request: gr.Request):
        return drawn_as(control.delete(store, _user(request), _session(request)))

    def on_undo_removal(store, request: gr.Request):
        return drawn_as(control.undo_removal(store, _user(request), _session(request)))

    def on_like(data: gr.LikeData, store, request: gr.Request):
        return drawn_as(control.rate(store, _user(request), data.index, data.liked))

    def on_comment(text, exchange_id, store, request: gr.Request):
        return drawn_as(control.comment(store, _user(request), exchange_id, text))

    def on_export(store, previous, request: gr.Request):
        path = control.export(store, _user(request), previous)
        return {export_link: path, export_file: path}

    def on_example(data: gr.SelectData) -> str:
        return str(data.value.get("text", "")) if isinstance(data.value, dict) else str(data.value)

    def on_reindex(request: gr.Request):
        return control.reindex(_user(request))

    def read_document(request: dict) -> str:
        """Called from the page (`server.read_document({source, chunk})`): the viewer's HTML."""
        return control.document(request)

    def api_ask(message, chat, k_value, previous, request: gr.Request):
        """The programmatic `ask` endpoint (gradio_client): see `api.api_answer`."""
        left = lambda: client_left(app, getattr(request, "session_hash", None))  # noqa: E731
        return control.api_ask(message, chat, k_value, previous, left)

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
                    export = gr.Button("Export conversation", interactive=False, elem_id="export", size="sm")
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
            # any JSON too: a bad k gets our one-line error, not Gradio's. Its default (what a client that sends
            # only a question gets) is ADVISOR_K as a JSON string: the component warns about a bare number
            api_k = gr.JSON(str(settings.k), label="k")
            api_chat = gr.Chatbot(label="chat")
            api_sources = gr.HTML()
            api_export = gr.File(label="export")
            export_link = gr.File(label="export of the page")  # the file Export wrote, for `DOWNLOAD_JS`
            api_trigger = gr.Button("ask (API)")
        api_trigger.click(
            api_ask,
            [api_question, api_history, api_k, export_file],
            [api_chat, api_sources, api_export, export_file],
            api_name="ask",
            concurrency_id="answer",
        )
        drawn = [state, chatbot, sources, export, convs, rename_box, box, banner, undo_row, undo_label]
        liked = [*drawn, rated, comment_row, comment_label, comment_box]
        ask_inputs = [box, state, k]
        box.submit(ask, ask_inputs, drawn, api_name=False, concurrency_id="answer")
        send.click(ask, ask_inputs, drawn, api_name=False, concurrency_id="answer")
        chatbot.retry(on_retry, [state, k], drawn, api_name=False, concurrency_id="answer")
        chatbot.edit(on_edit, [state, k], drawn, api_name=False, concurrency_id="answer")
        chatbot.example_select(on_example, None, box, api_name=False).then(
            ask, ask_inputs, drawn, api_name=False, concurrency_id="answer"
        )
        stop.click(on_stop, state, drawn, api_name=False)  # every answer above honours it (answer_into)
        chatbot.undo(on_undo, state, drawn, api_name=False)
        chatbot.clear(on_clear, state, drawn, api_name=False)
        chatbot.like(on_like, state, liked, api_name=False)
        comment_send.click(on_comment, [comment_box, rated, state], [*drawn, comment_row], api_name=False)
        new.click(on_new, state, drawn, api_name=False)
        convs.input(on_switch, [convs, state], drawn, api_name=False)
        rename.click(on_rename, [rename_box, state], drawn, api_name=False)
        rename_box.submit(on_rename, [rename_box, state], drawn, api_name=False)
        delete.click(on_delete, state, drawn, api_name=False)
        undo_button.click(on_undo_removal, state, drawn, api_name=False)
        export.click(on_export, [state, export_file], [export_link, export_file], api_name=False).then(
            None, export_link, None, js=DOWNLOAD_JS, api_name=False
        )
        reindex.click(
            on_reindex,
            None,
            [knowledge, technical, banner],
            concurrency_limit=1,
            concurrency_id="reindex",
            api_name="on_reindex",
        )
        app.load(on_load, state, drawn, api_name=False).then(
            on_loaded,
            None,
            [header, knowledge, technical, box, chatbot, banner, reindex, k],
            api_name=False,
            show_progress="hidden",
        )
    return app
