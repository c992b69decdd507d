"""The chat, round 2 (issue 20): the real server in Debian's Chromium (its pure rendering rules are tested in
tests/unit/test_ui_render.py). A real `advisor serve`, Chromium and axe-core from tests/support/browser.py."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest
from playwright.sync_api import TimeoutError as PlaywrightTimeout
from support.browser import (
    DESKTOP,
    OUTPUT,
    SIZES,
    SLOW_SERVER,
    TABLE_QUESTION,
    WAIT_MS,
    XSS_DOC,
    answered,
    ask,
    axe,
    in_view,
    open_page,
    progress_of,
    serve_ui,
    shot,
    stop_server,
    wait_for,
    wait_until_streaming,
)

# -- the real server in Chromium ------------------------------------------------------------------------------------

WIPED = "() => document.querySelectorAll('#chat .answer').length === 0"


def _checked(progress: Path) -> bool:
    lines = progress.read_text().splitlines() if progress.exists() else []
    return any(json.loads(line)["state"] == "checked" for line in lines)


@pytest.mark.browser
def test_a_question_asked_before_the_page_finished_loading_is_kept(browser, built, tmp_path):
    """Issue 20.1: on a fresh server the page's load (which checks the index, slow at first) finished after
    the first answer and drew the empty store it had read over it. Here the check takes 6 s longer."""
    progress = tmp_path / "progress.jsonl"
    command = [sys.executable, str(SLOW_SERVER), "0", str(progress)]
    proc, url, log = serve_ui(tmp_path, command, built, SLOW_CHECK_SECONDS="6")
    try:
        context = browser.new_context(viewport=DESKTOP)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(url)
        page.wait_for_selector("#question textarea")
        page.fill("#question textarea", TABLE_QUESTION)
        page.click("#ask")
        answered(page, 1)
        assert not _checked(progress), "the load finished before the answer: this run tests nothing"
        assert wait_for(lambda: _checked(progress))  # the generous default ceiling: the check is slow under load
        with pytest.raises(PlaywrightTimeout):  # the load's reply comes right after the check: nothing is wiped
            page.wait_for_function(WIPED, timeout=8_000)
        assert TABLE_QUESTION in page.locator("#chat [data-testid='user']").inner_text()
        page.wait_for_function("() => document.querySelectorAll('#conversations label').length === 1")
        page.reload()  # and it was stored
        answered(page, 1)
        assert TABLE_QUESTION in page.locator("#chat [data-testid='user']").inner_text()
        assert not errors, errors
        context.close()
    finally:
        stop_server(proc)
    assert "Traceback" not in log.read_text()


@pytest.mark.browser
def test_a_second_quoted_sentence_of_a_paragraph_is_the_one_its_marker_highlights(page):
    """Issue 20.4: every sentence an answer quotes from a paragraph is marked, and a marker points out its own."""
    ask(page, "Should I become an AI architect? I have 2 years of experience and love coding")
    links = page.locator("#chat .answer.ex-0 a.cite")
    by_card: dict[str, list] = {}
    for i in range(links.count()):
        href = links.nth(i).get_attribute("href")
        if links.nth(i).is_visible():
            by_card.setdefault(href, []).append(links.nth(i))
    href, same = next((h, v) for h, v in by_card.items() if len(v) >= 2)  # two sentences cite one passage
    card = page.locator(f"#sources {href[1:] and '#' + href[1:]}")
    assert card.locator(".passage mark").count() >= 2
    for link in same[:3]:
        quote = re.search(r"\bq-(\d+)\b", link.get_attribute("class")).group(1)
        link.click()
        current = card.locator(".current-quote")
        assert current.count() >= 1
        assert all(f"q-{quote}" in c for c in current.evaluate_all("els => els.map(e => e.className)"))
        sentence = link.evaluate("a => a.closest('li, p').innerText.replace(/\\[\\d+\\]/g, '').trim()")
        assert current.first.inner_text()[:20].lower() in sentence.lower()


@pytest.mark.browser
def test_after_a_reindex_a_reload_shows_the_new_documents(browser, server):
    """Issue 20.8: "What I know" (and the header, placeholder, examples) came from the page built at start."""
    (server["corpus"] / "zephyr-notes.md").write_text(XSS_DOC)
    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(server["corpus"]), "ADVISOR_DATA_DIR": str(server["data"])}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "advisor"), "index"], env=env, capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    context, page = open_page(browser, server["url"])
    page.click("#know-panel button")
    page.wait_for_function(
        "() => document.querySelector('#knowledge')?.innerText.includes('6 documents')", timeout=WAIT_MS
    )
    assert "Zephyr notes" in page.locator("#knowledge").inner_text()
    context.close()


def _open_in(browser, url: str, size: str, scheme: str):
    """A page at `size` in the OS colour scheme `scheme`, its stored conversations loaded."""
    context = browser.new_context(viewport=SIZES[size], color_scheme=scheme)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#conversations label")
    page.wait_for_timeout(300)
    page.size = f"{size}-{scheme}"
    return context, page


@pytest.mark.browser
@pytest.mark.parametrize("scheme", ["light", "dark"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_axe_in_light_and_dark_loaded_answered_editing_and_with_the_sources_open(
    browser, server, axe_source, size, scheme
):
    """Issue 20.2: dark mode made the source cards white with near-white text. No critical or serious violation
    in either scheme, at either size: loaded, answered, a source opened (the drawer on a phone), editing."""
    context, page = _open_in(browser, server["url"], size, scheme)
    assert page.evaluate("() => document.body.classList.contains('dark')") is (scheme == "dark")
    found = {"loaded": axe(page, axe_source)}
    ask(page, "hi")  # a greeting's suggestions (issue 20.11)
    found["greeted"] = axe(page, axe_source)
    ask(page, TABLE_QUESTION)
    found["answered"] = axe(page, axe_source)
    page.locator("#chat .answer a.cite").first.focus()  # a marker's preview (issue 20.11)
    page.wait_for_selector("#cite-preview", state="visible")
    found["preview"] = axe(page, axe_source)
    page.locator("#chat .answer a.cite").first.click()
    page.wait_for_timeout(400)
    found["source open"] = axe(page, axe_source)
    shot(page, "source-open")
    if size == "phone":
        page.click(".drawer-close")
        page.wait_for_timeout(300)
    page.locator("#chat button[aria-label='Edit']").last.click()
    page.wait_for_selector("#chat textarea")
    found["editing"] = axe(page, axe_source)
    shot(page, "editing")
    (OUTPUT / f"axe-{size}-{scheme}.json").write_text(json.dumps(found, indent=2))
    bad = {state: [v for v in found[state] if v["impact"] in ("critical", "serious")] for state in found}
    assert not any(bad.values()), {k: v for k, v in bad.items() if v}
    assert not page.errors, page.errors
    context.close()


@pytest.mark.browser
def test_copy_message_copies_markdown_with_markers_and_sources(browser, server):
    """Issue 20.3: "Copy message" copied the HTML the chat draws (`<div class='answer ex-0'>… <a class='cite'…>`)."""
    context = browser.new_context(viewport=DESKTOP, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.goto(server["url"])
    page.wait_for_selector("#conversations label")
    ask(page, TABLE_QUESTION)
    page.locator("#chat [data-testid='bot']").last.hover()
    page.locator("#chat button[aria-label='Copy message']").last.click()
    copied = wait_for(lambda: page.evaluate("() => navigator.clipboard.readText()"), timeout=10)
    assert "<" not in copied and "class=" not in copied and "&amp;" not in copied
    answer, _, sources = copied.partition("\n\nSources:\n")
    assert re.search(r"LPA \[1\]", answer)  # the answer's own words, with its markers
    assert re.match(r"\[1\] AI Engineer vs AI Architect", sources)  # each cited source by number and title
    assert "Quoted word for word" not in copied and "Sources (" not in copied
    page.locator("#chat button[aria-label='Copy message']").first.click()  # the question: its text
    assert wait_for(lambda: page.evaluate("() => navigator.clipboard.readText()") == TABLE_QUESTION, timeout=10)
    context.close()


@pytest.mark.browser
def test_the_edit_box_is_labelled_sends_on_enter_keeps_later_exchanges_and_closes_on_switching(page):
    """Issue 20.5: the edit box had no label and Enter made a new line; editing question 1 silently dropped every
    later exchange; an edit box left open over another conversation rewrote that one."""
    ask(page, "What does a staff AI engineer own?")
    ask(page, "What do AI architects earn?")
    page.locator("#chat button[aria-label='Edit']").first.click()
    box = page.locator("#chat textarea.edit-textarea")
    box.wait_for()
    assert box.get_attribute("aria-label") == "Edit your question"
    hint = page.locator("#chat .message-row[data-edit-hint]").get_attribute("data-edit-hint")
    assert "1 later exchange" in hint and "stays in your list" in hint
    box.fill("Which certifications help an aspiring AI architect?")
    box.press("Enter")  # sends (Shift+Enter would start a new line)
    page.wait_for_function("() => document.querySelector('#sources .src-q')?.innerText.includes('certifications')")
    answered(page, 1)
    assert "certif" in page.locator("#chat .answer").inner_text().lower()
    labels = page.locator("#conversations label").all_inner_texts()
    assert len(labels) == 2 and any("(before the edit)" in label for label in labels)
    page.locator("#conversations label", has_text="(before the edit)").click()  # the replaced exchanges are kept
    answered(page, 2)
    questions = page.locator("#chat [data-testid='user']").all_inner_texts()
    assert "staff AI engineer own" in questions[0] and "AI architects earn" in questions[1]

    page.locator("#chat button[aria-label='Edit']").first.click()  # open an edit here, then switch away
    page.locator("#chat textarea.edit-textarea").wait_for()
    page.locator("#conversations label", has_text="certifications").click()
    answered(page, 1)
    page.wait_for_selector("#chat textarea.edit-textarea", state="detached")
    assert page.locator("#chat button[aria-label='Submit']").count() == 0
    page.locator("#conversations label", has_text="(before the edit)").click()
    answered(page, 2)
    assert "staff AI engineer own" in page.locator("#chat [data-testid='user']").first.inner_text()


@pytest.mark.browser
def test_delete_and_the_trash_icon_can_be_undone(page):
    """Issue 20.6: Delete and the chat's trash icon acted at once, with no confirmation and no undo."""
    ask(page, "What does a staff AI engineer own?")
    page.click("#delete")
    answered(page, 0)
    page.wait_for_selector("#undo-row", state="visible")
    assert "Deleted “What does a staff AI engineer own?”" in page.locator("#undo-label").inner_text()
    page.click("#undo")
    answered(page, 1)
    page.wait_for_selector("#undo-row", state="hidden")
    assert "staff AI engineer own" in page.locator("#chat [data-testid='user']").inner_text()
    assert "staff AI engineer own" in page.locator("#conversations").inner_text()
    page.locator("#chat button[aria-label='Clear']").click()  # the trash icon
    answered(page, 0)
    page.wait_for_selector("#undo-row", state="visible")
    assert "Emptied" in page.locator("#undo-label").inner_text()
    page.click("#undo")
    answered(page, 1)
    assert page.locator("#sources .src-group[data-ex='0'] .source-card.cited").count() >= 1  # sources back too
    page.click("#delete")
    page.wait_for_selector("#undo-row", state="visible")
    ask(page, "What do AI architects earn?")  # the next change ends the offer
    page.wait_for_selector("#undo-row", state="hidden")


LAYOUT = """() => {
  const users = document.querySelectorAll('#chat [data-testid="user"]'), q = users[users.length - 1];
  const answers = document.querySelectorAll('#chat .answer'), a = answers[answers.length - 1];
  const scrolls = n => /(auto|scroll)/.test(getComputedStyle(n).overflowY) && n.scrollHeight > n.clientHeight + 2;
  const scrollers = [...document.querySelectorAll('body *')].filter(n => scrolls(n) && n.clientHeight > 100
    && !n.closest('#sources-panel, #sidebar, #doc-viewer, textarea'));
  let top = 0, bottom = innerHeight - (getComputedStyle(document.getElementById('ask-row')).position === 'fixed'
    ? document.getElementById('ask-row').getBoundingClientRect().height : 0);
  for (const n of scrollers) if (n.contains(a)) { const b = n.getBoundingClientRect(); top = b.top; bottom = b.bottom; }
  const qr = q.getBoundingClientRect(), ar = a.getBoundingClientRect();
  const visible = Math.max(0, Math.min(ar.bottom, bottom) - Math.max(ar.top, top));
  return {question_offset: qr.top - top, shown: visible / Math.min(ar.height, bottom - qr.bottom),
          scrollers: scrollers.map(n => n.className),
          page_scrolls: document.documentElement.scrollHeight > innerHeight + 1};
}"""


@pytest.mark.browser
def test_the_newest_question_stays_on_top_with_its_answer_below_in_one_scroller(sized):
    """Issue 20.7: after a follow-up only 28% of the new answer was in view in the fixed 62vh chat box, and on a
    phone the page and the chat scrolled separately."""
    ask(sized, "Should I become an AI architect? I have 2 years of experience and love coding")
    ask(sized, TABLE_QUESTION)
    ask(sized, "And what comes after that level?")
    layout = sized.evaluate(LAYOUT)
    assert 0 <= layout["question_offset"] < 80, layout  # the newest question at the top of the view
    assert layout["shown"] >= 0.9, layout  # and as much of its answer below it as fits
    if sized.size == "desktop":  # the chat scrolls, the page does not
        assert len(layout["scrollers"]) == 1 and not layout["page_scrolls"], layout
    else:  # the page scrolls, nothing inside it
        assert layout["scrollers"] == [] and layout["page_scrolls"], layout
        assert in_view(sized, "#ask") and in_view(sized, "#question textarea")  # the question box stays at hand


def _outline(page, selector: str) -> str:
    return page.evaluate(
        "sel => { const s = getComputedStyle(document.querySelector(sel));"
        " return `${s.outlineStyle} ${s.outlineWidth}`; }",
        selector,
    )


@pytest.mark.browser
def test_keyboard_focus_is_visible_sources_are_one_shortcut_away_and_named(page):
    """Issue 20.9: no visible focus on the conversation list and the question box; citations ~20 Tab stops away
    with no shortcut, announced as "link [1]"; "What I know" without aria-expanded."""
    ask(page, TABLE_QUESTION)
    page.focus("#question textarea")
    assert _outline(page, "#question textarea").startswith("solid")
    page.keyboard.press("Alt+1")  # from the question box straight to source 1 of the latest answer
    page.wait_for_selector("#sources .source-card.flash")
    assert page.evaluate("() => document.activeElement.id") == "src-0-1"
    assert in_view(page, "#sources .source-card.flash")
    name = page.locator("#chat .answer a.cite").first.get_attribute("aria-label")
    assert name.startswith("Source 1: ") and "AI Engineer vs AI Architect" in name  # the title, not "link [1]"
    page.focus("#conversations input")
    assert _outline(page, "#conversations label").startswith("solid")
    panel = page.locator("#know-panel > button")
    assert panel.get_attribute("aria-expanded") == "false"
    panel.click()
    page.wait_for_function(
        "() => document.querySelector('#know-panel > button').getAttribute('aria-expanded') === 'true'"
    )


@pytest.mark.browser
def test_on_a_phone_stop_sources_the_comment_box_and_the_chat_stay_at_hand(browser, server):
    """Issue 20.10: Stop sat below the fold, the rating's comment box opened off-screen, "New conversation" left
    the sidebar over the chat, and sources opened only by tapping a marker."""
    context, page = open_page(browser, server["url"], "phone")
    page.size = "phone"
    page.fill("#question textarea", "Should I become an AI architect? I have 2 years of experience and love coding")
    page.click("#ask")
    assert in_view(page, "#stop") and in_view(page, "#ask")  # Stop at hand while the answer comes
    answered(page, 1)
    assert in_view(page, "#stop")
    page.click("#open-sources")  # the sources without tapping a marker
    page.wait_for_selector("#sources-panel.open")
    page.locator("#sources .src-group[data-ex='0']").wait_for(state="visible")
    page.click(".drawer-close")
    page.wait_for_selector("#sources-panel.open", state="detached")
    page.locator("#chat button[aria-label='Like']").last.click()
    page.wait_for_selector("#comment-row", state="visible")
    page.wait_for_function(
        "() => { const r = document.querySelector('#comment textarea').getBoundingClientRect();"
        " return r.top >= 0 && r.bottom <= innerHeight - 60; }"
    )
    page.locator("#sidebar .toggle-button").click()  # open the conversations
    page.wait_for_selector("#sidebar.open")
    page.click("#new")
    answered(page, 0)
    page.wait_for_selector("#sidebar.open", state="detached")  # the chat is not covered
    assert in_view(page, "#question textarea")
    shot(page, "phone-new-conversation")
    context.close()


@pytest.mark.browser
def test_a_question_sent_while_an_answer_is_written_is_not_silently_ignored(browser, slow_server):
    """Issue 20.11: Enter while an answer streamed did nothing, and said nothing. Round 11: and Gradio queued
    that question and answered it after the one being written, even after Stop (CI caught the second answer)."""
    context, page = open_page(browser, slow_server["url"])
    page.fill("#question textarea", TABLE_QUESTION)
    page.click("#ask")
    wait_until_streaming(page)
    later = "What does a staff AI engineer own?"
    page.fill("#question textarea", later)
    page.press("#question textarea", "Enter")
    note = page.locator("#busy-note")
    note.wait_for(state="visible")
    assert "Still answering your last question" in note.inner_text() and note.get_attribute("role") == "status"
    page.click("#ask")  # a click is not taken either
    page.click("#stop")
    answered(page, 1)
    wait_for(lambda: [r for r in progress_of(slow_server, TABLE_QUESTION) if r["state"] == "closed"])
    time.sleep(2)  # a queued question would start the moment the stopped answer ended
    assert page.locator("#chat [data-testid='user']").count() == 1
    assert not progress_of(slow_server, later)  # the server never got it
    assert page.input_value("#question textarea") == later  # kept, to send again
    context.close()


@pytest.mark.browser
def test_on_a_loopback_server_without_operators_its_users_see_the_operator_controls(page):
    """Issue 20.11 (the other side, behind a login: test_ui_auth.py): with no ADVISOR_OPERATORS, users operate."""
    page.wait_for_selector("#k", state="visible")
    page.click("#know-panel button")
    page.wait_for_selector("#reindex", state="visible")


CHAT_LINKS = """ex => [...document.querySelectorAll(`#chat .answer.ex-${ex} a.cite`)]
  .filter(a => !a.closest('.src-foot'))
  .map(a => [Number(a.textContent.replace(/\\D/g, '')), a.dataset.title || a.title, a.getAttribute('href')])"""


@pytest.mark.browser
def test_markers_are_numbered_in_order_of_first_use_in_the_chat_and_the_sources(page):
    """Issue 20.11: an answer could open with [3] (the passages' retrieval rank), then [1]."""
    ask(page, "What does a principal AI architect typically earn?")  # its first cited passage ranks second
    links = page.evaluate(CHAT_LINKS, 0)
    firsts = list(dict.fromkeys(n for n, _, _ in links))
    assert firsts == list(range(1, len(firsts) + 1)) and len(firsts) >= 2, links
    assert all(href == f"#src-0-{n}" for n, _, href in links)
    cards = page.locator("#sources .src-group[data-ex='0'] .source-card.cited")
    assert cards.evaluate_all("cs => cs.map(c => c.id)") == [f"src-0-{n}" for n in firsts]
    titles = {n: title for n, title, _ in links}
    for n in firsts:  # each card is the passage its marker names
        heading = page.locator(f"#src-0-{n} h4").inner_text()
        assert heading.startswith(f"[{n}] {titles[n]}")
    page.locator("#chat .answer.ex-0 a.cite").first.click()
    page.wait_for_selector("#sources .source-card.flash")
    assert page.locator("#sources .source-card.flash").get_attribute("id") == "src-0-1"
    foot = page.locator("#chat .answer.ex-0 .src-foot li a.cite").evaluate_all("as => as.map(a => a.textContent)")
    assert foot == [f"[{n}]" for n in firsts]


@pytest.mark.browser
def test_a_greeting_gets_a_greeting_what_i_know_and_suggestions(page):
    """Issue 20.11: "hi" got "Not covered by my sources"."""
    text = ask(page, "hi")
    assert text.startswith("Hello!") and "Not covered" not in text and "can't answer" not in text
    assert "No sources for this message" in page.locator("#sources .src-group[data-ex='0']").inner_text()
    suggestion = page.locator("#chat .answer.ex-0 button.suggest").first
    question = suggestion.inner_text()
    suggestion.click()
    answered(page, 2)
    assert question in page.locator("#chat [data-testid='user']").last.inner_text()
    assert page.locator("#chat .answer.ex-1 a.cite").count() >= 1
    assert "welcome" in ask(page, "Thank you!").lower()


@pytest.mark.browser
def test_a_question_in_another_language_is_told_the_advisor_answers_in_english(page):
    """Issue 20.11: a question in Spanish was refused as "nothing on debers"."""
    text = ask(page, "¿Debería ser arquitecto de IA si me gusta programar?")
    assert "I answer in English from English documents" in text
    assert "nothing on" not in text and "Not covered" not in text
    assert page.locator("#chat .answer.ex-0 button.suggest").count() >= 2
    assert "I answer in English" in ask(page, "Was verdient ein KI-Architekt in Deutschland?")


@pytest.mark.browser
def test_hovering_a_marker_previews_the_sentence_it_cites(page):
    """Issue 20.11: a marker had no preview; only the browser's title tip (the source's title, after a delay)."""
    ask(page, "Should I become an AI architect? I have 2 years of experience and love coding")
    link = page.locator("#chat .answer.ex-0 a.cite").nth(1)
    href, quote = link.get_attribute("href"), re.search(r"\bq-(\d+)\b", link.get_attribute("class")).group(1)
    card = page.locator(f"#sources {href}")
    link.hover()
    tip = page.locator("#cite-preview")
    tip.wait_for(state="visible")
    assert tip.get_attribute("role") == "tooltip" and link.get_attribute("aria-describedby") == "cite-preview"
    assert card.locator("h4").text_content().strip() in tip.inner_text()
    cited = " ".join(card.locator(f".passage .q-{quote}").first.text_content().split())
    assert cited[:60] in " ".join(tip.inner_text().split())  # the sentence this marker cites
    assert link.get_attribute("title") is None  # no second, native tip over it
    page.mouse.move(5, 5)
    tip.wait_for(state="hidden")
    link.focus()  # the keyboard gets it too
    tip.wait_for(state="visible")
