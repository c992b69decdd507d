"""The browser UI: the real server driven in Debian's Chromium (Playwright) at desktop (1400x1000) and phone
(390x844) sizes, checked with axe-core from the npm registry. Screenshots of each state go to test-output/.
The page's pure rendering helpers are tested in tests/unit/test_ui_render.py."""

from __future__ import annotations

import json
import re
import tempfile
from pathlib import Path

import pytest
from support.browser import (
    OUTPUT,
    TABLE_QUESTION,
    WAIT_MS,
    XSS_DOC,
    answered,
    ask,
    axe,
    feedback_records,
    in_view,
    open_page,
    shot,
    wait_for,
)

from advisor.apps import feedback

# -- the real server in Chromium ------------------------------------------------------------------------------------


@pytest.mark.browser
def test_marker_opens_its_passage_highlighted_and_tables_render(sized):
    text = ask(sized, TABLE_QUESTION)
    assert "[1]" in text
    shot(sized, "answer")
    sized.locator("#chat .answer a.cite").first.click()
    assert wait_for(lambda: in_view(sized, "#sources .source-card.flash"))
    card = sized.locator("#sources .source-card.flash")
    assert card.get_attribute("id") == "src-0-1"
    assert card.locator("table").count() == 1 and card.locator("tr.quoted").count() >= 1
    assert "|" not in card.locator(".passage").inner_text()
    if sized.size == "phone":
        assert sized.locator("#sources-panel.open").count() == 1  # the drawer opened from the citation
        shot(sized, "citation-drawer")
        sized.click(".drawer-close")
        assert wait_for(lambda: sized.locator("#sources-panel.open").count() == 0)
    else:
        assert in_view(sized, "#chat .answer")  # the answer stays beside its sources
        shot(sized, "citation")


@pytest.mark.browser
def test_earlier_answers_keep_their_sources_and_documents_open(page):
    ask(page, "What does a staff AI engineer own?")
    first_titles = page.locator("#sources .src-group[data-ex='0'] .source-card.cited h4").all_inner_texts()
    ask(page, TABLE_QUESTION)
    page.locator("#sources .src-group[data-ex='0']").wait_for(state="hidden")
    page.locator("#chat .answer.ex-0 a.cite").first.click()
    group = page.locator("#sources .src-group[data-ex='0']")
    group.wait_for(state="visible")
    assert group.is_visible() and page.locator("#sources .src-group[data-ex='1']").is_hidden()
    assert group.locator(".source-card.cited h4").all_inner_texts() == first_titles
    assert page.locator("#sources .source-card.flash").get_attribute("id") == "src-0-1"
    page.locator("#chat .answer.ex-1").click()  # clicking an answer brings its own sources back
    page.locator("#sources .src-group[data-ex='1']").wait_for(state="visible")
    page.locator("#sources .src-group[data-ex='1'] .source-card.cited button.open-doc").first.click()
    page.wait_for_function("() => document.querySelector('#doc-viewer[open]')?.dataset.ready === '1'")
    viewer = page.locator("#doc-viewer")
    assert viewer.locator("h2.doc-title").inner_text().startswith("AI Engineer vs AI Architect")
    assert viewer.locator("table").count() >= 1
    assert in_view(page, "#doc-viewer .quoted")
    shot(page, "document-viewer")
    page.click("#doc-viewer .dv-close")
    assert page.locator("#doc-viewer[open]").count() == 0


@pytest.mark.browser
def test_reload_keeps_conversations_which_the_sidebar_starts_switches_renames_and_deletes(browser, server):
    context, page = open_page(browser, server["url"])
    page.size = "desktop"
    ask(page, "What does a staff AI engineer own?")
    page.reload()
    answered(page, 1)
    assert "staff AI engineer own" in page.locator("#chat [data-testid='user']").first.inner_text()
    page.click("#new")
    answered(page, 0)
    ask(page, "Which certifications help an aspiring AI architect?")
    labels = page.locator("#conversations label").all_inner_texts()
    assert len(labels) == 2 and "certifications" in labels[0]
    page.locator("#conversations label", has_text="staff AI engineer").click()
    page.wait_for_function(
        "() => document.querySelector('#chat [data-testid=\"user\"]')?.innerText.includes('staff AI engineer')"
    )
    answered(page, 1)
    assert "staff AI engineer own" in page.locator("#chat [data-testid='user']").inner_text()
    page.fill("#rename-box textarea, #rename-box input", "Staff role")
    page.click("#rename")
    page.wait_for_function("() => document.querySelector('#conversations')?.innerText.includes('Staff role')")
    shot(page, "sidebar")
    page.reload()
    answered(page, 1)
    assert "Staff role" in page.locator("#conversations").inner_text()
    page.click("#delete")
    page.wait_for_function("() => !document.querySelector('#conversations').innerText.includes('Staff role')")
    assert page.locator("#conversations label").count() == 1
    assert not page.errors, page.errors
    context.close()


@pytest.mark.browser
def test_trash_new_regenerate_and_edit_keep_feedback_export_and_sources_consistent(page, server):
    ask(page, "What do AI architects earn?")
    page.locator("#chat button[aria-label='Like']").last.click()
    wait_for(lambda: feedback_records(server))
    page.locator("#chat button[aria-label='Clear']").click()  # the chat's trash icon
    answered(page, 0)
    assert page.locator("#export").is_disabled()
    assert page.locator("#sources .source-card").count() == 0
    ask(page, "What does a principal engineer do?")
    assert page.locator("#chat button[aria-label='Like'][aria-pressed='true'], #chat .selected").count() == 0
    page.locator("#chat button[aria-label='Like']").last.click()
    record = wait_for(lambda: [r for r in feedback_records(server) if "principal" in (r["question"] or "")])[-1]
    assert record["rating"] == "up" and record["answer"].count("[") >= 1
    with page.expect_download() as download:
        page.click("#export")
    exported = Path(download.value.path()).read_text()
    assert "principal engineer" in exported and "What do AI architects earn?" not in exported
    assert re.match(r"advisor-conversation-\d{4}-\d{2}-\d{2}-\d{4}\.md", download.value.suggested_filename)
    before = page.locator("#chat .answer").inner_text()
    page.locator("#chat button[aria-label='Retry']").click()  # regenerate
    page.wait_for_timeout(1500)
    answered(page, 1)
    assert page.locator("#chat [data-testid='user']").count() == 1
    assert page.locator("#chat .answer").inner_text() == before  # same question, same sources, same answer
    page.locator("#chat button[aria-label='Edit']").click()
    page.locator("#chat textarea").fill("Which certifications help AI architects?")
    page.locator("#chat button[aria-label='Submit']").click()
    page.wait_for_function("() => document.querySelector('#sources .src-q')?.innerText.includes('certifications')")
    answered(page, 1)
    assert "certif" in page.locator("#chat .answer").inner_text().lower()
    with page.expect_download() as download:
        page.click("#export")
    exported = Path(download.value.path()).read_text()
    assert "certifications help AI architects" in exported and "principal engineer" not in exported
    assert exported.count("**You:**") == 1 and "Sources of this answer:" in exported
    page.click("#new")
    answered(page, 0)
    assert page.locator("#export").is_disabled()


@pytest.mark.browser
def test_one_changeable_rating_per_answer_with_an_optional_comment(page, server):
    ask(page, "How long does it take to go from AI engineer to AI architect?")
    page.locator("#chat button[aria-label='Like']").last.click()
    page.wait_for_selector("#comment-row", state="visible")
    page.locator("#chat button[aria-label='Dislike']").last.click()
    page.wait_for_function("() => document.querySelector('#comment-label')?.innerText.includes('not helpful')")
    page.fill("#comment textarea", "I wanted a number of years.")
    page.click("#comment-send")
    page.wait_for_selector("#comment-row", state="hidden")
    records = [r for r in feedback_records(server) if (r["question"] or "").startswith("How long does it take")]
    current = feedback.current_feedback(server["data"] / "feedback.jsonl")
    mine = {k: v for k, v in current.items() if k == records[-1]["answer_id"]}
    assert len({r["answer_id"] for r in records}) == 1
    assert mine[records[-1]["answer_id"]]["rating"] == "down"
    assert mine[records[-1]["answer_id"]]["comment"] == "I wanted a number of years."


@pytest.mark.browser
def test_refusal_suggestions_ask_when_clicked(sized):
    text = ask(sized, "How do I bake sourdough bread?")
    assert "Not covered by my sources" in text
    suggestion = sized.locator("#chat button.suggest").first
    question = suggestion.inner_text()
    suggestion.click()
    answered(sized, 2)
    assert sized.locator("#chat [data-testid='user']").last.inner_text().strip() == question
    assert "Not covered" not in sized.locator("#chat .answer").last.inner_text()
    assert sized.locator("#chat .answer.ex-1 a.cite").count() >= 1  # answered, with its sources
    assert sized.locator("#sources .src-group[data-ex='1'] .source-card.cited").count() >= 1
    shot(sized, "suggestion-answered")


@pytest.mark.browser
def test_an_example_chip_asks_its_question(sized):
    chip = sized.locator("#chat .examples button").first
    question = chip.inner_text().strip()
    assert question
    chip.click()
    answered(sized, 1)
    assert sized.locator("#chat [data-testid='user']").inner_text().strip() == question
    assert sized.locator("#chat .answer.ex-0 a.cite").count() >= 1
    group = sized.locator("#sources .src-group[data-ex='0']")
    assert question[:40] in group.locator(".src-q").text_content()
    assert group.locator(".source-card.cited").count() >= 1
    assert sized.input_value("#question textarea") == ""  # asked, not just put in the box
    shot(sized, "example-chip-answered")


def _chat_covering_drawer(page) -> list[str]:
    """Buttons and links of the chat whose centre lies under the open sources drawer and still shows through it."""
    return page.evaluate(
        """() => { const d = document.getElementById('sources-panel').getBoundingClientRect(); const out = [];
        for (const el of document.querySelectorAll('#chat button, #chat a')) {
          const r = el.getBoundingClientRect(); if (!r.width || !r.height) continue;
          const x = r.x + r.width / 2, y = r.y + r.height / 2;
          if (x < d.left || x > d.right || y < d.top || y > d.bottom) continue;
          const hit = document.elementFromPoint(x, y);
          if (hit && !hit.closest('#sources-panel'))
            out.push(el.getAttribute('aria-label') || el.textContent.trim().slice(0, 40)); }
        return out; }"""
    )


@pytest.mark.browser
def test_opening_a_source_moves_neither_the_page_nor_lets_the_chat_show_through(sized):
    """Desktop: a citation scrolls only the sources panel, never the page. Phone: nothing of the chat (Gradio's
    scroll-down arrow sits on its top layer) shows through the drawer a citation opens."""
    ask(sized, "Should I become an AI architect? I have 2 years of experience and love coding")
    ask(sized, TABLE_QUESTION)
    if sized.size == "desktop":
        for cite in ("#chat .answer.ex-1 a.cite", "#chat .answer.ex-0 a.cite"):
            for i in range(min(sized.locator(cite).count(), 3)):
                link = sized.locator(cite).nth(i)
                if not link.is_visible():  # folded into the "Sources (n)" list
                    continue
                before = sized.evaluate("() => scrollY")
                link.click()
                assert wait_for(lambda: in_view(sized, "#sources .source-card.flash"))
                assert sized.evaluate("() => scrollY") == before, f"the page scrolled opening {cite} #{i}"
        shot(sized, "citation-page-still")
        return
    sized.mouse.wheel(0, -300)  # the reader scrolls back up (on a phone the page is the one scroller)
    sized.locator("#chat .answer.ex-0 a.cite").first.evaluate("a => a.click()")
    sized.wait_for_selector("#sources-panel.open")
    assert wait_for(lambda: in_view(sized, "#sources .source-card.flash"))  # the drawer has slid in
    assert _chat_covering_drawer(sized) == []
    shot(sized, "drawer-over-scrolled-chat")
    sized.click(".drawer-close")
    assert wait_for(lambda: sized.locator("#sources-panel.open").count() == 0)


@pytest.mark.browser
def test_a_long_question_is_collapsed_and_stays_at_the_top_of_its_answer(sized):
    question = "Should I become an AI architect? " + "I have spent years building data pipelines. " * 120
    ask(sized, question)
    bubble = sized.locator("#chat [data-testid='user']").last
    assert bubble.bounding_box()["height"] < 420
    assert bubble.locator("details").count() == 1
    assert in_view(sized, "#chat [data-testid='user']:last-of-type, #chat [data-testid='user']")
    shot(sized, "long-question")


@pytest.mark.browser
def test_the_copy_is_plain_and_documents_are_listed(page, server):
    page.click("#know-panel button")
    knowledge = page.locator("#knowledge").inner_text()
    documents = len(list(server["corpus"].glob("*.md")))  # 5, or 6 once the module's reindex test has run
    assert f"{documents} documents" in knowledge and "AI Architect Career Ladder" in knowledge
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", knowledge)  # no raw timestamp
    header = page.locator("#header").inner_text()
    assert "BM25" not in header and "MiniLM" not in header
    page.click("#tech-panel button")
    assert "BM25" in page.locator("#technical").inner_text()  # the details are one click away


@pytest.mark.browser
def test_every_button_has_a_name(page):
    ask(page, "What does a staff AI engineer own?")
    unnamed = page.evaluate(
        """() => [...document.querySelectorAll('button, [role=button], a[href]')]
          .filter(b => b.offsetParent !== null)
          .filter(b => !(b.getAttribute('aria-label') || b.textContent.trim() || b.getAttribute('title')))
          .map(b => b.outerHTML.slice(0, 120))"""
    )
    assert unnamed == []


@pytest.mark.browser
def test_axe_finds_no_critical_or_serious_violation(sized, axe_source):
    before = axe(sized, axe_source)
    ask(sized, TABLE_QUESTION)
    sized.locator("#chat .answer a.cite").first.click()
    sized.wait_for_selector("#sources .source-card.flash")
    after = axe(sized, axe_source)
    report = {"before": before, "after": after}
    (OUTPUT / f"axe-{sized.size}.json").write_text(json.dumps(report, indent=2))
    bad = [v for v in before + after if v["impact"] in ("critical", "serious")]
    assert not bad, bad


@pytest.mark.browser
def test_reindex_picks_up_a_new_file_and_its_html_renders_as_text(page, server):
    (server["corpus"] / "zephyr-notes.md").write_text(XSS_DOC)
    page.click("#know-panel button")
    page.click("#reindex")
    page.wait_for_function(
        "() => document.querySelector('#knowledge')?.innerText.includes('6 documents')", timeout=WAIT_MS
    )
    text = ask(page, "What is the Zephyr certification path recommended for?")
    assert "Zephyr" in text and "edge inference" in text
    sources = page.locator("#sources").inner_text()
    assert "<script>window.__xss = 1</script>" in sources or "<img src=x onerror" in sources
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#sources img, #chat img[src='x']").count() == 0


@pytest.mark.browser
def test_exports_are_private_to_their_session(server, tmp_path, monkeypatch):
    """Concurrent sessions each download their own conversation, never another's (it used to be one shared file)."""
    from concurrent.futures import ThreadPoolExecutor

    from gradio_client import Client

    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # gradio_client downloads through a folder there

    questions = [
        "What does a staff AI engineer own?",
        "What do AI architects earn?",
        "Which certifications help an aspiring AI architect?",
        "How long does it take to go from AI engineer to AI architect?",
        "Do architects still get to write code?",
        "What does a principal engineer do?",
    ] * 2

    def session(i: int) -> tuple[str, str]:
        client = Client(server["url"], verbose=False, download_files=tmp_path / "downloads")
        question = f"{questions[i]} (session {i})"
        chat, _, export = client.predict(question, [], 5, api_name="/ask")  # the client downloads the export
        assert chat[-1]["role"] == "assistant"
        return question, Path(export).read_text(encoding="utf-8")

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        downloads = list(pool.map(session, range(len(questions))))
    for question, text in downloads:
        assert question in text
        others = [q for q, _ in downloads if q != question and q in text]
        assert not others, f"export of {question!r} holds {others}"
    assert not list(server["data"].glob("exports/*"))


@pytest.mark.browser
def test_the_ask_api_takes_a_question_alone(server):
    """The chat and k arguments of `/ask` are optional, as they were before the chat became free JSON."""
    from gradio_client import Client

    client = Client(server["url"], verbose=False, download_files=False)
    chat, sources, _ = client.predict("What does a staff AI engineer own?", api_name="/ask")
    assert chat[-1]["role"] == "assistant" and re.search(r"\[\d+\]", str(chat[-1]["content"])) and "<" in sources


@pytest.mark.browser
@pytest.mark.parametrize(
    ("body", "said"),
    [
        ('["What \\ud800 do they do?", [], 5, null]', "not valid text"),  # a lone surrogate, as JSON allows
        ('["And then?", [{"role": "user", "content": "x\\udc00"}], 5, null]', "not valid text"),
        ('["And then?", "not a list", 5, null]', "must be a list"),
        ('["And then?", [1, {"role": "system"}], 5, null]', "chat message 1 must be"),
        ('["And then?", ' + "[" * 900 + "]" * 900 + ", 5, null]", "chat message 1 must be"),
        ('["And then?", {"role": "user"}, 5, null]', "must be a list"),
    ],
)
def test_bad_input_through_the_http_api_gets_one_line(server, body, said):
    """Raw HTTP calls of the `ask` API with bad text or a malformed chat: the reply is our one-line error."""
    import httpx

    headers = {"content-type": "application/json"}
    call = httpx.post(f"{server['url']}/gradio_api/call/ask", content='{"data": ' + body + "}", headers=headers)
    assert call.status_code == 200, call.text
    events = httpx.get(f"{server['url']}/gradio_api/call/ask/{call.json()['event_id']}", timeout=120).text
    assert "event: complete" in events, events[:500]
    data = json.loads(events.split("data: ", 1)[1].splitlines()[0])
    reply = data[0][-1]
    assert reply["role"] == "assistant"
    text = reply["content"][0]["text"] if isinstance(reply["content"], list) else reply["content"]
    assert said in text and "\n" not in text and "Traceback" not in text
    assert "\\ud" not in json.dumps(data)  # nothing invalid is echoed back
