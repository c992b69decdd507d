"""The browser UI, served for real and driven in headless Chromium (Debian's, via Playwright)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import ROOT

from advisor.evaluation.bench import free_port, wait_for_port

pytestmark = pytest.mark.browser

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
OUTPUT = ROOT / "test-output"
XSS_DOC = """---
title: Zephyr notes
kind: article
---

# Zephyr notes

## Zephyr certification

The Zephyr certification path is recommended for aspiring AI architects who work on edge inference.
A trap for the page: <script>window.__xss = 1</script> and <img src=x onerror="window.__xss = 2"> stay text.
"""


@pytest.fixture(scope="module")
def server(built, tmp_path_factory):
    """`advisor serve` on a free loopback port, over a copy of the session's corpus and index."""
    if not CHROMIUM.exists():
        pytest.fail("Debian chromium is missing: .ci/run installs it (apt-get install -y chromium)")
    tmp = tmp_path_factory.mktemp("ui")
    shutil.copytree(built.corpus_dir, tmp / "corpus")
    shutil.copytree(built.data_dir, tmp / "index")
    port = free_port()
    env = {
        **os.environ,
        "ADVISOR_CORPUS_DIR": str(tmp / "corpus"),
        "ADVISOR_DATA_DIR": str(tmp / "index"),
        "GRADIO_ANALYTICS_ENABLED": "False",
    }
    log = (tmp / "server.log").open("w")
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "advisor"), "serve", "--port", str(port)], env=env, stdout=log, stderr=log
    )
    if not wait_for_port(port, proc):
        proc.kill()
        pytest.fail("server did not start: " + (tmp / "server.log").read_text()[-2000:])
    yield {"url": f"http://127.0.0.1:{port}", "corpus": tmp / "corpus", "data": tmp / "index"}
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


@pytest.fixture
def page(browser, server):
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, accept_downloads=True)
    page = context.new_page()
    page.goto(server["url"])
    page.wait_for_selector("#question textarea")
    yield page
    context.close()


def ask(page, question: str, answers_before: int) -> str:
    page.fill("#question textarea", question)
    page.click("#ask")
    bot = page.locator("#chat .bot-row, #chat [data-testid='bot']")
    page.wait_for_function(
        "n => document.querySelectorAll('#chat [data-testid=\"bot\"]').length > n"
        " && !document.querySelector('#chat .pending')",
        arg=answers_before,
        timeout=60_000,
    )
    page.wait_for_timeout(500)
    return bot.last.inner_text()


def test_answer_with_visible_cited_passage_and_screenshot(page):
    text = ask(page, "Should I become an AI architect? I have 2 years of experience and love coding", 0)
    assert "[1]" in text and "Sources:" in text
    card = page.locator("#sources .source-card.cited").first
    assert card.is_visible()
    assert "AI Architect" in card.inner_text() or "Frequently Asked Questions" in card.inner_text()
    assert page.locator("#sources mark").count() >= 1  # the supporting text is highlighted
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / "ui-answer.png"), full_page=True)


def test_follow_up_uses_the_conversation(page):
    ask(page, "What does an AI architect do?", 0)
    text = ask(page, "How much do they earn in India?", 1)
    assert "LPA" in text
    page.click("#understood-box button")
    assert "How much do AI architects earn in India?" in page.locator("#understood").inner_text()


def test_out_of_scope_question_is_refused_with_suggestions(page):
    text = ask(page, "How do I bake sourdough bread?", 0)
    assert "Not covered by my sources" in text and "Should I become an AI architect?" in text
    assert "No passage answers" in page.locator("#sources").inner_text()


def test_reindex_picks_up_a_new_file_and_its_html_renders_as_text(page, server):
    (server["corpus"] / "zephyr-notes.md").write_text(XSS_DOC)
    page.click("#index-panel button")
    page.click("#reindex")
    page.wait_for_function(
        "() => document.querySelector('#reindex-report').innerText.includes('added')", timeout=120_000
    )
    assert "6 documents" in page.locator("#index-status").inner_text()
    text = ask(page, "What is the Zephyr certification path recommended for?", 0)
    assert "Zephyr" in text and "edge inference" in text
    sources = page.locator("#sources").inner_text()
    assert "<script>window.__xss = 1</script>" in sources or "<img src=x onerror" in sources
    assert page.evaluate("() => window.__xss") is None
    assert page.locator("#sources img, #chat img[src='x']").count() == 0


def test_export_downloads_the_conversation_with_sources(page):
    ask(page, "What does a staff AI engineer own?", 0)
    with page.expect_download() as download:
        page.click("#export")
    path = download.value.path()
    text = Path(path).read_text()
    assert text.startswith("# Conversation with advisor")
    assert "What does a staff AI engineer own?" in text and "> [1]" in text


def test_thumbs_up_is_saved_with_question_and_citations(page, server):
    ask(page, "What do AI architects earn?", 0)
    page.locator("#chat button[aria-label='Like']").last.click()
    feedback = server["data"] / "feedback.jsonl"
    deadline = time.time() + 10
    while not feedback.exists() and time.time() < deadline:
        time.sleep(0.2)
    record = json.loads(feedback.read_text().splitlines()[-1])
    assert record["liked"] is True and record["question"] == "What do AI architects earn?"
    assert record["citations"] and record["citations"][0]["source"].startswith("corpus/")


def test_exports_are_private_to_their_session(server):
    """Concurrent sessions each download their own conversation, never another's (it used to be one shared file)."""
    from concurrent.futures import ThreadPoolExecutor

    import httpx
    from gradio_client import Client

    questions = [
        "What does a staff AI engineer own?",
        "What do AI architects earn?",
        "Which certifications help an aspiring AI architect?",
        "How long does it take to go from AI engineer to AI architect?",
        "Do architects still get to write code?",
        "What does a principal engineer do?",
    ] * 2

    def session(i: int) -> tuple[str, str]:
        client = Client(server["url"], verbose=False)
        question = f"{questions[i]} (session {i})"
        result = client.predict(question, [], 5, api_name="/ask")
        export = next(v["value"] for v in result if isinstance(v, dict) and str(v.get("value")).endswith(".md"))
        return question, httpx.get(f"{server['url']}/gradio_api/file={export}", timeout=30).text

    with ThreadPoolExecutor(max_workers=len(questions)) as pool:
        downloads = list(pool.map(session, range(len(questions))))
    for question, text in downloads:
        assert question in text
        others = [q for q, _ in downloads if q != question and q in text]
        assert not others, f"export of {question!r} holds {others}"
    assert not list(server["data"].glob("exports/*"))
