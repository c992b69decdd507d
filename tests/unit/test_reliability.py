"""Issue 18: reliability and security round 3 — no slow-down by one user, no stale or forged data.

The pure rules (no model, index, server or browser); on a real index in tests/integration/test_reliability_index.py,
on the real UI server in tests/browser/test_reliability_ui.py.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from support.browser import wait_for
from support.reliability import EXCHANGE

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
from advisor.ingest.load import load_document
from advisor.pipeline import MAX_HISTORY_CHARS, MAX_HISTORY_TURNS, MAX_TURN_CHARS, InvalidQuestion, cap_history
from advisor.profile import mentions
from advisor.schema import Answer, Profile, Turn
from advisor.settings import Settings
from advisor.store.versions import owns, writer_origin
from advisor.text import cited_numbers, neutral_markers

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


# -- 2. deletion follows the corpus, not the machine's name ----------------------------------------------------------


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


# -- 4. feedback is bounded and only for answers this server gave ----------------------------------------------------


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
