"""What the page shows, as HTML or Markdown (pure): answers with their `[n]` links (numbered in order of first
use), source cards with the quoted parts highlighted, the document viewer, the theme and the page's assets.
Corpus text is rendered as Markdown without raw HTML, so a document holding `<script>` shows it as text.
"""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from pathlib import Path

from markdown_it import MarkdownIt

from advisor.pipeline import (
    INTAKE_REASONS,
    Advisor,
)
from advisor.schema import Answer
from advisor.text import MARKER

HERE = Path(__file__).parent


LONG_QUESTION = 400  # characters of a question shown before "Show the whole question"


LONG_ANSWER = 1500  # characters of an answer shown before "Show the rest of the answer"


STOPPED = "Stopped before the answer was finished."


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


def shown(text: str) -> str:
    """`text` safe to send back and to write (a lone surrogate from a bad JSON escape becomes "?")."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _asset(name: str) -> str:
    return (HERE / name).read_text(encoding="utf-8")


def page_head() -> str:
    """The page's stylesheet, in <head> so it also styles the document viewer (Gradio scopes `css=`)."""
    return f"<style>{_asset('ui.css')}</style>"


def _verification(answer: Answer) -> str:
    """How an LLM draft was checked against the sources, in one plain line ("" for quoted answers, and for a
    draft that was not used: the answer's notice says why)."""
    v = getattr(answer, "verification", None)
    if v is None or getattr(v, "fallback", None):
        return ""
    kept, drafted = getattr(v, "kept", 0), getattr(v, "drafted", 0)
    return f"{kept} of {drafted} drafted sentences were kept: each one is backed by the passage it cites."
