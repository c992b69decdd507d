"""The browser UI (Gradio 6): chat with streamed, cited answers and the cited passages beside them.

`create_app(advisor)` builds the Blocks without launching (testable); `serve()` launches it on
127.0.0.1 with no share link and analytics off. Corpus text is always escaped: a document holding
HTML shows its tags as text.
"""

import html
import json
import os
import re
import shutil
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import gradio as gr

from advisor.advisor import Advisor, InvalidQuestion
from advisor.answer.citations import MARKER
from advisor.schema import Answer
from advisor.settings import Settings

EXAMPLES = [
    "Should I become an AI architect? I have 2 years of experience and love coding",
    "What do AI architects earn?",
    "What does a staff AI engineer own?",
    "Which certifications help an aspiring AI architect?",
    "How long does it take to go from AI engineer to AI architect?",
]

CSS = """
.gradio-container {max-width: 1280px !important; margin: auto;}
#header h1 {margin-bottom: 0;}
#header p {color: var(--body-text-color-subdued); margin-top: 4px;}
.source-card {border: 1px solid var(--border-color-primary); border-radius: 10px; padding: 10px 12px;
  margin-bottom: 10px; background: var(--background-fill-secondary);}
.source-card.cited {border-left: 4px solid #2563eb;}
.source-card .n {font-weight: 700; color: #2563eb; margin-right: 6px;}
.source-card .meta {font-size: 0.85em; color: var(--body-text-color-subdued); margin: 2px 0 6px;}
.source-card .quote {white-space: pre-wrap; font-size: 0.92em; line-height: 1.45;}
.source-card mark {background: #fde68a; padding: 0 2px; border-radius: 3px;}
.refusal-note {color: #b45309;}
#backend {font-size: 0.85em; color: var(--body-text-color-subdued);}
"""


def _escape(text: str) -> str:
    return html.escape(text, quote=False)


def answer_markdown(answer: Answer) -> str:
    """The chat bubble: escaped answer text (markdown kept), plus a compact list of cited sources."""
    body = _escape(answer.text)
    if answer.refused:
        return f"**Not covered by my sources.**\n\n{body}"
    notes = "".join(f"> {_escape(n)}\n\n" for n in answer.notices)
    cited = [p for p in answer.passages if p.rank in answer.cited]
    lines = [
        f"**[{p.rank}]** {_escape(p.chunk.title)}" + (f" — {_escape(p.chunk.section)}" if p.chunk.section else "")
        for p in cited
    ]
    return f"{notes}{body}\n\n<sub>Sources: " + " · ".join(lines) + "</sub>"


def supporting_quotes(answer: Answer) -> dict[int, list[str]]:
    """For each cited passage, the answer's sentences that cite it (to highlight in the passage)."""
    quotes: dict[int, list[str]] = {}
    for line in re.split(r"(?<=\])[.!]?\s+|\n", answer.text):
        marks = MARKER.findall(line)
        if not marks:
            continue
        sentence = MARKER.sub("", line).lstrip("- ").strip().rstrip(".").strip()
        for m in marks:
            quotes.setdefault(int(m), []).append(sentence)
    return quotes


def sources_html(answer: Answer | None) -> str:
    """Cards of the passages handed to the answer, cited ones first, supporting text highlighted."""
    if answer is None:
        return "<p class='hint'>Sources of the latest answer appear here.</p>"
    if answer.refused:
        return "<p class='refusal-note'>No passage answers this question, so none is cited.</p>"
    quotes = supporting_quotes(answer)
    cards = []
    for p in sorted(answer.passages, key=lambda p: (p.rank not in answer.cited, p.rank)):
        text = _escape(p.chunk.text)
        for q in sorted(quotes.get(p.rank, []), key=len, reverse=True):
            eq = _escape(q)
            if eq and eq in text and f"<mark>{eq}" not in text:
                text = text.replace(eq, f"<mark>{eq}</mark>", 1)
        section = f" — {_escape(p.chunk.section)}" if p.chunk.section else ""
        cls = "source-card cited" if p.rank in answer.cited else "source-card"
        cards.append(
            f"<div class='{cls}' data-rank='{p.rank}'><div><span class='n'>[{p.rank}]</span>"
            f"<b>{_escape(p.chunk.title)}</b>{section}</div>"
            f"<div class='meta'>{_escape(p.chunk.source)} · relevance {p.score:.2f}</div>"
            f"<div class='quote'>{text}</div></div>"
        )
    return "".join(cards)


def conversation_markdown(turns: list[dict], answers: list[Answer]) -> str:
    """The conversation as Markdown with each answer's sources."""
    out = ["# Conversation with advisor", ""]
    assistant = 0
    for t in turns:
        text = html.unescape(message_text(t["content"]))
        if t["role"] == "user":
            out += [f"**You:** {text}", ""]
            continue
        answer = answers[assistant] if assistant < len(answers) else None
        assistant += 1
        out += [f"**Advisor:** {answer.text if answer else text}", ""]
        if answer and not answer.refused:
            for p in answer.passages:
                if p.rank in answer.cited:
                    section = f" — {p.chunk.section}" if p.chunk.section else ""
                    out.append(f"> [{p.rank}] *{p.chunk.title}{section}* ({p.chunk.source}): {p.chunk.text}")
                    out.append(">")
            out.append("")
    return "\n".join(out)


def index_status_markdown(advisor: Advisor) -> str:
    s = advisor.index.status()
    built = s["built_at"] or "never"
    return f"**{s['documents']}** documents · **{s['chunks']}** chunks · last built {built} · Chroma: {s['chroma']}"


def save_feedback(path: Path, question: str, answer: Answer, liked: bool) -> None:
    """Append one thumbs up/down with the question, answer and citations to the feedback JSONL."""
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "time": datetime.now(UTC).isoformat(timespec="seconds"),
        "liked": liked,
        "question": question,
        "standalone_question": answer.standalone_question,
        "answer": answer.text,
        "refused": answer.refused,
        "citations": [
            {"n": p.rank, "id": p.chunk.id, "source": p.chunk.source, "text": p.chunk.text}
            for p in answer.passages
            if p.rank in answer.cited
        ],
    }
    with _feedback_lock, path.open("a", encoding="utf-8") as f:
        f.write(json.dumps(record, ensure_ascii=False) + "\n")


_feedback_lock = threading.Lock()


def write_export(turns: list[dict], answers: list[Answer], previous: str | None) -> str:
    """The conversation as Markdown in a file private to one session: a fresh, unguessable temp dir.

    The session's previous export is removed; Gradio serves its own copy from a content-hashed path.
    """
    remove_export(previous)
    folder = Path(tempfile.mkdtemp(prefix="advisor-export-"))
    path = folder / f"advisor-conversation-{datetime.now(UTC):%Y-%m-%d}.md"
    path.write_text(conversation_markdown(turns, answers), encoding="utf-8")
    return str(path)


def remove_export(path: str | None) -> None:
    """Delete one session's export file and its folder (no-op when there is none)."""
    if path and Path(path).parent.name.startswith("advisor-export-"):
        shutil.rmtree(Path(path).parent, ignore_errors=True)


def create_app(advisor: Advisor):
    """Build the Gradio app around one `Advisor` (no launch; no model loaded here)."""
    settings = advisor.settings

    def respond(
        message: str, turns: list[dict], answers: list[Answer], k: int, previous: str | None
    ) -> Iterator[tuple]:
        history = _plain_history(turns, answers)
        if not (message or "").strip():
            yield turns, answers, gr.update(), gr.update(), gr.update(), "", previous
            return
        turns = [*turns, {"role": "user", "content": _escape(message)}, {"role": "assistant", "content": ""}]
        try:
            partial = ""
            for item in advisor.stream(message, history, k=int(k)):
                if isinstance(item, Answer):
                    answer = item
                    break
                partial += item
                turns[-1] = {"role": "assistant", "content": _escape(partial)}
                yield turns, answers, gr.update(), gr.update(), gr.update(), "", previous
        except InvalidQuestion as exc:
            turns[-1] = {"role": "assistant", "content": f"*{_escape(str(exc))}*"}
            yield turns, answers, gr.update(), gr.update(), gr.update(), "", previous
            return
        turns[-1] = {"role": "assistant", "content": answer_markdown(answer)}
        answers = [*answers, answer]
        export = write_export(turns, answers, previous)
        understood = (
            f"**Understood as:** {_escape(answer.standalone_question)}"
            if answer.standalone_question != answer.question
            else f"**Asked as is:** {_escape(answer.question)}"
        )
        yield turns, answers, sources_html(answer), understood, gr.update(value=export, interactive=True), "", export

    def on_like(data: gr.LikeData, turns: list[dict], answers: list[Answer]) -> None:
        index = data.index[0] if isinstance(data.index, list | tuple) else data.index
        n_assistant = sum(1 for t in turns[: index + 1] if t["role"] == "assistant")
        if 1 <= n_assistant <= len(answers):
            answer = answers[n_assistant - 1]
            question = answer.question
            save_feedback(settings.feedback_file, question, answer, bool(data.liked))
            gr.Info("Thanks, your feedback was saved.")

    def on_reindex() -> tuple[str, str]:
        report = advisor.reindex()
        note = "; ".join(report.warnings)
        return index_status_markdown(advisor), f"{report.summary()}" + (f"\n\nWarnings: {note}" if note else "")

    def on_clear(previous: str | None):
        remove_export(previous)
        return [], [], sources_html(None), "", gr.update(value=None, interactive=False), None

    # Gradio's cached copies of exports are purged hourly; the originals when the session ends.
    with gr.Blocks(title="advisor: careers in AI", analytics_enabled=False, delete_cache=(3600, 3600)) as app:
        gr.Markdown(
            "# advisor\nCareer advice for AI engineers, architects, staff and principal roles. "
            "Every claim cites a passage you can read on the right.",
            elem_id="header",
        )
        backend = (
            f"Answers: **{settings.generator}** (quoted from the sources, no LLM) · "
            f"Embeddings: {advisor.index.embedder.name} · Retrieval: hybrid (dense + BM25)"
        )
        gr.Markdown(backend, elem_id="backend")
        answers_state = gr.State([])
        export_state = gr.State(None, delete_callback=remove_export)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
                    label="Conversation",
                    height=560,
                    elem_id="chat",
                    feedback_options=("Like", "Dislike"),
                    sanitize_html=True,
                    placeholder="Ask about careers in AI: roles, levels, salaries, certifications.",
                )
                with gr.Row():
                    box = gr.Textbox(
                        placeholder="Ask a question, e.g. Should I become an AI architect?",
                        show_label=False,
                        scale=5,
                        elem_id="question",
                        autofocus=True,
                    )
                    send = gr.Button("Ask", variant="primary", scale=1, elem_id="ask")
                gr.Examples(EXAMPLES, inputs=box, label="Try one of these")
                with gr.Accordion("How your question was understood", open=False, elem_id="understood-box"):
                    understood = gr.Markdown("", elem_id="understood")
                with gr.Row():
                    export = gr.DownloadButton("Export conversation", interactive=False, elem_id="export")
                    clear = gr.Button("New conversation", elem_id="clear")
            with gr.Column(scale=2):
                gr.Markdown("### Sources")
                sources = gr.HTML(sources_html(None), elem_id="sources")
                with gr.Accordion("Settings", open=False):
                    k = gr.Slider(1, 8, value=settings.k, step=1, label="Passages per answer", elem_id="k")
                with gr.Accordion("Index", open=False, elem_id="index-panel"):
                    status = gr.Markdown(index_status_markdown(advisor), elem_id="index-status")
                    reindex = gr.Button("Reindex corpus", elem_id="reindex")
                    report = gr.Markdown("", elem_id="reindex-report")

        outputs = [chatbot, answers_state, sources, understood, export, box, export_state]
        inputs = [box, chatbot, answers_state, k, export_state]
        box.submit(respond, inputs, outputs, api_name="ask")
        send.click(respond, inputs, outputs, api_name=False)
        chatbot.like(on_like, [chatbot, answers_state], None)
        reindex.click(on_reindex, None, [status, report], concurrency_limit=1, concurrency_id="reindex")
        clear.click(on_clear, export_state, [chatbot, answers_state, sources, understood, export, export_state])
    return app


def message_text(content: object) -> str:
    """The text of a chat message; Gradio 6 hands content back as a list of typed parts."""
    if isinstance(content, str):
        return content
    if isinstance(content, dict):
        return str(content.get("text") or "")
    if isinstance(content, list):
        return "".join(message_text(part) for part in content)
    return ""


def _plain_history(turns: list[dict], answers: list[Answer]) -> list[dict]:
    """History for condensing: user turns as typed, assistant turns as the answer text."""
    out, i = [], 0
    for t in turns:
        if t["role"] == "assistant":
            text = answers[i].text if i < len(answers) else message_text(t["content"])
            out.append({"role": "assistant", "content": text})
            i += 1
        else:
            out.append({"role": "user", "content": html.unescape(message_text(t["content"]))})
    return out


def serve(settings: Settings | None = None, host: str | None = None, port: int | None = None) -> None:
    """Warm the advisor up, then serve the UI (blocking). Binds 127.0.0.1 unless told otherwise."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    settings = settings or Settings.from_env()
    advisor = Advisor(settings)
    advisor.warm_up()
    app = create_app(advisor)
    auth = None
    if settings.auth:
        user, sep, password = settings.auth.partition(":")
        if not sep or not user or not password:
            raise ValueError("ADVISOR_AUTH must look like user:password")
        auth = (user, password)

    app.queue(default_concurrency_limit=4).launch(
        server_name=host or settings.host,
        server_port=port or settings.port,
        share=False,
        auth=auth,
        show_error=False,
        theme=gr.themes.Soft(primary_hue="blue"),
        css=CSS,
        footer_links=[],
    )
