"""The UI behind its login (`ADVISOR_AUTH`), on one real server for the module whose only operator is someone
else (`ADVISOR_OPERATORS`): nothing but the login page answers a stranger, a user who is not an operator sees no
operator controls and cannot reindex through the API, and wrong passwords are slowed down. The throttling test
runs last: it leaves the user locked out (a successful login clears a client's and a user's failures, so the
tests before it leave it a clean record)."""

from __future__ import annotations

import json
import re

import httpx
import pytest
from support.browser import DESKTOP, TABLE_QUESTION, ask, serve_ui, shot, stop_server

from advisor.apps.throttle import FREE

pytestmark = pytest.mark.browser
USER, PASSWORD = "ann", "s3cret-pw"


@pytest.fixture(scope="module")
def auth_server(built, tmp_path_factory):
    """`advisor serve` with login on, over a copy of the session's index; ann may log in, olga operates."""
    tmp = tmp_path_factory.mktemp("ui-auth")
    proc, url, log = serve_ui(tmp, built=built, ADVISOR_AUTH=f"{USER}:{PASSWORD}", ADVISOR_OPERATORS="olga")
    yield {"url": url, "corpus": tmp / "corpus", "data": tmp / "index", "log": log}
    stop_server(proc)
    assert "Traceback" not in log.read_text()


def log_in(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector("input[type='password']")
    page.fill("input[type='text']", USER)
    page.fill("input[type='password']", PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_selector("#conversations label")


def test_with_login_nothing_but_the_login_page_answers(browser, auth_server):
    url = auth_server["url"]
    with httpx.Client(base_url=url, timeout=30) as anon:
        page = anon.get("/")
        assert page.status_code == 200
        assert "gradio_api_info = null" in page.text and "named_endpoints" not in page.text
        assert '"/ask"' not in page.text and "ask" not in re.findall(r'"api_name":\s*"(\w+)"', page.text)
        refused = {
            "GET /openapi.json": anon.get("/openapi.json"),
            "GET /gradio_api/openapi.json": anon.get("/gradio_api/openapi.json"),
            "GET /gradio_api/info": anon.get("/gradio_api/info"),
            "GET /config": anon.get("/config"),
            "POST /gradio_api/cancel": anon.post("/gradio_api/cancel", json={"session_hash": "x", "fn_index": 0}),
            "POST /gradio_api/reset": anon.post("/gradio_api/reset", json={"session_hash": "x", "fn_index": 0}),
            "POST /gradio_api/queue/join": anon.post("/gradio_api/queue/join", json={}),
            "GET /gradio_api/file=/etc/hostname": anon.get("/gradio_api/file=/etc/hostname"),
        }
        wrong = {k: r.status_code for k, r in refused.items() if r.status_code not in (401, 403, 404)}
        assert not wrong, wrong
        assert anon.post("/login", data={"username": USER, "password": "wrong"}).status_code in (400, 401)
    with httpx.Client(base_url=url, timeout=30) as ann:
        assert ann.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        assert ann.get("/config").status_code == 200
        assert ann.get("/gradio_api/info").status_code == 200
    context = browser.new_context(viewport=DESKTOP)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector("input[type='password']")
    page.size = "desktop"
    shot(page, "login")
    log_in(page, url)
    ask(page, "What does a staff AI engineer own?")
    context.close()


def test_operator_controls_are_shown_to_operators_only(browser, auth_server):
    """Issue 20.11: "Passages per answer" and "Update from the corpus folder" were shown to every user (a loopback
    server without ADVISOR_OPERATORS shows them to its users: test_ui_chat.py)."""
    context = browser.new_context(viewport=DESKTOP)
    ann = context.new_page()
    log_in(ann, auth_server["url"])
    ask(ann, TABLE_QUESTION)  # the page's load and its later steps came first
    ann.click("#know-panel button")
    ann.wait_for_selector("#knowledge")
    assert ann.locator("#k").count() == 0 or ann.locator("#k").is_hidden()
    assert ann.locator("#reindex").count() == 0 or ann.locator("#reindex").is_hidden()
    assert ann.locator("#export").is_visible()  # the rest of that row stays
    context.close()


def test_a_user_who_is_not_an_operator_cannot_reindex(built, auth_server):
    """Anyone who reached the page could trigger a reindex through the `on_reindex` API."""
    (auth_server["corpus"] / "zephyr.md").write_text("# Zephyr notes\n\n## Start\n\nZephyr routes start at dawn.\n")
    with httpx.Client(base_url=auth_server["url"], timeout=60) as ann:
        assert ann.post("/login", data={"username": USER, "password": PASSWORD}).status_code == 200
        call = ann.post("/gradio_api/call/on_reindex", json={"data": []})
        assert call.status_code == 200, call.text
        events = ann.get(f"/gradio_api/call/on_reindex/{call.json()['event_id']}", timeout=300).text
    assert "event: complete" in events and "is for an operator" in events, events[:500]
    manifest = json.loads((auth_server["data"] / "manifest.json").read_text())
    assert set(manifest["sources"]) == set(json.loads((built.data_dir / "manifest.json").read_text())["sources"])


def test_repeated_wrong_passwords_are_slowed_down_on_the_real_server(auth_server):
    """200 wrong passwords were each checked at once (3 s in all). Last in the module: it locks the user out."""
    with httpx.Client(base_url=auth_server["url"], timeout=30) as guesser:
        guesses = [{"username": USER, "password": f"guess{i}"} for i in range(20)]
        codes = [guesser.post("/login", data=guess).status_code for guess in guesses]
        assert codes[:FREE] == [codes[0]] * FREE and codes[0] in (400, 401)
        assert codes.count(429) >= 20 - FREE - 1
        refused = guesser.post("/login", data={"username": USER, "password": PASSWORD})
        assert refused.status_code == 429 and "try again in" in refused.json()["detail"]
        assert int(refused.headers["retry-after"]) >= 1
    assert "Traceback" not in auth_server["log"].read_text()
