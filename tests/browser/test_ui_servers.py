"""The UI on servers of their own, driven in Chromium (Playwright): one whose start-up probe times out, a slow
answer to stop, a real LLM, another corpus, a broken index (login: test_ui_auth.py). The module server's tests are
in test_ui.py (a file of its own, so that `make test`'s workers run the two at once)."""

from __future__ import annotations

import re
import shutil
import sys
import time
from pathlib import Path

import pytest
from support.browser import (
    SLOW_QUESTION,
    TABLE_QUESTION,
    answered,
    ask,
    feedback_records,
    in_view,
    last_bot_text,
    open_page,
    progress_of,
    serve_ui,
    shot,
    stop_server,
    wait_for,
    wait_until_streaming,
)

AI_CAREER_WORDS = ("AI architect", "AI engineer", "machine learning", "LPA", "Principal AI")

# -- a start-up probe that times out ------------------------------------------------------------------------------


SLOW_PROBE = (
    "import sys, gradio.networking as n; n.url_ok = lambda url: False; "  # as when its probe times out
    "from advisor.apps.cli import main; sys.exit(main(['serve', '--port', sys.argv[1]]))"
)


@pytest.mark.browser
def test_serve_survives_a_start_up_probe_that_times_out(built, tmp_path):
    """On a busy machine Gradio's start-up probe of the page timed out and `advisor serve` exited."""
    import httpx

    command = [sys.executable, "-c", SLOW_PROBE]
    proc, url, log = serve_ui(tmp_path, command, built)
    try:
        deadline = time.monotonic() + 60
        while proc.poll() is None and "Running on local URL" not in log.read_text() and time.monotonic() < deadline:
            time.sleep(0.5)
        time.sleep(3)  # Gradio probes (and gave up) right after printing the URL
        assert proc.poll() is None, log.read_text()[-1000:]
        assert httpx.get(url, timeout=30).status_code == 200
    finally:
        if proc.poll() is None:
            stop_server(proc)


# -- other servers: a slow answer to stop, a real LLM, another corpus, a broken index --------------------------------

STOPPED = "Stopped before the answer was finished."


def kept_and_stopped(page, shown: str) -> bool:
    """The last answer keeps the words it showed while streaming (markers aside) and ends saying it was stopped."""
    text = last_bot_text(page).strip()
    words = re.sub(r"\[\d+\]", "", shown).split()[:3]
    return text.endswith(STOPPED) and " ".join(words) in " ".join(text.split())


def error_badges(page) -> int:
    """Gradio's red "Error" status badges shown on the page (a cancelled event used to leave them)."""
    return page.evaluate(
        "() => [...document.querySelectorAll('body *')].filter(e => !e.childElementCount"
        " && e.textContent.trim() === 'Error' && e.getClientRects().length"
        " && getComputedStyle(e).visibility !== 'hidden').length"
    )


@pytest.mark.browser
def test_stop_halts_a_slow_answer_and_the_next_question_works(browser, slow_server):
    context, page = open_page(browser, slow_server["url"])
    page.size = "desktop"
    page.fill("#question textarea", SLOW_QUESTION)
    page.click("#ask")
    shown = wait_until_streaming(page)
    shot(page, "stop-while-streaming")
    page.click("#stop")
    page.wait_for_function(f"() => document.querySelector('#chat')?.innerText.includes({STOPPED!r})")
    # the server stopped writing: the generator was closed part-way and sends nothing more
    ended = wait_for(lambda: [r for r in progress_of(slow_server, SLOW_QUESTION) if r["state"] != "streaming"])
    assert [r["state"] for r in ended] == ["closed"]
    sent = ended[0]["sent"]
    assert sent >= len(shown.split()) - 1
    time.sleep(2)
    assert max(r["sent"] for r in progress_of(slow_server, SLOW_QUESTION)) == sent
    answered(page, 1)
    assert kept_and_stopped(page, shown)  # issue 20.11: the half answer is kept, marked as stopped
    assert page.locator("#chat .answer.stopped .stopped-note").inner_text() == STOPPED
    assert error_badges(page) == 0
    assert page.locator("#chat a.cite").count() == 0
    assert "No sources for this message" in page.locator("#sources .src-group[data-ex='0']").inner_text()
    shot(page, "stopped")
    likes = page.locator("#chat button[aria-label='Like']")
    if likes.count():  # a stopped answer cannot be rated: nothing is saved
        likes.last.click()
        page.wait_for_timeout(1000)
    assert not [r for r in feedback_records(slow_server) if r["question"] == SLOW_QUESTION]
    with page.expect_download() as download:
        page.click("#export")
    exported = Path(download.value.path()).read_text()
    assert SLOW_QUESTION in exported and STOPPED in exported and "Sources of this answer" not in exported
    assert " ".join(shown.split()[:3]) in exported
    page.reload()  # the stored conversation says the same
    answered(page, 1)
    assert kept_and_stopped(page, shown)

    text = ask(page, TABLE_QUESTION)  # the next question works, in the same conversation
    assert "[1]" in text and "LPA" in text
    assert [r["state"] for r in progress_of(slow_server, TABLE_QUESTION) if r["state"] != "streaming"] == ["finished"]
    assert page.locator("#chat [data-testid='user']").count() == 2
    assert page.locator("#chat .answer.ex-1 a.cite").count() >= 1
    assert page.locator("#sources .src-group[data-ex='1'] .source-card.cited").count() >= 1
    assert "Understood as" not in text  # the stopped exchange is not history for the next question
    page.locator("#chat button[aria-label='Like']").last.click()
    record = wait_for(lambda: [r for r in feedback_records(slow_server) if r["question"] == TABLE_QUESTION])[-1]
    assert record["rating"] == "up" and record["citations"] and "LPA" in record["answer"]
    with page.expect_download() as download:
        page.click("#export")
    exported = Path(download.value.path()).read_text()
    assert exported.count("**You:**") == 2 and STOPPED in exported
    assert exported.count("Sources of this answer:") == 1 and "LPA" in exported
    shot(page, "answered-after-stop")
    assert not page.errors, page.errors
    context.close()


@pytest.mark.browser
def test_stop_halts_an_answer_an_example_chip_started(browser, slow_server):
    context, page = open_page(browser, slow_server["url"])
    page.size = "desktop"
    chip = page.locator("#chat .examples button").first
    question = chip.inner_text().strip()
    chip.click()
    shown = wait_until_streaming(page)
    page.click("#stop")
    page.wait_for_function(f"() => document.querySelector('#chat')?.innerText.includes({STOPPED!r})")
    ended = wait_for(lambda: [r for r in progress_of(slow_server, question) if r["state"] != "streaming"])
    assert [r["state"] for r in ended] == ["closed"]  # the chip's answer was cancelled, not only hidden
    time.sleep(2)
    assert kept_and_stopped(page, shown) and error_badges(page) == 0
    assert not page.errors, page.errors
    context.close()


@pytest.mark.browser
@pytest.mark.llm
def test_an_llm_answer_streams_with_its_sources_and_says_who_wrote_it(browser, built, smollm2, tmp_path):
    """`ADVISOR_LLM=local:smollm2-135m advisor serve`: the real xllamacpp server drafts; SmolLM2 is incoherent,
    so its sentences mostly fail the checks and the quoted answer replaces the draft with a notice."""
    llm = {
        "ADVISOR_LLM": "local:smollm2-135m",
        "ADVISOR_MODELS_DIR": str(smollm2.parent.parent),
        "ADVISOR_LLM_THREADS": "1",
        "ADVISOR_LLM_PASSAGES": "2",
        "ADVISOR_LLM_MAX_TOKENS": "60",
        "ADVISOR_LLM_CONTEXT": "2048",
        "ADVISOR_LLM_FIRST_TOKEN_TIMEOUT": "180",
        "ADVISOR_LLM_TIMEOUT": "300",
    }
    proc, url, log = serve_ui(tmp_path, built=built, **llm)
    try:
        context, page = open_page(browser, url)
        page.size = "desktop"
        page.evaluate(
            """() => { window.__seen = []; new MutationObserver(() => {
              const b = document.querySelectorAll('#chat [data-testid="bot"]');
              const t = b.length ? b[b.length - 1].innerText.trim() : '';
              if (t && window.__seen[window.__seen.length - 1] !== t) window.__seen.push(t);
            }).observe(document.getElementById('chat'), {childList: true, subtree: true, characterData: true}); }"""
        )
        page.fill("#question textarea", "What does a staff AI engineer own?")
        page.click("#ask")
        answered(page, 1, timeout=600_000)  # the model loads, then drafts on one thread
        seen = page.evaluate("() => window.__seen")
        assert len(seen) >= 2 and "Looking through the sources" in seen[0]  # progress showed while it drafted
        answer = page.locator("#chat .answer.ex-0")
        who = " ".join(answer.locator(".who").all_inner_texts())
        notices = " ".join(answer.locator(".notice").all_inner_texts())
        assert "no language model" not in who and "local:smollm2-135m" in who  # names the model that drafted
        if "Written by a language model" in who:
            assert "drafted sentences were kept" in who and "LLM answer not used" not in notices
        else:
            assert "the draft of the language model (local:smollm2-135m) was not used" in who
            assert "LLM answer not used (" in notices and "showing the extractive answer instead" in notices
        assert answer.locator("a.cite").count() >= 1  # sources attached to the answer shown
        cited = page.locator("#sources .src-group[data-ex='0'] .source-card.cited")
        assert cited.count() >= 1 and cited.locator("mark, .quoted").count() >= 1
        assert not re.search(r"(^|\n|\. )- \w", answer.inner_text())  # a list below a notice renders as a list
        answer.locator("a.cite").first.click()
        assert in_view(page, "#sources .source-card.flash")
        shot(page, "llm-answer")

        page.fill("#question textarea", "What do AI architects earn?")  # Stop while the model drafts
        page.click("#ask")
        page.wait_for_function("() => document.querySelectorAll('#chat [data-testid=\"user\"]').length === 2")
        page.click("#stop")
        page.wait_for_function(f"() => document.querySelector('#chat')?.innerText.includes({STOPPED!r})")
        answered(page, 2)
        assert error_badges(page) == 0
        shot(page, "llm-stopped")
        text = ask(page, "Which certifications help an aspiring AI architect?", 600_000)  # the model still answers
        assert "[1]" in text and "local:smollm2-135m" in text
        assert page.locator("#sources .src-group[data-ex='2'] .source-card.cited").count() >= 1
        assert not page.errors, page.errors
        context.close()
    finally:
        stop_server(proc)
    assert "Traceback" not in log.read_text()


# -- other servers: another corpus, a broken index -------------------------------------------------------------------


@pytest.mark.browser
def test_another_corpus_shows_its_own_profile_and_no_ai_career_words(browser, other_template, tmp_path):
    proc, url, _ = serve_ui(tmp_path, built=other_template)
    try:
        context, page = open_page(browser, url)
        page.size = "desktop"
        page.click("#know-panel button")
        wait_for(lambda: "lectrician" in page.locator("body").inner_text())
        visible = page.locator("body").inner_text()
        assert "Electrician" in visible or "electrician" in visible
        for word in AI_CAREER_WORDS:
            assert word.lower() not in visible.lower(), word
        placeholder = page.locator("#question textarea").get_attribute("placeholder")
        assert not any(w.lower() in placeholder.lower() for w in AI_CAREER_WORDS)
        shot(page, "other-corpus")
        context.close()
    finally:
        stop_server(proc)


@pytest.mark.browser
def test_a_broken_index_shows_a_banner_not_a_traceback(browser, built, tmp_path):
    """Damaged snapshot files: a banner names the fix on load; answers still come (from Chroma), no traceback."""
    shutil.copytree(built.corpus_dir, tmp_path / "corpus")
    shutil.copytree(built.data_dir, tmp_path / "index")
    (tmp_path / "index" / "sentences.npz").write_bytes(b"not a zip file")
    (tmp_path / "index" / "snapshot.jsonl").write_text("{garbage\n")
    proc, url, _ = serve_ui(tmp_path)
    try:
        context, page = open_page(browser, url)
        page.size = "desktop"
        page.wait_for_function("() => document.querySelector('#banner')?.innerText.includes('advisor index')")
        banner = page.locator("#banner").inner_text()
        assert "advisor index" in banner and "snapshot.jsonl" in banner  # shown on load, names file and fix
        page.fill("#question textarea", "What does a staff AI engineer own?")
        page.click("#ask")
        page.wait_for_function("() => document.querySelectorAll('#chat .message-row, #chat .message').length >= 2")
        page.wait_for_function("() => /\\[1\\]/.test(document.querySelector('#chat')?.innerText)")
        assert "Traceback" not in page.locator("body").inner_text()
        shot(page, "broken-index")
        context.close()
    finally:
        stop_server(proc)
