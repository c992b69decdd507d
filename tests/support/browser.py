"""The browser tests' shared parts: `advisor serve` (or another command) on a free loopback port over a copy of
an index, Debian's Chromium (the `browser` fixture), opening the page at a size, and waiting for conditions
(every wait has a generous ceiling, never a fixed pause before an assertion)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from advisor.evaluation.servers import free_port, wait_for_port

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

DESKTOP = {"width": 1400, "height": 1000}
PHONE = {"width": 390, "height": 844}
SIZES = {"desktop": DESKTOP, "phone": PHONE}
WAIT_MS = 240_000  # the ceiling of any wait in a browser test (a condition, never a fixed pause)


def serve_ui(tmp: Path, command: list[str] | None = None, built=None, **env):
    """Start `advisor serve` (or `command` + the port) over `tmp/corpus` and `tmp/index` on a free loopback port,
    first copying the session's corpus and index there if `built` is given: (process, URL, log path)."""
    corpus, data = tmp / "corpus", tmp / "index"
    if built is not None:
        shutil.copytree(built.corpus_dir, corpus)
        shutil.copytree(built.data_dir, data)
    port = free_port()
    log = tmp / "server.log"
    environ = {
        **os.environ,
        "ADVISOR_CORPUS_DIR": str(corpus),
        "ADVISOR_DATA_DIR": str(data),
        "GRADIO_ANALYTICS_ENABLED": "False",
        **env,
    }
    command = command or [str(Path(sys.executable).parent / "advisor"), "serve", "--port"]
    proc = subprocess.Popen(
        [*command, str(port)],
        env=environ,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    if not wait_for_port(port, proc):
        proc.kill()
        pytest.fail("server did not start: " + log.read_text()[-2000:])
    return proc, f"http://127.0.0.1:{port}", log


def stop_server(proc: subprocess.Popen) -> None:
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
        yield b
        b.close()


def open_page(browser, url: str, size: str = "desktop", storage: dict | None = None):
    context = browser.new_context(viewport=SIZES[size], accept_downloads=True, storage_state=storage)
    context.set_default_timeout(WAIT_MS)  # every wait is for a condition, with a ceiling a loaded CI survives
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(url)
    page.wait_for_selector("#question textarea")
    page.wait_for_function("() => document.querySelector('#sources .hint, #sources .src-group')")
    page.wait_for_selector("#conversations label")  # the page has loaded the stored conversations
    page.wait_for_timeout(300)
    page.errors = errors
    return context, page


def wait_for(predicate, timeout: float = WAIT_MS / 1000):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


SLOW_QUESTION = "Should I become an AI architect? I have 2 years of experience and love coding"


def progress_of(server, question: str) -> list[dict]:
    path = server["progress"]
    records = [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []
    return [r for r in records if question.startswith(r["question"][:40])]


def last_bot_text(page) -> str:
    return page.evaluate(
        "() => { const b = document.querySelectorAll('#chat [data-testid=\"bot\"]');"
        " return b.length ? b[b.length - 1].innerText : ''; }"
    )


def wait_until_streaming(page, words: int = 3) -> str:
    """Wait until the last answer shows at least `words` words of streamed text; return that text."""
    page.wait_for_function(
        "n => { const b = document.querySelectorAll('#chat [data-testid=\"bot\"]');"
        " const t = b.length ? b[b.length - 1].innerText.trim() : '';"
        " return !t.includes('Looking through') && t.split(/\\s+/).length >= n; }",
        arg=words,
        timeout=WAIT_MS,
    )
    return last_bot_text(page)
