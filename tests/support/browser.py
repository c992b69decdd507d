"""The browser tests' shared parts: `advisor serve` (or another command) on a free loopback port over a copy of
an index (`server`, `slow_server`: one per test module), Debian's headless Chromium (`browser`: one per test
module, a fresh context per test), axe-core, opening the page at a size, asking, and waiting for conditions (every wait
has a generous ceiling, never a fixed pause before an assertion). Screenshots go to test-output/."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path

import pytest

from advisor.evaluation.servers import free_port, wait_for_port
from support.corpus import ROOT

# Debian's chromium-headless-shell: the same Blink engine as the browser without its window and UI layers. Three page
# loads and answers cost its processes 5.1-6.4 CPU-seconds against 6.8-9.0 for `chromium --headless` (Dec 2026).
CHROMIUM = Path("/usr/bin/chromium-headless-shell")
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
OUTPUT = ROOT / "test-output"
AXE_VERSION = "4.14.1"
SLOW_SERVER = Path(__file__).parent / "ui_slow_server.py"


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
        "TMPDIR": str(tmp),  # the server's exports and Gradio's cache stay with the test, not in /tmp
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
def server(built, tmp_path_factory):
    """`advisor serve` on a free loopback port, over a copy of the session's corpus and index, for the tests
    of a module that ask, rate and export (each in its own browser context); a test that changes the corpus
    or the index starts its own."""
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make test` installs it (apt-get install -y chromium-headless-shell)")
    tmp = tmp_path_factory.mktemp("ui")
    proc, url, log = serve_ui(tmp, built=built)
    yield {"url": url, "corpus": tmp / "corpus", "data": tmp / "index", "log": log}
    stop_server(proc)


@pytest.fixture(scope="module")
def slow_server(built, tmp_path_factory):
    """The UI over an Advisor whose generator streams the usual answer one word every 0.4 s
    (tests/support/ui_slow_server.py); `progress` logs each word sent and how each answer ended, so the tests
    of a module share it by asking their own questions (`progress_of` tells them apart)."""
    tmp = tmp_path_factory.mktemp("ui-slow")
    progress = tmp / "progress.jsonl"
    proc, url, log = serve_ui(tmp, [sys.executable, str(SLOW_SERVER), "0.4", str(progress)], built)
    yield {"url": url, "data": tmp / "index", "log": log, "progress": progress}
    stop_server(proc)


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module (each test opens its own context: no shared cookies or storage).

    Not per session: Playwright's sync API keeps an event loop running in the worker while it is open, and a
    later test in the same worker that calls `asyncio.run` (tests/integration/test_chains.py) then fails."""
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


@pytest.fixture(params=["desktop", "phone"])
def sized(request, browser, server):
    context, page = open_page(browser, server["url"], request.param)
    page.size = request.param
    yield page
    assert not page.errors, page.errors
    context.close()


@pytest.fixture
def page(browser, server):
    context, page = open_page(browser, server["url"])
    page.size = "desktop"
    yield page
    assert not page.errors, page.errors
    context.close()


@pytest.fixture(scope="session")
def axe_source() -> str:
    """axe-core from the npm registry (`npm pack`, once, into test-output/)."""
    target = OUTPUT / f"axe-core-{AXE_VERSION}" / "axe.min.js"
    if not target.exists():
        folder = target.parent
        folder.mkdir(parents=True, exist_ok=True)
        done = subprocess.run(
            ["npm", "pack", f"axe-core@{AXE_VERSION}", "--silent"], cwd=folder, capture_output=True, text=True
        )
        if done.returncode:
            pytest.fail(f"npm pack axe-core failed: {done.stderr.strip()[-500:]}")
        with tarfile.open(folder / done.stdout.strip().splitlines()[-1]) as tar:
            member = tar.getmember("package/axe.min.js")
            target.write_bytes(tar.extractfile(member).read())
    return target.read_text()


def axe(page, axe_source: str) -> list[dict]:
    """axe-core's violations on the page as it is: id, impact and the nodes with their messages."""
    page.add_script_tag(content=axe_source)
    found = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
        ".map(v => ({id: v.id, impact: v.impact, nodes: v.nodes.map(n => n.target.join(' ') + ': '"
        " + (n.any[0] || n.all[0] || {}).message)}))"
    )
    OUTPUT.mkdir(exist_ok=True)
    return found


def shot(page, name: str) -> None:
    OUTPUT.mkdir(exist_ok=True)
    page.screenshot(path=str(OUTPUT / f"ui-{name}-{page.size}.png"))


def answered(page, n: int, timeout: float = WAIT_MS) -> None:
    """Wait until the chat shows `n` finished answers and the sources panel one group per answer."""
    page.wait_for_function(
        "n => document.querySelectorAll('#chat .answer').length === n"
        " && document.querySelectorAll('#sources .src-group').length === n",
        arg=n,
        timeout=timeout,
    )
    page.wait_for_timeout(300)


def ask(page, question: str, timeout: float = WAIT_MS) -> str:
    n = page.locator("#chat .answer").count()
    page.fill("#question textarea", question)
    page.click("#ask")
    answered(page, n + 1, timeout)
    return page.locator("#chat .answer").last.inner_text()


def in_view(page, selector: str) -> bool:
    """True when the element's box lies inside the viewport (and inside any scrolled ancestor)."""
    return page.evaluate(
        """sel => { const el = document.querySelector(sel); if (!el) return false;
        const r = el.getBoundingClientRect(); if (r.height === 0) return false;
        if (r.top < 0 || r.top > innerHeight - 20) return false;
        for (let n = el.parentElement; n; n = n.parentElement) {
          const s = getComputedStyle(n); if (!/(auto|scroll|hidden)/.test(s.overflowY)) continue;
          const b = n.getBoundingClientRect(); if (r.top < b.top - 1 || r.top > b.bottom - 10) return false; }
        return true; }""",
        selector,
    )


def feedback_records(server) -> list[dict]:
    path = server["data"] / "feedback.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def wait_for(predicate, timeout: float = WAIT_MS / 1000):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    return predicate()


SLOW_QUESTION = "Should I become an AI architect? I have 2 years of experience and love coding"
TABLE_QUESTION = "What does an AI architect with 5-8 years earn in India?"
XSS_DOC = """---
title: Zephyr notes
kind: article
---

# Zephyr notes

## Zephyr certification

The Zephyr certification path is recommended for aspiring AI architects who work on edge inference.
A trap for the page: <script>window.__xss = 1</script> and <img src=x onerror="window.__xss = 2"> stay text.
"""


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
