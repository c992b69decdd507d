"""Issue 18: reliability and security round 3, on the real UI server (and Chromium): no slow-down by one user,
forged ratings refused, logins throttled, reindex for operators only, abandoned answers stopped. The pure rules
are in tests/unit/test_reliability.py, the real index's in tests/integration/test_reliability_index.py."""

from __future__ import annotations

import json
import threading
import time

import httpx
import pytest
from support.browser import SLOW_QUESTION, open_page, progress_of, wait_for, wait_until_streaming
from support.reliability import EXCHANGE, HUGE, finishes


def call_ask(url: str, question: str, chat: list, timeout: float = 600, k: object = 5) -> str:
    """The `ask` API over raw HTTP, as any client can call it (`k` passages per answer): the answer's text."""
    body = json.dumps({"data": [question, chat, k, None]})
    call = httpx.post(f"{url}/gradio_api/call/ask", content=body, headers={"content-type": "application/json"})
    assert call.status_code == 200, call.text
    events = httpx.get(f"{url}/gradio_api/call/ask/{call.json()['event_id']}", timeout=timeout).text
    assert "event: complete" in events, events[:300]
    # a queued call gets `event: heartbeat` lines (data: null) first; the reply is the `complete` event's data
    reply = json.loads(events.split("event: complete", 1)[1].split("data: ", 1)[1].splitlines()[0])[0][-1]
    return reply["content"][0]["text"] if isinstance(reply["content"], list) else reply["content"]


@pytest.mark.browser
def test_four_huge_histories_do_not_stall_a_normal_question(server):
    """Four requests with 1 MB of history filled the four answer slots for an hour; a normal question waited."""
    url = server["url"]
    huge = [{"role": "user", "content": HUGE}, {"role": "assistant", "content": "An answer."}]
    hostile = [
        threading.Thread(target=call_ask, args=(url, "How much do they earn?", huge), daemon=True) for _ in range(4)
    ]
    for t in hostile:
        t.start()
    time.sleep(1)  # the four are queued first
    normal = finishes(lambda: call_ask(url, "What does a staff AI engineer own?", []), ceiling=90)
    assert "[1]" in normal
    for t in hostile:
        t.join(90)
        assert not t.is_alive()
    assert "Traceback" not in server["log"].read_text()


@pytest.mark.browser
def test_an_answer_stops_when_its_client_leaves(browser, slow_server):
    """A closed tab's answer must not draft on to the end, holding an answer slot for nobody (Gradio closes
    the answer's generator when its client leaves; the answer's worker then closes the model's stream)."""
    context, page = open_page(browser, slow_server["url"])
    page.fill("#question textarea", SLOW_QUESTION)
    page.click("#ask")
    wait_until_streaming(page)
    context.close()  # the client leaves
    ended = wait_for(lambda: [r for r in progress_of(slow_server, SLOW_QUESTION) if r["state"] != "streaming"], 60)
    assert [r["state"] for r in ended] == ["closed"], ended


def dependency(config: dict, trigger: str) -> tuple[int, int]:
    """(fn_index, trigger id) of the page's event handler for `trigger` (as the page itself calls it)."""
    for dep in config["dependencies"]:
        for target, event in dep["targets"]:
            if event == trigger:
                return dep["id"], target
    raise AssertionError(f"no {trigger} handler")


def call_event(url: str, fn_index: int, trigger: int, data: list, event_data: dict) -> list[dict]:
    """Call an event handler as the page does (queue/join, then its event stream); the messages."""
    session = f"s{time.monotonic_ns()}"
    body = {"data": data, "event_data": event_data, "fn_index": fn_index, "trigger_id": trigger}
    body["session_hash"] = session
    joined = httpx.post(f"{url}/gradio_api/queue/join", json=body, timeout=60)
    assert joined.status_code == 200, joined.text[:300]
    messages = []
    with httpx.stream("GET", f"{url}/gradio_api/queue/data", params={"session_hash": session}, timeout=120) as r:
        for line in r.iter_lines():
            if line.startswith("data: "):
                messages.append(json.loads(line[6:]))
                if messages[-1].get("msg") == "process_completed":
                    break
    return messages


@pytest.mark.browser
def test_a_forged_rating_is_refused_and_stores_nothing(server):
    """The like handler stored whatever the browser's store held, any size, for any answer id."""
    url = server["url"]
    fn_index, trigger = dependency(httpx.get(f"{url}/config").json(), "like")
    forged = {**EXCHANGE, "id": "forged", "comment": "c" * 5_000_000, "seal": "0" * 64}
    store = {"users": {"": {"current": "c1", "conversations": [{"id": "c1", "title": "", "exchanges": [forged]}]}}}
    messages = call_event(url, fn_index, trigger, [store, None], {"index": [1, 0], "value": "A", "liked": True})
    assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"], messages[-1]
    feedback = server["data"] / "feedback.jsonl"
    assert not feedback.exists() or "forged" not in feedback.read_text()
    assert "Traceback" not in server["log"].read_text()


@pytest.mark.browser
def test_a_bad_k_through_the_api_is_a_one_line_error(server):
    """k="abc" gave Gradio's generic error and a traceback in the log."""
    text = call_ask(server["url"], "What does a staff AI engineer own?", [], timeout=120, k="abc")
    assert "must be a whole number" in text and "\n" not in text
    assert "Traceback" not in server["log"].read_text()


def leave_after_start(url: str, server: dict, question: str) -> None:
    """Start an `ask` through the raw HTTP API, wait until its answer is being written, then disconnect."""
    body = json.dumps({"data": [question, [], 5, None]})
    with httpx.Client(timeout=120) as client:
        call = client.post(f"{url}/gradio_api/call/ask", content=body, headers={"content-type": "application/json"})
        assert call.status_code == 200, call.text
        with client.stream("GET", f"{url}/gradio_api/call/ask/{call.json()['event_id']}"):
            assert wait_for(lambda: progress_of(server, question), 120), "the answer never started"
    # leaving both contexts closes the connection: the client has gone


@pytest.mark.browser
def test_an_api_answer_stops_when_its_client_leaves(slow_server):
    """An `ask` API call whose client disconnected drafted on to its end, holding an answer slot for nobody."""
    # the browser test asked SLOW_QUESTION of this server; no capitalised name here: "Asked through the API: …" is
    # refused since e5 joined retrieval ("no passage mentions API", the name check reads the preamble too)
    question = f"Asked through the raw endpoint: {SLOW_QUESTION}"
    leave_after_start(slow_server["url"], slow_server, question)
    ended = wait_for(lambda: [r for r in progress_of(slow_server, question) if r["state"] != "streaming"], 120)
    assert [r["state"] for r in ended] == ["closed"], ended
    assert "Traceback" not in slow_server["log"].read_text()


@pytest.mark.browser
def test_abandoned_api_answers_free_their_slots_for_a_normal_question(slow_server):
    """Four abandoned `ask` calls filled the four answer slots until they had drafted to the end."""
    left = [f"Question {n} from a client that leaves: {SLOW_QUESTION}" for n in range(4)]
    leavers = [
        threading.Thread(target=leave_after_start, args=(slow_server["url"], slow_server, q), daemon=True) for q in left
    ]
    for t in leavers:
        t.start()
    for t in leavers:
        t.join(180)
    normal = finishes(lambda: call_ask(slow_server["url"], "What does a staff AI engineer own?", []), ceiling=300)
    assert normal.strip()
    for question in left:  # none of the four ran to its end
        states = [r["state"] for r in progress_of(slow_server, question) if r["state"] != "streaming"]
        assert states == ["closed"], (question, states)
