"""Issue 18: reliability and security round 3 — no slow-down by one user, no stale or forged data.

Pure rules first (no model, no index), then the real index, then real servers and Chromium.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx
import pytest
from support.browser import SLOW_QUESTION, open_page, progress_of, serve_ui, stop_server, wait_for, wait_until_streaming
from support.shared_index import DOCS as SHARED_DOCS

from advisor.apps.feedback import (
    MAX_COMMENT,
    FeedbackNotSaved,
    answer_key,
    append_record,
    current_feedback,
    feedback_record,
    save_feedback,
    seal,
    sealed,
)
from advisor.apps.throttle import FREE, LOCK_AFTER, LOCK_SECONDS, LoginThrottle
from advisor.apps.ui.answering import answer_while_present
from advisor.apps.ui.api import parse_k
from advisor.apps.ui.auth import _secret as ui_secret
from advisor.apps.ui.auth import may_reindex
from advisor.apps.ui.records import clean_stale_exports
from advisor.indexing import CorpusIndex
from advisor.ingest.load import load_document
from advisor.pipeline import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, MAX_TURN_CHARS, Advisor, InvalidQuestion, cap_history
from advisor.profile import mentions
from advisor.schema import Answer, Profile, Turn
from advisor.settings import Settings
from advisor.store.versions import owns, writer_origin
from advisor.text import cited_numbers, neutral_markers

BIN = Path(sys.executable).parent
HUGE = "AI architect " * 80_000  # 1 MB of subject mentions: condensing it took about an hour


# -- 1. one user cannot stall everyone ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("turns", "kept", "notices"),
    [
        ([("user", "a"), ("assistant", "b")], [("user", "a"), ("assistant", "b")], 0),
        ([("user", "word " * 2000)], [("user", ("word " * 2000)[:MAX_TURN_CHARS].rsplit(" ", 1)[0])], 1),
        ([("user", "x" * (MAX_TURN_CHARS + 1))], [("user", "x" * MAX_TURN_CHARS)], 1),
        (  # the total: the most recent turns are kept
            [("user", f"{i} " + "y" * (MAX_TURN_CHARS - 10)) for i in range(MAX_HISTORY_CHARS // MAX_TURN_CHARS + 3)],
            MAX_HISTORY_CHARS // (MAX_TURN_CHARS - 10 + 2),
            1,
        ),
        ([("user", "q"), ("assistant", "a")] * MAX_HISTORY_TURNS, MAX_HISTORY_TURNS, 1),  # the number of turns
    ],
)
def test_history_is_capped_per_turn_and_in_total_with_a_notice(turns, kept, notices):
    capped, said = cap_history([Turn(r, c) for r, c in turns])
    if isinstance(kept, int):
        assert len(capped) == kept and capped == [Turn(r, c) for r, c in turns][-kept:]
    else:
        assert capped == [Turn(r, c) for r, c in kept]
    assert len(said) == notices
    assert sum(len(t.content) for t in capped) <= MAX_HISTORY_CHARS
    assert all("\n" not in n for n in said)


CHEF = Profile(subjects=("pastry chef", "chef", "sous chef"), synonyms=(("pc", "pastry chef"),))


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a pastry chef and a chef", [("pastry chef", ""), ("chef", "")]),
        ("vegan pastry chefs", [("pastry chef", "vegan")]),
        ("chef chef", [("chef chef", "")]),  # the second swallows the first (qualifiers are subject words)
        ("ask a pc or a sous chef", [("pastry chef", ""), ("sous chef", "")]),
        ("pc chef", [("chef", "pc")]),  # an alias in front of a head noun is part of that mention
    ],
)
def test_mentions_are_found_as_before(text, found):
    assert [(m.subject, m.qualifier) for m in mentions(text, CHEF)] == found


def test_mentions_of_a_long_text_are_all_found_each_once():
    text = "a pastry chef, " * 5000
    found = mentions(text, CHEF)
    assert len(found) == 5000 and {m.subject for m in found} == {"pastry chef"}
    assert all(a.end <= b.start for a, b in zip(found, found[1:], strict=False))


def finishes(fn, ceiling: float = 120.0):
    """Run `fn` in a thread; its result once it finishes, or fail when it is still working after `ceiling` s."""
    out: list = []
    worker = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    worker.start()
    worker.join(ceiling)
    assert out, f"still working after {ceiling:.0f} s"
    return out[0]


def test_a_megabyte_of_history_is_answered_with_a_notice(advisor):
    """A 1 MB history turn made condensing run for about an hour (quadratic in its subject mentions)."""
    history = [{"role": "user", "content": HUGE}, {"role": "assistant", "content": "An answer."}]
    answer = finishes(lambda: advisor.ask("How much do they earn?", history))
    assert not answer.refused and answer.cited
    assert any("only the first 4,000 were read" in n for n in answer.notices)


def call_ask(url: str, question: str, chat: list, timeout: float = 600) -> str:
    """The `ask` API over raw HTTP, as any client can call it: the answer's text."""
    body = json.dumps({"data": [question, chat, 5, None]})
    call = httpx.post(f"{url}/gradio_api/call/ask", content=body, headers={"content-type": "application/json"})
    assert call.status_code == 200, call.text
    events = httpx.get(f"{url}/gradio_api/call/ask/{call.json()['event_id']}", timeout=timeout).text
    assert "event: complete" in events, events[:300]
    # a queued call gets `event: heartbeat` lines (data: null) first; the reply is the `complete` event's data
    reply = json.loads(events.split("event: complete", 1)[1].split("data: ", 1)[1].splitlines()[0])[0][-1]
    return reply["content"][0]["text"] if isinstance(reply["content"], list) else reply["content"]


@pytest.mark.browser
def test_four_huge_histories_do_not_stall_a_normal_question(built, tmp_path):
    """Four requests with 1 MB of history filled the four answer slots for an hour; a normal question waited."""
    proc, url, log = serve_ui(tmp_path, built=built)
    try:
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
        assert "Traceback" not in log.read_text()
    finally:
        stop_server(proc)


@pytest.fixture
def slow(built, tmp_path):
    """The UI over a generator that streams one word every 0.4 s and logs each (tests/support/ui_slow_server.py)."""
    progress = tmp_path / "progress.jsonl"
    command = [sys.executable, str(Path(__file__).parents[1] / "support" / "ui_slow_server.py"), "0.4", str(progress)]
    proc, url, log = serve_ui(tmp_path, command, built)
    yield {"url": url, "progress": progress, "log": log}
    stop_server(proc)


@pytest.mark.browser
def test_an_answer_stops_when_its_client_leaves(browser, slow):
    """A closed tab's answer must not draft on to the end, holding an answer slot for nobody (Gradio closes
    the answer's generator when its client leaves; the answer's worker then closes the model's stream)."""
    context, page = open_page(browser, slow["url"])
    page.fill("#question textarea", SLOW_QUESTION)
    page.click("#ask")
    wait_until_streaming(page)
    context.close()  # the client leaves
    ended = wait_for(lambda: [r for r in progress_of(slow, SLOW_QUESTION) if r["state"] != "streaming"], 60)
    assert [r["state"] for r in ended] == ["closed"], ended


# -- 2. deletion follows the corpus, not the machine's name ----------------------------------------------------------

DOCS = {
    "alpha.md": "---\ntitle: Alpha guide\n---\n\n## Start\n\nThe alpha route starts with a workshop in Oslo.\n",
    "beta.md": "---\ntitle: Beta guide\n---\n\n## Start\n\nThe beta route starts with a quiz about glaciers.\n",
    "gamma.md": "---\ntitle: Gamma guide\n---\n\n## Start\n\nThe gamma route starts with a hike to a lighthouse.\n",
}


def small_index(root: Path, embedder, **overrides) -> Settings:
    corpus = root / "corpus"
    corpus.mkdir(parents=True)
    for name, text in DOCS.items():
        (corpus / name).write_text(text)
    settings = Settings.from_env({}, corpus_dir=corpus, data_dir=root / "index", **overrides)
    report = CorpusIndex(settings, embedder).update(progress=False)
    assert report.documents == len(DOCS)
    return settings


def served_sources(settings: Settings, embedder) -> set[str]:
    metas = CorpusIndex(settings, embedder).collection().get(include=["metadatas"])["metadatas"]
    return {m["source"] for m in metas}


@pytest.mark.parametrize("move", ["corpus folder", "data dir and corpus"])
def test_a_deleted_document_is_deleted_after_the_corpus_or_data_dir_moved(tmp_path, embedder, move):
    settings = small_index(tmp_path / "here", embedder)
    there = tmp_path / "there"
    shutil.move(settings.corpus_dir, there / "docs" if move == "corpus folder" else there / "corpus")
    if move == "corpus folder":
        moved = settings.with_(corpus_dir=there / "docs")
    else:
        shutil.move(settings.data_dir, there / "index")
        moved = settings.with_(corpus_dir=there / "corpus", data_dir=there / "index")
    (moved.corpus_dir / "beta.md").unlink()
    report = CorpusIndex(moved, embedder).update(progress=False)
    assert report.deleted == 1 and report.files_deleted == ["corpus/beta.md"]
    assert served_sources(moved, embedder) == {"corpus/alpha.md", "corpus/gamma.md"}
    assert CorpusIndex(moved, embedder).check() == []


def test_a_deleted_document_is_deleted_after_the_hostname_changed(tmp_path, embedder):
    """The probe: `unshare --uts` gives `advisor index` another hostname (as a container restart does)."""
    if subprocess.run(["unshare", "--uts", "--map-root-user", "true"], capture_output=True).returncode:
        pytest.skip("unshare --uts is not permitted here")
    settings = small_index(tmp_path, embedder)
    (settings.data_dir / "models").mkdir(exist_ok=True)
    shutil.copy(embedder.path, settings.data_dir / "models" / embedder.path.name)
    (settings.corpus_dir / "beta.md").unlink()
    script = f'hostname renamed-host && exec "{BIN / "advisor"}" index --json'
    env = {"ADVISOR_CORPUS_DIR": str(settings.corpus_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}
    command = ["unshare", "--uts", "--map-root-user", "sh", "-c", script]
    run = subprocess.run(command, env={**env, "PATH": "/usr/bin:/bin"}, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout)["deleted"] == 1
    assert served_sources(settings, embedder) == {"corpus/alpha.md", "corpus/gamma.md"}


@pytest.mark.server
def test_a_shared_writer_restored_elsewhere_deletes_its_documents_and_no_others(tmp_path, shared, embedder):
    """A writer of a shared Chroma server whose data dir and corpus moved (another path, as after a restore)."""
    writer, first = shared
    moved = tmp_path / "restored"
    shutil.copytree(writer.corpus_dir, moved / "corpus")
    shutil.copytree(writer.data_dir, moved / "index")
    restored = writer.with_(corpus_dir=moved / "corpus", data_dir=moved / "index")
    stranger = writer.with_(corpus_dir=tmp_path / "other" / "corpus", data_dir=tmp_path / "other" / "index")
    stranger.corpus_dir.mkdir(parents=True)
    shutil.copy(writer.corpus_dir / SHARED_DOCS[1], stranger.corpus_dir / SHARED_DOCS[1])
    assert CorpusIndex(stranger, embedder).update(progress=False).deleted == 0  # not its documents
    (restored.corpus_dir / SHARED_DOCS[0]).unlink()
    report = CorpusIndex(restored, embedder).update(progress=False)
    assert report.deleted > 0 and report.files_deleted == [f"corpus/{SHARED_DOCS[0]}"]
    assert served_sources(writer, embedder) == {f"corpus/{d}" for d in SHARED_DOCS[1:]}


@pytest.mark.parametrize(
    ("chroma_url", "chunk_origin", "owned"),
    [
        (None, "old-host:/srv/elsewhere", True),  # an embedded Chroma has one writer: every chunk is its own
        (None, "writer:someone", True),
        ("http://c:8000", "writer:me", True),
        ("http://c:8000", "writer:someone", False),  # another writer of the shared server
        ("http://c:8000", "renamed-host:/srv/corpus", True),  # written before writer ids, same corpus path
        ("http://c:8000", "writer-host:/srv/other", False),
        ("http://c:8000", None, False),
    ],
)
def test_who_may_delete_a_chunk(chroma_url, chunk_origin, owned):
    settings = Settings.from_env({}, corpus_dir=Path("/srv/corpus"), chroma_url=chroma_url, writer_id="me")
    assert owns(settings, writer_origin(settings), chunk_origin) is owned


def test_a_shared_writers_id_is_kept_in_its_data_dir_and_a_damaged_one_is_an_error(tmp_path):
    from advisor.store.reader import IndexUnavailable

    settings = Settings.from_env({}, data_dir=tmp_path, chroma_url="http://127.0.0.1:1")
    first = writer_origin(settings)
    assert first.startswith("writer:") and writer_origin(settings) == first
    assert writer_origin(settings.with_(writer_id="w1")) == "writer:w1"
    (tmp_path / "writer-id").write_text("")
    with pytest.raises(IndexUnavailable, match="writer-id is damaged"):
        writer_origin(settings)


# -- 3. a document's own [n] is never a citation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["as the survey [2] found", "[1](https://example.org) and [x][3]\n\n[3]: https://example.org", "[12] [0]"],
)
def test_a_documents_markers_are_inert_but_read_the_same(text):
    inert = neutral_markers(text)
    assert cited_numbers(inert) == [] and inert.replace("\u2060", "") == text


def test_loaded_documents_hold_no_markers(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("---\ntitle: Notes [1]\n---\n\n## Start\n\nSee the survey [2].\n")
    doc = load_document(path, "corpus/notes.md")
    assert cited_numbers(doc.title) == cited_numbers(doc.text) == []


def test_a_literal_marker_in_a_document_is_not_a_citation(tmp_path, embedder):
    """A document's "[2]" quoted in an answer was read as a citation of passage 2, another document."""
    settings = small_index(tmp_path, embedder)
    (settings.corpus_dir / "alpha.md").write_text(
        "---\ntitle: Alpha guide\n---\n\n## Start\n\nThe alpha route starts with a workshop in Oslo [2].\n"
    )
    CorpusIndex(settings, embedder).update(progress=False)
    answer = Advisor(settings, CorpusIndex(settings, embedder)).ask("Where does the alpha route start?", k=3)
    assert "workshop in Oslo" in answer.text and len(answer.passages) == 3
    alpha = next(p.rank for p in answer.passages if p.chunk.source == "corpus/alpha.md")
    assert answer.cited == [alpha], (answer.text, answer.cited)


# -- 4. feedback is bounded and only for answers this server gave ----------------------------------------------------

EXCHANGE = {
    "id": "a1",
    "question": "Q?",
    "answer": {
        "answer": "A [1].",
        "cited": [1],
        "refused": False,
        "passages": [{"rank": 1, "id": "c1", "source": "corpus/a.md", "text": "A."}],
    },
}


def test_only_an_unchanged_sealed_answer_counts_as_given_by_the_server():
    key = b"k" * 32
    given = {**EXCHANGE, "seal": seal(key, EXCHANGE)}
    assert sealed(key, given) and sealed(key, json.loads(json.dumps(given)))  # survives the browser's store
    assert not sealed(b"x" * 32, given)  # another server's
    assert not sealed(key, EXCHANGE)  # never sealed
    assert not sealed(key, {**given, "id": "a2"})
    assert not sealed(key, {**given, "answer": {**EXCHANGE["answer"], "answer": "Forged [1]."}})
    assert sealed(key, {**given, "rating": "up", "comment": "ok"})  # what the user adds is not sealed


def test_a_feedback_record_is_bounded_whatever_the_exchange_holds():
    huge = "x" * 10_000_000
    exchange = {**EXCHANGE, "comment": huge, "question": huge, "rating": "up"}
    exchange["answer"] = {**EXCHANGE["answer"], "answer": huge, "passages": [{"rank": 1, "text": huge}] * 50}
    record = feedback_record(exchange)
    assert len(record["comment"]) == MAX_COMMENT and len(json.dumps(record)) < 100_000


def test_the_answer_key_is_made_once_and_an_empty_one_is_replaced(tmp_path, caplog):
    path = tmp_path / "answer-key"
    key = answer_key(path)
    assert answer_key(path) == key and path.stat().st_mode & 0o777 == 0o600
    path.write_text("")
    fresh = answer_key(path)
    assert fresh != key and answer_key(path) == fresh and "empty or damaged" in caplog.text


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
def test_a_forged_rating_is_refused_and_stores_nothing(built, tmp_path):
    """The like handler stored whatever the browser's store held, any size, for any answer id."""
    proc, url, log = serve_ui(tmp_path, built=built)
    try:
        fn_index, trigger = dependency(httpx.get(f"{url}/config").json(), "like")
        forged = {**EXCHANGE, "id": "forged", "comment": "c" * 5_000_000, "seal": "0" * 64}
        store = {"users": {"": {"current": "c1", "conversations": [{"id": "c1", "title": "", "exchanges": [forged]}]}}}
        messages = call_event(url, fn_index, trigger, [store, None], {"index": [1, 0], "value": "A", "liked": True})
        assert messages[-1]["msg"] == "process_completed" and messages[-1]["success"], messages[-1]
        feedback = tmp_path / "index" / "feedback.jsonl"
        assert not feedback.exists() or "forged" not in feedback.read_text()
        assert "Traceback" not in log.read_text()
    finally:
        stop_server(proc)


# -- 5. a full disk neither corrupts feedback nor hides that a rating was lost ----------------------------------------

FULL_DISK = """
import json, resource, signal, sys
from pathlib import Path
from advisor.apps.feedback import FeedbackNotSaved, save_feedback
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit fails with EFBIG, as on a full disk
path, exchange = Path(sys.argv[1]), json.loads(sys.argv[2])
save_feedback(path, {**exchange, "id": "a1"})
resource.setrlimit(resource.RLIMIT_FSIZE, (path.stat().st_size + 40, resource.RLIM_INFINITY))
try:
    save_feedback(path, {**exchange, "id": "a2", "comment": "x" * 500})
    print("saved")
except FeedbackNotSaved as exc:
    print(f"not saved: {exc}")
resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
save_feedback(path, {**exchange, "id": "a3"})
"""


def test_a_rating_that_does_not_fit_leaves_no_partial_line_and_says_so(tmp_path):
    """A failed write left half a line, and the next rating was glued to it and lost."""
    path = tmp_path / "feedback.jsonl"
    exchange = json.dumps({**EXCHANGE, "rating": "up"})
    run = subprocess.run([sys.executable, "-c", FULL_DISK, str(path), exchange], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-1500:]
    assert run.stdout.strip() == "not saved: the feedback file is as large as the server allows"
    assert [json.loads(line)["answer_id"] for line in path.read_text().splitlines()] == ["a1", "a3"]


def test_a_torn_last_line_is_not_glued_to_the_next_record(tmp_path):
    path = tmp_path / "feedback.jsonl"
    save_feedback(path, {**EXCHANGE, "rating": "up"})
    with path.open("a") as f:
        f.write('{"answer_id": "torn", "rat')  # a crash mid-write
    save_feedback(path, {**EXCHANGE, "id": "a2", "rating": "down"})
    assert set(current_feedback(path)) == {"a1", "a2"}


def test_a_write_error_is_a_sentence_for_the_user(tmp_path):
    (tmp_path / "ro").mkdir()
    with pytest.raises(FeedbackNotSaved, match="cannot be written"):
        append_record(tmp_path / "ro", {"a": 1})  # a directory: cannot be opened for writing


# -- 7. failed logins slow down, then lock out -------------------------------------------------------------------------


def test_failed_logins_slow_down_then_lock_out_per_client_and_per_user():
    t = LoginThrottle()
    now = 1000.0
    for _ in range(FREE):
        assert t.wait("1.1.1.1", "ann", now) == 0
        assert t.failed("1.1.1.1", "ann", now) == []
    assert t.wait("1.1.1.1", "ann", now) == 1.0  # the next guess waits 1 s, then 2 s, 4 s ...
    assert t.wait("2.2.2.2", "ann", now) == 1.0  # per user, from any client
    assert t.wait("1.1.1.1", "bob", now) == 1.0  # per client, for any user
    assert t.wait("2.2.2.2", "bob", now) == 0
    locked: list[str] = []
    for _ in range(LOCK_AFTER - FREE):
        now += t.wait("1.1.1.1", "ann", now)
        locked += t.failed("1.1.1.1", "ann", now)
    assert locked == ["client 1.1.1.1", "user ann"]
    assert t.wait("3.3.3.3", "ann", now + 60) > 800 and t.wait("1.1.1.1", "cy", now + 60) > 800
    assert t.wait("1.1.1.1", "ann", now + LOCK_SECONDS + 1) == 0
    t.failed("4.4.4.4", "dan", now)
    t.succeeded("4.4.4.4", "dan")
    assert t.wait("4.4.4.4", "dan", now) == 0


@pytest.mark.browser
def test_repeated_wrong_passwords_are_slowed_down_on_the_real_server(built, tmp_path):
    """200 wrong passwords were each checked at once (3 s in all)."""
    proc, url, log = serve_ui(tmp_path, built=built, ADVISOR_AUTH="ann:s3cret-pw")
    try:
        with httpx.Client(base_url=url, timeout=30) as guesser:
            guesses = [{"username": "ann", "password": f"guess{i}"} for i in range(20)]
            codes = [guesser.post("/login", data=guess).status_code for guess in guesses]
            assert codes[:FREE] == [codes[0]] * FREE and codes[0] in (400, 401)
            assert codes.count(429) >= 20 - FREE - 1
            refused = guesser.post("/login", data={"username": "ann", "password": "s3cret-pw"})
            assert refused.status_code == 429 and "try again in" in refused.json()["detail"]
            assert int(refused.headers["retry-after"]) >= 1
        assert "Traceback" not in log.read_text()
    finally:
        stop_server(proc)


# -- 8. reindexing from the page is for an operator --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("host", "user", "operators", "allowed"),
    [
        ("127.0.0.1", "", None, True),
        ("localhost", "", None, True),
        ("::1", "", None, True),
        ("0.0.0.0", "", None, False),
        ("192.168.1.5", "ann", None, False),
        ("example.org", "", None, False),
        ("0.0.0.0", "ann", "ann, bob", True),
        ("127.0.0.1", "cy", "ann,bob", False),
        ("127.0.0.1", "", "ann", False),
    ],
)
def test_who_may_reindex_from_the_page(host, user, operators, allowed):
    assert may_reindex(host, user, operators) is allowed


@pytest.mark.browser
def test_a_user_who_is_not_an_operator_cannot_reindex(built, tmp_path):
    """Anyone who reached the page could trigger a reindex through the `on_reindex` API."""
    proc, url, log = serve_ui(tmp_path, built=built, ADVISOR_AUTH="ann:s3cret-pw", ADVISOR_OPERATORS="olga")
    try:
        (tmp_path / "corpus" / "zephyr.md").write_text("# Zephyr notes\n\n## Start\n\nZephyr routes start at dawn.\n")
        with httpx.Client(base_url=url, timeout=60) as ann:
            assert ann.post("/login", data={"username": "ann", "password": "s3cret-pw"}).status_code == 200
            call = ann.post("/gradio_api/call/on_reindex", json={"data": []})
            assert call.status_code == 200, call.text
            events = ann.get(f"/gradio_api/call/on_reindex/{call.json()['event_id']}", timeout=300).text
        assert "event: complete" in events and "is for an operator" in events, events[:500]
        manifest = json.loads((tmp_path / "index" / "manifest.json").read_text())
        assert set(manifest["sources"]) == set(json.loads((built.data_dir / "manifest.json").read_text())["sources"])
    finally:
        stop_server(proc)


# -- 10. small ones: an unreadable folder, a bad k, export leftovers ------------------------------------------------


def test_an_unreadable_folder_of_the_corpus_is_named_in_a_warning():
    """Its documents vanished without a word (run as an unprivileged user: root reads any folder)."""
    if os.geteuid() != 0 or not shutil.which("setpriv"):
        pytest.skip("needs root to run the scan as another user")
    root = Path(tempfile.mkdtemp(prefix="advisor-perm-"))
    try:
        corpus = root / "corpus"
        (corpus / "locked").mkdir(parents=True)
        (corpus / "a.md").write_text("# A\n\nAlpha.\n")
        (corpus / "locked" / "b.md").write_text("# B\n\nBeta.\n")
        root.chmod(0o755)
        (corpus / "locked").chmod(0o000)
        script = "import sys, json; from pathlib import Path; from advisor.ingest.load import load_corpus; "
        script += "docs, warnings = load_corpus(Path(sys.argv[1])); "
        script += "print(json.dumps([[d.source for d in docs], warnings]))"
        as_nobody = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", sys.executable, "-c", script]
        run = subprocess.run([*as_nobody, str(corpus)], capture_output=True, text=True, timeout=120)
        assert run.returncode == 0, run.stderr[-1500:]
        docs, warnings = json.loads(run.stdout)
        assert docs == ["corpus/a.md"]
        assert warnings == ["skipped corpus/locked/: the folder cannot be read (Permission denied)"]
    finally:
        (root / "corpus" / "locked").chmod(0o755)
        shutil.rmtree(root)


@pytest.mark.parametrize(
    ("value", "k"),
    [(None, 5), ("", 5), (3, 3), (3.0, 3), ("7", 7), ("abc", None), (0, None), (2.5, None), (True, None)],
)
def test_passages_per_answer_is_a_whole_number_or_a_one_line_error(value, k):
    if k is None:
        with pytest.raises(InvalidQuestion, match="must be a whole number from 1 to 20"):
            parse_k(value, 5)
    else:
        assert parse_k(value, 5) == k


@pytest.mark.browser
def test_a_bad_k_through_the_api_is_a_one_line_error(server_for_k):
    """k="abc" gave Gradio's generic error and a traceback in the log."""
    url, log = server_for_k
    body = json.dumps({"data": ["What does a staff AI engineer own?", [], "abc", None]})
    call = httpx.post(f"{url}/gradio_api/call/ask", content=body, headers={"content-type": "application/json"})
    assert call.status_code == 200, call.text
    events = httpx.get(f"{url}/gradio_api/call/ask/{call.json()['event_id']}", timeout=120).text
    assert "event: complete" in events, events[:500]
    # a queued call gets `event: heartbeat` lines (data: null) first; the reply is the `complete` event's data
    reply = json.loads(events.split("event: complete", 1)[1].split("data: ", 1)[1].splitlines()[0])[0][-1]
    text = reply["content"][0]["text"] if isinstance(reply["content"], list) else reply["content"]
    assert "must be a whole number" in text and "\n" not in text
    assert "Traceback" not in log.read_text()


@pytest.fixture
def server_for_k(built, tmp_path):
    proc, url, log = serve_ui(tmp_path, built=built)
    yield url, log
    stop_server(proc)


def test_export_folders_of_servers_that_are_gone_are_removed(tmp_path):
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True)
    gone = tmp_path / f"advisor-exports-{dead.stdout.strip()}-abc"
    alive = tmp_path / f"advisor-exports-{os.getpid()}-def"
    for folder in (gone, alive):
        (folder / "advisor-export-x").mkdir(parents=True)
        (folder / "advisor-export-x" / "conversation.md").write_text("# Q")
    assert clean_stale_exports(tmp_path) == 1
    assert not gone.exists() and alive.exists()


# -- 6. the browser store's key survives restarts, or the log says why not --------------------------------------------


@pytest.mark.parametrize("content", ["", "  \n", "short"])
def test_an_empty_or_damaged_ui_secret_is_replaced_once_and_logged(tmp_path, caplog, content):
    """An empty key file meant a new random key at every start: every restart orphaned every conversation."""
    settings = Settings.from_env({}, data_dir=tmp_path)
    (tmp_path / "ui-secret").write_text(content)
    first = ui_secret(settings)
    assert len(first) >= 16 and "empty or damaged" in caplog.text
    caplog.clear()
    assert ui_secret(settings) == first and (tmp_path / "ui-secret").read_text() == first  # the next start
    assert "ui-secret" not in caplog.text


def test_a_ui_secret_that_cannot_be_kept_is_an_error_in_the_log(tmp_path, caplog):
    settings = Settings.from_env({}, data_dir=tmp_path / "file")
    (tmp_path / "file").write_text("a file where the data dir should be")
    assert len(ui_secret(settings)) >= 16
    assert "conversations are lost at every restart" in caplog.text


# -- 9. --check --deep compares contents, not only ids and counts ------------------------------------------------------


def _damage(settings: Settings, embedder, kind: str) -> None:
    """Damage one part of a built index in place, as the probe did."""
    import numpy as np

    index = CorpusIndex(settings, embedder)
    col = index.collection()
    got = col.get(include=["documents", "metadatas", "embeddings"], limit=1)
    uid, doc, meta, vector = got["ids"][0], got["documents"][0], got["metadatas"][0], np.asarray(got["embeddings"][0])
    if kind == "sentence vectors blanked in Chroma":
        col.update(ids=[uid], metadatas=[{**meta, "sentence_vectors": ""}], embeddings=[vector], documents=[doc])
    elif kind == "text changed in place":
        changed = doc.replace("starts", "ends")  # a claim changed, the sentences the same
        assert changed != doc
        col.update(ids=[uid], documents=[changed], embeddings=[vector], metadatas=[meta])
    elif kind == "vector changed in place":
        other = np.random.default_rng(0).standard_normal(len(vector)).astype(np.float32)
        col.update(ids=[uid], embeddings=[other], documents=[doc], metadatas=[meta])
    elif kind == "zeroed vector in the snapshot cache":
        path = settings.data_dir / "sentences.npz"
        with np.load(path) as f:
            vectors, owner = f["vectors"].copy(), f["owner"]
        vectors[0] = 0
        np.savez(path, vectors=vectors, owner=owner)
    elif kind == "manifest edited":
        path = settings.data_dir / "manifest.json"
        manifest = json.loads(path.read_text())
        path.write_text(json.dumps({**manifest, "chunks": manifest["chunks"] + 1}))


@pytest.mark.parametrize(
    ("kind", "said"),
    [
        ("sentence vectors blanked in Chroma", "is damaged (chunk"),
        ("text changed in place", "hold other text than their ids say"),
        ("vector changed in place", "not the model's vectors of their text"),
        ("zeroed vector in the snapshot cache", "snapshot cache"),
        ("manifest edited", "says other chunks than the index"),
    ],
)
def test_check_deep_finds_damage_that_counts_do_not_show(tmp_path, embedder, kind, said):
    """`--check` said "consistent" about damage `ask` then refused."""
    settings = small_index(tmp_path, embedder)
    assert CorpusIndex(settings, embedder).check(deep=True) == []
    _damage(settings, embedder, kind)
    problems = CorpusIndex(settings, embedder).check(deep=True)
    assert any(said in p for p in problems) and all("advisor index --full" in p for p in problems), problems


# -- 5. indexing on a full disk says so --------------------------------------------------------------------------------


def test_indexing_on_a_full_disk_says_disk_full(built, tmp_path):
    """The probe got "internal error: InternalError: Error in compaction: Failed to apply logs to the metadata
    segment". Here the data dir is a tmpfs with about 1.5 MB left once the model is in (a mount namespace)."""
    if os.geteuid() != 0 or subprocess.run(["unshare", "--mount", "true"], capture_output=True).returncode:
        pytest.skip("needs root and unshare --mount to mount a small tmpfs")
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    shutil.copytree(built.corpus_dir, corpus)
    data.mkdir()
    parts = [built.data_dir / "models", built.data_dir / "tiktoken"]
    used = sum(f.stat().st_size for part in parts for f in part.rglob("*") if f.is_file())
    size_kb = used // 1024 + 1536
    script = (
        f"set -e; mount -t tmpfs -o size={size_kb}k tmpfs {data}; cp -r {' '.join(map(str, parts))} {data}/; "
        f"exec {BIN / 'advisor'} index"
    )
    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(corpus), "ADVISOR_DATA_DIR": str(data)}
    command = ["unshare", "--mount", "sh", "-c", script]
    run = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 2, (run.returncode, run.stderr[-1500:])
    said = run.stderr.strip().splitlines()[-1]
    assert said.startswith("advisor: error: disk full:") and "Traceback" not in run.stderr, run.stderr[-1500:]


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
def test_an_api_answer_stops_when_its_client_leaves(slow):
    """An `ask` API call whose client disconnected drafted on to its end, holding an answer slot for nobody."""
    leave_after_start(slow["url"], slow, SLOW_QUESTION)
    ended = wait_for(lambda: [r for r in progress_of(slow, SLOW_QUESTION) if r["state"] != "streaming"], 120)
    assert [r["state"] for r in ended] == ["closed"], ended
    assert "Traceback" not in slow["log"].read_text()


@pytest.mark.browser
def test_abandoned_api_answers_free_their_slots_for_a_normal_question(slow):
    """Four abandoned `ask` calls filled the four answer slots until they had drafted to the end."""
    left = [f"Question {n} from a client that leaves: {SLOW_QUESTION}" for n in range(4)]
    leavers = [threading.Thread(target=leave_after_start, args=(slow["url"], slow, q), daemon=True) for q in left]
    for t in leavers:
        t.start()
    for t in leavers:
        t.join(180)
    normal = finishes(lambda: call_ask(slow["url"], "What does a staff AI engineer own?", []), ceiling=300)
    assert normal.strip()
    for question in left:  # none of the four ran to its end
        states = [r["state"] for r in progress_of(slow, question) if r["state"] != "streaming"]
        assert states == ["closed"], (question, states)


def test_an_answer_is_abandoned_once_its_client_leaves():
    """`answer_while_present` stops reading and closes the stream as soon as `left()` is true."""
    closed: list[bool] = []

    def stream():
        try:
            for n in range(1000):
                yield f"word{n} "
        finally:
            closed.append(True)

    asked = iter([False, False, True])
    assert answer_while_present(stream(), lambda: next(asked, True)) is None
    assert wait_for(lambda: closed, 30) == [True]


def test_an_answer_is_returned_to_a_client_that_stays():
    answer = object.__new__(Answer)
    assert answer_while_present(iter(["a ", "b ", answer]), lambda: False) is answer
    with pytest.raises(RuntimeError):
        answer_while_present(iter(["a "]), lambda: False)
