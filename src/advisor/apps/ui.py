"""The browser UI (Gradio 6): conversations kept in the browser, streamed answers whose `[n]` markers open
the passage they cite, sources kept with each answer, and the whole document one click away.

One value holds every conversation: a `gr.BrowserState` (localStorage, encrypted, keyed by the signed-in
user) shaped `{"users": {user: {"current": id, "conversations": [conversation, ...]}}}`. Every control
(ask, stop, regenerate, edit, undo, trash, new, switch, rename, delete, rate) changes that value and the
whole screen (chat, sources, export, the list of conversations) is drawn again from it, so what is saved,
shown and exported always agrees. An answer is stored as `Answer.to_json()` (CONTRACTS.md section 1).

`create_app(advisor)` builds the Blocks without launching (testable); `serve()` launches on 127.0.0.1 with no
share link and analytics off. Corpus text is rendered as Markdown without raw HTML, so a document holding
`<script>` shows it as text. Words shown to users come from the corpus profile, never from this module.
"""

from __future__ import annotations

import html
import ipaddress
import json
import logging
import os
import re
import shutil
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import gradio as gr
from markdown_it import MarkdownIt

from advisor.apps.feedback import (
    FeedbackNotSaved,
    answer_key,
    current_feedback,  # noqa: F401 (advisor.apps.ui.current_feedback, as documented)
    save_feedback,
    seal,
    sealed,
)
from advisor.apps.keys import kept_key
from advisor.apps.throttle import LoginThrottle
from advisor.pipeline import (
    HISTORY_SHAPE,
    INTAKE_REASONS,
    Advisor,
    IndexUnavailable,
    InvalidHistory,
    InvalidQuestion,
)
from advisor.schema import Answer
from advisor.settings import Settings
from advisor.streaming import in_worker
from advisor.text import MARKER

log = logging.getLogger(__name__)
HERE = Path(__file__).parent
LONG_QUESTION = 400  # characters of a question shown before "Show the whole question"
LONG_ANSWER = 1500  # characters of an answer shown before "Show the rest of the answer"
MAX_CONVERSATIONS = 50  # kept per user in the browser; the oldest go first
STOPPED = "Stopped before the answer was finished."
BEAT_SECONDS = 0.25  # while an answer is being written, the page gets control back this often (for Stop)

# -- small text helpers ---------------------------------------------------------------------------------------


def _escape(text: str) -> str:
    return html.escape(str(text or ""), quote=True)


def _norm(text: str) -> str:
    """Letters and digits only, lower case: to compare a quote with the passage it came from."""
    return "".join(ch for ch in str(text).lower() if ch.isalnum())


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def when_in_words(stamp: str | None) -> str:
    """An ISO time as people read it ("29 November 2026 at 13:40 UTC"); "never" when missing."""
    if not stamp:
        return "never"
    try:
        t = datetime.fromisoformat(str(stamp))
    except ValueError:
        return str(stamp)
    t = t.astimezone(UTC) if t.tzinfo else t.replace(tzinfo=UTC)
    return f"{t.day} {t:%B %Y} at {t:%H:%M} UTC"


# -- Markdown, rendered safely, with the quoted parts highlighted ----------------------------------------------

_MD = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False}).enable("table")
_MD.disable("image")  # a passage never makes the browser fetch anything


def display_numbers(text: str, ranks: list[int]) -> dict[int, int]:
    """The number each passage is shown under: cited passages in the order the answer first cites them ([1] is
    the first one cited), then the others in rank order (pure).

    The stored answer keeps its own markers (`[n]` is `passages[n-1]`, CONTRACTS.md); only the page and the
    export renumber, so the chat, the Sources panel and the export always agree.
    """
    order = list(dict.fromkeys(n for n in (int(m) for m in MARKER.findall(text or "")) if n in ranks))
    order += [r for r in sorted(ranks) if r not in order]
    return {rank: i + 1 for i, rank in enumerate(order)}


def renumbered(text: str, numbers: dict[int, int]) -> str:
    """`text` with each marker `[n]` written as `[numbers[n]]` (markers with no number are left as they are)."""
    return MARKER.sub(lambda m: f"[{numbers.get(int(m.group(1)), int(m.group(1)))}]", text or "")


def supporting_quotes(text: str) -> dict[int, list[str]]:
    """For each marker `[n]` of an answer, the answer's sentences that cite it (to highlight in passage n)."""
    quotes: dict[int, list[str]] = {}
    for line in re.split(r"(?<=\])[.!]?\s+|\n", text or ""):
        marks = MARKER.findall(line)
        if not marks:
            continue
        sentence = MARKER.sub("", line).lstrip("- ").strip().rstrip(".").strip()
        for m in marks:
            quotes.setdefault(int(m), []).append(sentence)
    return quotes


def markdown_html(text: str, quotes: list[str] = ()) -> str:
    """Markdown (tables included) as HTML with raw HTML escaped; what `quotes` came from is highlighted.

    Every quoted sentence found word for word inside one run of text is wrapped in `<mark>`; a paragraph or
    list item that holds a quote only after normalisation gets the class `quoted`, and so does a table row
    whose every cell appears in one quote. Each highlight also gets the class `q-K`, K the quote's index in
    `quotes`, so the page can point out the sentence one particular marker cites.
    """
    tokens = _MD.parse(text or "")
    wanted = [(k, q.strip(), _norm(q)) for k, q in enumerate(quotes) if len(_norm(q)) >= 8]
    row_start, row_cells = None, []
    for i, tok in enumerate(tokens):
        if tok.type == "tr_open":
            row_start, row_cells = i, []
        elif tok.type == "tr_close" and row_start is not None:
            cells = [c for c in row_cells if c]
            hit = next((k for k, _, q in wanted if all(c in q for c in cells)), None)
            if cells and len("".join(cells)) >= 6 and hit is not None:
                tokens[row_start].attrJoin("class", f"quoted q-{hit}")
            row_start = None
        elif tok.type == "inline":
            if row_start is not None:
                row_cells.append(_norm(tok.content))
                continue
            if _mark_inline(tok, wanted):
                continue
            content = _norm(tok.content)
            hit = next((k for k, _, q in wanted if q in content or (len(content) >= 12 and content in q)), None)
            if content and hit is not None:
                tokens[i - 1].attrJoin("class", f"quoted q-{hit}")
    return _MD.renderer.render(tokens, _MD.options, {})


def _mark_inline(inline, wanted: list[tuple[int, str, str]]) -> bool:
    """Wrap every word-for-word occurrence of a quote in the text runs of `inline` with `<mark class='q-K'>`.

    Several sentences of one paragraph can be quoted (each by its own marker): all of them are marked, the
    longest quote winning where two start at the same place. True if anything was marked.
    """
    from markdown_it.token import Token

    def token(kind: str, content: str) -> Token:
        t = Token(kind, "", 0)
        t.content = content
        return t

    marked = False
    children = []
    for child in inline.children or []:
        if child.type != "text":
            children.append(child)
            continue
        rest = child.content
        while True:
            hits = [(rest.find(q), -len(q), k, q) for k, q, _ in wanted if q and q in rest]
            if not hits:
                break
            at, _, k, q = min(hits)
            children += [token("text", rest[:at]), token("html_inline", f"<mark class='q-{k}'>")]
            children += [token("text", q), token("html_inline", "</mark>")]
            rest = rest[at + len(q) :]
            marked = True
        children.append(token("text", rest))
    inline.children = children
    return marked


# -- one answer in the chat --------------------------------------------------------------------------------------


def generator_in_words(name: str, model: str = "") -> str:
    """Which generator answered, for people: quoted from the sources, or written by the named language model.

    `model` is the LLM that drafted (`verification.model`): with `name` "extractive" its draft was not used.
    """
    if not name or name == "extractive":
        if model:
            return (
                "Quoted word for word from the sources: "
                f"the draft of the language model ({_escape(model)}) was not used."
            )
        return "Quoted word for word from the sources (no language model)."
    return (
        f"Written by a language model ({_escape(model or name)}) from the sources, each sentence checked against them."
    )


def _cite_link(ex: int, n: int, quote: int | None = None, title: str = "") -> str:
    """A marker `[n]` linking to passage n of answer `ex`; `quote` is which of the sentences citing n this is
    (the `q-K` highlight in the passage), `title` the source's title: the page names the link after it for screen
    readers (the chat's sanitizer drops aria attributes) and shows its own preview instead of the title tip."""
    which = f" q-{quote}" if quote is not None else ""
    name = f" title='{_escape(title)}'" if title else ""
    return f"<a class='cite{which}' href='#src-{ex}-{n}'{name}>[{n}]</a>"


def _collapse(body: str, limit: int, label: str, lines: bool = False) -> str:
    """Keep the first `limit` characters in view, the rest behind a summary.

    Plain text is cut at a paragraph or a space; HTML (`lines=True`) only between lines, never inside a tag.
    """
    if len(body) <= limit:
        return body
    if lines:
        cut = body.rfind("\n", 0, limit)
        if cut <= 0:
            return body
    else:
        cut = body.rfind("\n\n", 0, limit)
        cut = cut if cut > limit // 3 else body.rfind(" ", 0, limit)
        cut = cut if cut > 0 else limit
    return f"{body[:cut]}\n\n<details class='more'><summary>{label}</summary>\n\n{body[cut:]}\n\n</details>"


def question_html(question: str) -> str:
    """The user's message, escaped; a long one is collapsed."""
    return _collapse(_escape(question), LONG_QUESTION, "Show the whole question")


def answer_html(exchange: dict, ex: int) -> str:
    """The assistant's message: the answer with linked markers, notices, who answered and a folded source list."""
    if exchange.get("error") == STOPPED and stopped_text(str(exchange.get("partial") or "")):
        return stopped_html(str(exchange["partial"]), ex)
    if exchange.get("error"):
        return f"<p class='note answer ex-{ex}'><em>{_escape(exchange['error'])}</em></p>"
    answer = exchange.get("answer")
    if answer is None:
        return _escape(exchange.get("partial", "")) or "<em>Looking through the sources…</em>"
    text = str(answer.get("answer", ""))
    if answer.get("refused"):
        return _refusal_html(text, ex, str(answer.get("refusal_reason") or ""))
    titles = {p.get("rank"): str(p.get("title") or "") for p in answer.get("passages", [])}
    number = display_numbers(text, list(titles))
    uses: dict[int, int] = {}

    def link(m: re.Match) -> str:
        n = int(m.group(1))
        if n not in titles:
            return ""
        uses[n] = uses.get(n, -1) + 1  # the k-th [n] cites the k-th sentence `supporting_quotes` gives n
        return _cite_link(ex, number[n], uses[n], titles[n])

    body = MARKER.sub(link, _escape(text))
    body = _collapse(body, LONG_ANSWER, "Show the rest of the answer", lines=True)
    notes = "".join(f"<p class='notice'>{_escape(n)}</p>" for n in answer.get("notices") or [])
    cited = [p for p in answer.get("passages", []) if p.get("rank") in (answer.get("cited") or [])]
    cited.sort(key=lambda p: number[p["rank"]])
    items = "".join(
        f"<li>{_cite_link(ex, number[p['rank']], title=str(p.get('title') or ''))} {_escape(p.get('title'))}"
        + (f" — {_escape(p['section'])}" if p.get("section") else "")
        + "</li>"
        for p in cited
    )
    foot = (
        f"<details class='src-foot'><summary>Sources ({len(cited)})</summary><ul>{items}</ul></details>"
        if cited
        else ""
    )
    checked = f"<p class='who'>{_escape(exchange['verification'])}</p>" if exchange.get("verification") else ""
    model = str((answer.get("verification") or {}).get("model") or "")
    who = f"<p class='who'>{generator_in_words(answer.get('generator', ''), model)}</p>"
    standalone = str(answer.get("standalone_question") or "")
    if standalone and standalone != answer.get("question"):
        who = f"<p class='who understood'>Understood as: “{_escape(standalone)}”</p>{who}"
    return f"<div class='answer ex-{ex}'>\n\n{notes}\n\n{body}\n\n{foot}{who}{checked}</div>"


def stopped_text(partial: str) -> str:
    """What a stopped answer had written, without its markers: it keeps no sources to link them to (pure)."""
    text = re.sub(r"[ \t]+(?=[.,;:!?]|$)", "", MARKER.sub("", partial or ""), flags=re.M)
    return re.sub(r"(?<=\S)[ \t]{2,}", " ", text).strip()


def stopped_html(partial: str, ex: int) -> str:
    """An answer stopped part-way: what was written so far, marked as stopped."""
    return (
        f"<div class='answer stopped ex-{ex}'>\n\n{_escape(stopped_text(partial))}\n\n"
        f"<p class='note stopped-note'><em>{STOPPED}</em></p></div>"
    )


def _refusal_html(text: str, ex: int, reason: str = "") -> str:
    """A refusal, its suggested questions turned into buttons that ask them. A greeting or a question in another
    language (`reason` one of `intake.REASONS`) is answered without the "Not covered" heading."""
    lines, suggestions = [], []
    for line in text.splitlines():
        item = line.strip()
        if item.startswith(("- ", "* ")):
            suggestions.append(item[2:].strip())
        else:
            lines.append(line)
    buttons = "".join(f"<li><button type='button' class='suggest'>{_escape(q)}</button></li>" for q in suggestions)
    listing = f"<ul class='suggestions'>{buttons}</ul>" if buttons else ""
    if reason in INTAKE_REASONS.values():
        return f"<div class='answer intake ex-{ex}'>\n\n{_escape(chr(10).join(lines).strip())}\n\n{listing}</div>"
    return (
        f"<div class='answer refusal ex-{ex}'><p><strong>Not covered by my sources.</strong></p>\n\n"
        f"{_escape(chr(10).join(lines).strip())}\n\n{listing}</div>"
    )


# -- the sources beside the chat -----------------------------------------------------------------------------------


def _card(p: dict, ex: int, cited: bool, quotes: list[str], n: int) -> str:
    """One passage as a card, shown as source `n` (its number in the answer, `display_numbers`)."""
    section = f" — {_escape(p['section'])}" if p.get("section") else ""
    status = "Cited in the answer" if cited else "Found, not cited"
    return (
        f"<article class='source-card{' cited' if cited else ''}' id='src-{ex}-{n}' data-rank='{n}' "
        f"tabindex='-1' aria-label='Source {n}: {_escape(p.get('title'))}'>"
        f"<h4><span class='n'>[{n}]</span> {_escape(p.get('title'))}{section}</h4>"
        f"<p class='meta'>{status} · {_escape(Path(str(p.get('source', ''))).name)}</p>"
        f"<div class='passage'>{markdown_html(str(p.get('text', '')), quotes)}</div>"
        f"<button type='button' class='open-doc' data-source='{_escape(p.get('source'))}' "
        f"data-chunk='{_escape(p.get('id'))}'>Read “{_escape(p.get('title'))}” in full</button></article>"
    )


def sources_group(exchange: dict, ex: int, latest: bool) -> str:
    """The passages handed to one answer: cited ones first, the quoted text highlighted; the rest folded."""
    answer = exchange.get("answer")
    hidden = "" if latest else " hidden"
    head = f"<h3 class='src-q'>Sources for “{_escape(_short(exchange.get('question', ''), 90))}”</h3>"
    if answer is None or answer.get("refusal_reason") in INTAKE_REASONS.values():
        body = "<p class='hint'>No sources for this message.</p>"
    elif answer.get("refused"):
        body = "<p class='refusal-note'>No passage answers this question, so none is cited.</p>"
    else:
        quotes = supporting_quotes(str(answer.get("answer", "")))
        cited_ranks = answer.get("cited") or []
        number = display_numbers(str(answer.get("answer", "")), [p["rank"] for p in answer.get("passages", [])])
        passages = sorted(answer.get("passages", []), key=lambda p: number[p["rank"]])
        cited = [
            _card(p, ex, True, quotes.get(p["rank"], []), number[p["rank"]])
            for p in passages
            if p["rank"] in cited_ranks
        ]
        other = [_card(p, ex, False, [], number[p["rank"]]) for p in passages if p["rank"] not in cited_ranks]
        body = "".join(cited)
        if other:
            body += (
                f"<details class='uncited'><summary>Also found, not cited ({len(other)})</summary>"
                + "".join(other)
                + "</details>"
            )
    label = f"Sources of answer {ex + 1}"
    return f"<section class='src-group' data-ex='{ex}' aria-label='{label}'{hidden}>{head}{body}</section>"


def sources_html(exchanges: list[dict]) -> str:
    """Every answer's sources; the latest answer's are shown, the others come back when their answer is clicked."""
    if not exchanges:
        return (
            "<p class='hint'>When you ask, the passages behind the answer appear here. Click a [1] to jump to one.</p>"
        )
    last = len(exchanges) - 1
    return "".join(sources_group(e, i, i == last) for i, e in enumerate(exchanges))


def _short(text: str, n: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= n else text[: n - 1].rsplit(" ", 1)[0] + "…"


# -- conversations: the one state --------------------------------------------------------------------------------


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


def client_left(blocks: gr.Blocks, session_hash: str | None) -> bool:
    """Whether Gradio has marked the running event of `session_hash` dead (its client disconnected).

    Gradio only stops a generator whose client left; a plain function runs to its end, so it asks here.
    """
    jobs = getattr(getattr(blocks, "_queue", None), "active_jobs", None) or []
    return any(event.session_hash == session_hash and not event.alive for events in jobs if events for event in events)


def answer_while_present(items: Iterator, left: Callable[[], bool]) -> Answer | None:
    """The `Answer` that `items` (an `Advisor.stream`) ends with, or None once `left()` says the caller left.

    `left` is asked every `BEAT_SECONDS` at most; an abandoned stream is closed (a model stops drafting).
    """
    produced = in_background(items)
    try:
        for item in produced:
            if left():
                return None
            if isinstance(item, Answer):
                return item
        raise RuntimeError("the answer stream ended without an answer")
    finally:
        produced.close()


def in_background(items: Iterator, beat: float = BEAT_SECONDS) -> Iterator:
    """The items of `items`, produced in a worker thread; `None` whenever `beat` seconds pass without one.

    An answer is written in steps that can block for long (a model's first token takes seconds); here the
    caller gets control back every `beat` seconds, so it notices Stop at once. Once this is closed, the
    worker stops after its current item and closes `items` (a model stops drafting). Errors are raised here.
    """
    return in_worker(items, lambda: beat, name="advisor-answer")


# -- export and feedback ---------------------------------------------------------------------------------------------


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


# -- what the advisor knows ------------------------------------------------------------------------------------------


class _Profile:
    """What the page says about the corpus, read from `Advisor.profile` when there is one."""

    def __init__(self, advisor: Advisor) -> None:
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
    return (
        f"Generator: {advisor.settings.generator} · embeddings: {s.get('embedding_model')} · retrieval: hybrid "
        f"(dense + BM25) · {s.get('documents', 0)} documents, {s.get('chunks', 0)} passages · "
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


# -- documents in the viewer ------------------------------------------------------------------------------------------


def document_html(advisor: Advisor, source: str, chunk_id: str) -> str:
    """A whole indexed document as safe HTML with the passage `chunk_id` highlighted.

    Only documents the index holds are opened (the request comes from the browser).
    """
    doc = advisor.document(source, chunk_id)
    if doc is None:
        return "<p>This document is not in the index (any more).</p>"
    note = "" if doc.from_file else "<p class='hint'>The file cannot be read now; these are its indexed passages.</p>"
    passage = doc.passage
    quotes = [ln for ln in (passage.text.splitlines() if passage else []) if ln.strip()]
    if passage:
        quotes += re.split(r"(?<=[.!?])\s+", passage.text)
    head = f"<h2 class='doc-title'>{_escape(doc.title)}</h2><p class='meta'>{_escape(source)}</p>"
    return f"{head}{note}{markdown_html(doc.text, quotes)}"


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


def shown(text: str) -> str:
    """`text` safe to send back and to write (a lone surrogate from a bad JSON escape becomes "?")."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _api_exchanges(history: list[dict]) -> list[dict]:
    """Earlier turns as exchanges (question and answer text) for the API's export."""
    out = []
    for i in range(0, len(history) - 1, 2):
        if history[i]["role"] == "user" and history[i + 1]["role"] == "assistant":
            answer = {"answer": history[i + 1]["content"], "cited": [], "passages": []}
            out.append({"id": f"api-{i}", "question": history[i]["content"], "answer": answer})
    return out


# -- the app ----------------------------------------------------------------------------------------------------


def _secret(settings: Settings) -> str:
    """The key of the browser store, kept in `<data dir>/ui-secret` so conversations survive a restart.

    An empty or unreadable file is replaced once, with a warning (conversations stored under the lost key
    cannot be read back); a key that cannot be kept is logged as an error, as every restart then loses them.
    """
    return kept_key(
        settings.data_dir / "ui-secret",
        "conversations stored before cannot be read",
        "conversations are lost at every restart",
        logging.ERROR,
    )


def _user(request: gr.Request | None) -> str:
    return str(getattr(request, "username", None) or "")


def _session(request: gr.Request | None) -> str:
    return str(getattr(request, "session_hash", None) or "")


class Sessions:
    """A bounded set of page sessions (the oldest forgotten first), shared by the handlers' threads."""

    def __init__(self, limit: int = 10_000) -> None:
        self._seen: dict[str, None] = {}
        self._limit = limit
        self._lock = threading.Lock()

    def add(self, session: str) -> None:
        with self._lock:
            self._seen[session] = None
            while len(self._seen) > self._limit:
                del self._seen[next(iter(self._seen))]

    def seen(self, session: str) -> bool:
        with self._lock:
            return session in self._seen


def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with darker blues, so text on buttons and labels keeps a 4.5:1 contrast (light and dark)."""
    return gr.themes.Soft(primary_hue="blue").set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_text_color="white",
        block_label_text_color="*primary_800",
        block_title_text_color="*primary_800",
        checkbox_label_background_fill_selected="*primary_700",
        checkbox_label_text_color_selected="white",
    )


def page_head() -> str:
    """The page's stylesheet, in <head> so it also styles the document viewer (Gradio scopes `css=`)."""
    return f"<style>{_asset('ui.css')}</style>"


MAX_K = 20


def parse_k(value: object, default: int) -> int:
    """Passages per answer from the page or an API caller: a whole number from 1 to `MAX_K`, None for `default`;
    anything else raises `InvalidQuestion` with a one-line message."""
    if value is None or value == "":
        return default
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer() or not 1 <= number <= MAX_K:
        given = str(value)[:20]
        raise InvalidQuestion(f"k (passages per answer) must be a whole number from 1 to {MAX_K}, not {given!r}")
    return int(number)


def may_reindex(host: str, user: str, operators: str | None) -> bool:
    """May this page's user reindex? An operator named in `ADVISOR_OPERATORS` (login on) may; without any
    named, only a server listening on loopback lets its page reindex (its users are on the machine) (pure)."""
    if operators:
        return bool(user) and user in {name.strip() for name in operators.split(",")}
    try:
        return ipaddress.ip_address("127.0.0.1" if host == "localhost" else host).is_loopback
    except ValueError:
        return False


REINDEX_REFUSED = (
    "Updating from the corpus folder is for an operator: run `advisor index` on the server"
    " (or log in as a user named in ADVISOR_OPERATORS)."
)


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
        if acted.seen(session):
            return {}
        mark_interrupted(user_space(store, user))
        out = draw(store, user, previous, undoable=True)
        if acted.seen(session):  # the user acted while this was drawn
            remove_export(out[export_file])
            return {}
        return out

    def on_loaded(request: gr.Request):
        """After the page is drawn: what it says about the corpus, read afresh (the index may have changed since
        the page was built: a reindex, another writer), the banner of index problems (checking the index
        can take seconds), and the operator's controls (passages per answer, reindex) for an operator only."""
        profile.__dict__.update(_Profile(advisor).__dict__)
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
        """Store a rating or comment of an answer this server gave (sealed); tell the user when it was not."""
        if not sealed(key, exchange):
            gr.Warning("This answer cannot be rated: it was not given by this server (or was changed since).")
            return False
        try:
            save_feedback(settings.feedback_file, {**exchange, **change}, user)
        except FeedbackNotSaved as exc:
            log.error("a rating was not saved: %s", exc)
            gr.Warning(f"Your rating was not saved: {exc}. Please try again later.")
            return False
        exchange.update(change)
        return True

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
        if not may_reindex(host, _user(request), settings.operators):
            log.warning("a reindex from the page was refused (user %r, server on %s)", _user(request), host)
            return knowledge_markdown(advisor, profile), technical_markdown(advisor), banner_html([REINDEX_REFUSED])
        try:
            report = advisor.reindex()
        except IndexUnavailable as exc:
            return knowledge_markdown(advisor, profile), technical_markdown(advisor), banner_html([str(exc)])
        fresh = _Profile(advisor)  # the index rewrote the profile (documents, subjects)
        profile.__dict__.update(fresh.__dict__)
        note = "; ".join(report.warnings)
        done = f"Updated: {report.added} new and {report.updated} changed passages, {report.deleted} removed."
        return (
            knowledge_markdown(advisor, profile) + f"\n\n{done}" + (f"\n\nSkipped: {note}" if note else ""),
            technical_markdown(advisor) + f" · last run: {report.summary()}",
            banner_html(index_problems(advisor)),
        )

    def read_document(request: dict) -> str:
        """Called from the page (`server.read_document({source, chunk})`): the viewer's HTML."""
        request = request if isinstance(request, dict) else {}
        try:
            return document_html(advisor, str(request.get("source", "")), str(request.get("chunk", "")))
        except Exception as exc:  # the viewer says what went wrong, never a traceback
            return f"<p>This document cannot be shown ({_escape(type(exc).__name__)}).</p>"

    def api_ask(message, chat, k, previous, request: gr.Request):
        """The programmatic `ask` endpoint (gradio_client): question + chat so far -> chat, sources, export.

        It keeps the earlier contract (`predict(question, chat, k, api_name="/ask")`, result[0] is the chat)
        and stores nothing in any browser; its export is private to the calling session. An answer whose
        client has left is abandoned within `BEAT_SECONDS`, so it frees its answer slot for others.
        """
        question = message if isinstance(message, str) else ""
        exchange = {"id": uuid.uuid4().hex, "question": shown(question), "answer": None, "time": _now()}
        history: list[dict] = []
        try:
            history = history_from_chat(chat)
            answer = answer_while_present(
                advisor.stream(question, history, k=parse_k(k, settings.k)),
                lambda: client_left(app, getattr(request, "session_hash", None)),
            )
            if answer is None:  # nobody is waiting for it: nothing to write back
                log.info("an API answer was abandoned: its client left")
                return [], "", None, previous
            exchange["answer"] = answer.to_json()
            reply = answer.text
        except (InvalidQuestion, IndexUnavailable) as exc:
            exchange["error"] = reply = str(exc)
        except Exception as exc:  # one line for the caller, the traceback in the log
            log.exception("answering failed")
            exchange["error"] = reply = f"The index could not be read ({type(exc).__name__})."
        turns = [{"role": t["role"], "content": shown(t["content"])} for t in history]
        turns += [{"role": "user", "content": exchange["question"]}, {"role": "assistant", "content": reply}]
        conv = {"id": "api", "title": "", "exchanges": [*_api_exchanges(history), exchange]}
        path = write_export(conv, previous)
        return turns, sources_html([exchange]), path, path

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


def _verification(answer: Answer) -> str:
    """How an LLM draft was checked against the sources, in one plain line ("" for quoted answers, and for a
    draft that was not used: the answer's notice says why)."""
    v = getattr(answer, "verification", None)
    if v is None or getattr(v, "fallback", None):
        return ""
    kept, drafted = getattr(v, "kept", 0), getattr(v, "drafted", 0)
    return f"{kept} of {drafted} drafted sentences were kept: each one is backed by the passage it cites."


# -- login: nothing but the login page answers without a session ------------------------------------------------------

_OPEN_PATHS = re.compile(
    r"^/(login/?|logout/?|assets/.*|static/.*|svelte/.*|theme\.css|favicon\.ico|manifest\.json|robots\.txt|"
    r"pwa_icon.*|gradio_api/login_check/?|login_check/?|config/?|gradio_api/config/?|gradio_api/startup-events)$"
)


class LoginGate:
    """ASGI middleware for Gradio's login: without a session only the login page and its assets answer.

    Gradio checks the login on its API routes but not on `/gradio_api/cancel`, `/reset`, and `/` embeds the
    API description for anyone. Here every other request gets 401, and `/` is served without that description.
    """

    def __init__(self, app) -> None:
        self.app = app
        self.throttle = LoginThrottle()

    async def __call__(self, scope, receive, send) -> None:
        gradio_app = scope.get("app")
        if scope["type"] not in ("http", "websocket") or getattr(gradio_app, "auth", None) is None:
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http" and scope.get("method") == "POST" and scope.get("path", "").endswith("/login"):
            await self._login(scope, receive, send)
            return
        cookies = _cookies(scope)
        cookie_id = getattr(gradio_app, "cookie_id", "")
        token = cookies.get(f"access-token-{cookie_id}") or cookies.get(f"access-token-unsecure-{cookie_id}")
        path = scope.get("path", "/")
        root = scope.get("root_path", "") or ""
        if root and path.startswith(root):
            path = path[len(root) :] or "/"
        signed_in = bool(token) and gradio_app.tokens.get(token) is not None
        if signed_in or _OPEN_PATHS.match(path):
            await self.app(scope, receive, send)
        elif path == "/" and scope["type"] == "http" and scope.get("method") in ("GET", "HEAD"):
            await self.app(scope, receive, _without_api_info(send))
        else:
            await _refuse(scope, send)

    async def _login(self, scope, receive, send) -> None:
        """A login attempt, refused with 429 while its client or user must wait (see `throttle`); its outcome
        is counted and a lock-out logged."""
        body = bytearray()
        while True:
            message = await receive()
            body.extend(message.get("body", b""))
            if not message.get("more_body") or len(body) > 65_536:
                break
        client = str((scope.get("client") or ("?",))[0])
        user = _login_user(bytes(body))
        wait = self.throttle.wait(client, user, time.monotonic())
        if wait > 0:
            await _answer(send, 429, f"Too many failed logins: try again in {wait:.0f} s.", wait)
            return
        status: list[int] = []

        async def replay():
            return {"type": "http.request", "body": bytes(body), "more_body": False}

        async def watch(message) -> None:
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)

        await self.app(scope, replay, watch)
        if status and status[0] in (400, 401, 403):
            for key in self.throttle.failed(client, user, time.monotonic()):
                log.warning("login locked out for %s after repeated failures", key)
        elif status and status[0] < 400:
            self.throttle.succeeded(client, user)


def _login_user(body: bytes) -> str:
    """The user name of a login form, urlencoded or multipart ("" when there is none)."""
    from urllib.parse import parse_qs

    m = re.search(rb'name="username"\r\n\r\n(.*?)\r\n', body, re.S)
    if m:
        return m.group(1).decode("utf-8", "replace")[:200]
    return (parse_qs(body.decode("latin-1")).get("username") or [""])[0][:200]


async def _answer(send, status: int, detail: str, retry_after: float) -> None:
    body = json.dumps({"detail": detail}).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    headers.append((b"retry-after", str(int(retry_after) + 1).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _cookies(scope) -> dict[str, str]:
    from http.cookies import SimpleCookie

    raw = "; ".join(v.decode("latin-1") for k, v in scope.get("headers", []) if k == b"cookie")
    jar = SimpleCookie()
    try:
        jar.load(raw)
    except Exception:
        return {}
    return {k: m.value for k, m in jar.items()}


def _without_api_info(send):
    """Wrap `send` so the page's embedded `window.gradio_api_info` is emptied (and Content-Length fixed)."""
    start: dict = {}
    body = bytearray()

    async def wrapped(message) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] == "http.response.body":
            body.extend(message.get("body", b""))
            if message.get("more_body"):
                return
            page = re.sub(
                rb"window\.gradio_api_info = .*?;</script>", b"window.gradio_api_info = null;</script>", bytes(body)
            )
            headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
            headers.append((b"content-length", str(len(page)).encode()))
            await send({**start, "headers": headers})
            await send({"type": "http.response.body", "body": page})
            return
        await send(message)

    return wrapped


async def _refuse(scope, send) -> None:
    if scope["type"] == "websocket":
        await send({"type": "websocket.close", "code": 1008})
        return
    body = b'{"detail":"Not authenticated: log in first"}'
    await send(
        {
            "type": "http.response.start",
            "status": 401,
            "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


def parse_auth(value: str | None) -> tuple[str, str] | None:
    """`ADVISOR_AUTH=user:password` as Gradio's `auth` pair; None when unset; a clear error when malformed."""
    if not value:
        return None
    user, sep, password = value.partition(":")
    if not sep or not user or not password:
        raise ValueError("ADVISOR_AUTH must look like user:password")
    return user, password


def serve(
    settings: Settings | None = None, host: str | None = None, port: int | None = None, advisor: Advisor | None = None
) -> None:
    """Warm the advisor up, then serve the UI (blocking). Binds 127.0.0.1 unless told otherwise.

    `advisor` serves one built with other stages (tests slot a slow generator in); by default one from `settings`.
    """
    from starlette.middleware import Middleware

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    settings = settings or (advisor.settings if advisor else Settings.from_env())
    auth = parse_auth(settings.auth)
    advisor = advisor or Advisor(settings)
    try:
        advisor.warm_up()
    except Exception as exc:  # the page opens and shows what is wrong in its banner
        print(f"advisor: the index is not usable: {exc}")
    if removed := clean_stale_exports():
        log.info("removed %d export folders left by servers that are gone", removed)
    app = create_app(advisor, host=host or settings.host)
    app.queue(default_concurrency_limit=4).launch(
        server_name=host or settings.host,
        server_port=port or settings.port,
        share=False,
        auth=auth,
        show_error=False,
        theme=theme(),
        head=page_head(),
        footer_links=[],
        app_kwargs={"middleware": [Middleware(LoginGate)]},
        # Gradio's start-up probe (one HEAD of the page, 3 s timeout) only decides whether a share link is
        # needed; we never share, and on a busy machine the probe timed out and Gradio exited.
        _frontend=False,
    )
