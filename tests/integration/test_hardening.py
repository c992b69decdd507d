"""Hostile and broken input (issue 9): every question gets an answer or a refusal; bad input gets one
clear line; corpus files that must not be read (links out, oversize files) are skipped and named once.

Property tests (hypothesis) over `Advisor.ask` and the `--history` parser live here too; the loader's
are in tests/test_load.py.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from support.corpus import ROOT, copy_index

from advisor.apps.cli import UsageError, read_history
from advisor.indexing import CorpusIndex
from advisor.ingest.load import load_corpus
from advisor.pipeline import Advisor, InvalidHistory, InvalidQuestion, parse_history
from advisor.schema import Answer, Turn
from advisor.text import cited_numbers

ADVISOR = str(Path(sys.executable).parent / "advisor")
OTHER_CORPUS = ROOT / "evals" / "corpora" / "other-careers" / "corpus"


def assert_answer_or_refusal(answer: Answer) -> None:
    """A finished answer: text, and either a refusal citing nothing or markers that all name a passage."""
    assert isinstance(answer, Answer) and answer.text.strip()
    if answer.refused:
        assert answer.cited == []
    else:
        assert answer.cited and answer.cited == cited_numbers(answer.text)
        assert all(1 <= n <= len(answer.passages) for n in answer.cited)


# -- questions built from the corpus itself (the crash of point 2) ------------------------------------
def corpus_questions(corpus: Path, n: int, seed: int) -> list[str]:
    """`n` questions made of the corpus's own headings and sentences, in several phrasings."""
    docs, _ = load_corpus(corpus)
    headings, sentences = [], []
    for d in docs:
        for line in d.text.splitlines():
            line = line.strip()
            if line.startswith("#"):
                headings.append(line.lstrip("#").strip())
            elif len(line.split()) >= 4:
                sentences += [s for s in re.split(r"(?<=[.!?])\s+", line.lstrip("-*> ").strip()) if len(s) > 12]
    rng = random.Random(seed)
    forms = [
        lambda h: h,
        lambda h: f"{h}?",
        lambda h: f"What about {h.lower()}?",
        lambda h: f"How to get {h.lower()}?",
        lambda h: f"Tell me more about {h}",
    ]
    questions = [f(h) for h in headings for f in forms]
    for s in sentences:
        words = s.rstrip(".!?").split()
        questions += [s, " ".join(words[: rng.randint(3, 9)]) + "?", f"Is it true that {s[0].lower()}{s[1:]}"]
    rng.shuffle(questions)
    return questions[:n]


@pytest.fixture(scope="module")
def other_advisor(other_template, tmp_path_factory, embedder) -> Advisor:
    """A real advisor over a copy of the second corpus's index (other careers)."""
    settings = copy_index(other_template, tmp_path_factory.mktemp("other"))
    return Advisor(settings, CorpusIndex(settings, embedder))


def test_hundreds_of_corpus_questions_all_get_an_answer_or_a_refusal(advisor):
    questions = corpus_questions(ROOT / "corpus", 500, seed=9)
    assert len(questions) == 500
    answers = [advisor.ask(q) for q in questions]  # any exception fails the test, naming the question
    for a in answers:
        assert_answer_or_refusal(a)
    assert sum(not a.refused for a in answers) > len(answers) / 2  # the corpus does answer its own sentences


def test_questions_from_the_second_corpus_all_get_an_answer_or_a_refusal(other_advisor):
    questions = corpus_questions(OTHER_CORPUS, 300, seed=10)
    assert len(questions) == 300
    history: list[dict] = []
    for q in questions:
        answer = other_advisor.ask(q, history[-4:])  # as a running conversation: follow-ups are condensed
        assert_answer_or_refusal(answer)
        history += [{"role": "user", "content": q}, {"role": "assistant", "content": answer.text}]


# -- Advisor.ask with bad arguments (point 9) ------------------------------------------------------------
@pytest.mark.parametrize(
    ("question", "history", "message"),
    [
        (123, [], "must be text, not int"),
        (b"What do AI architects earn?", [], "must be text, not bytes"),
        (["What"], [], "must be text, not list"),
        ("\udcff architects?", [], "not valid text"),
        ("What do AI architects earn?", ["hi", "there"], "history turn 1 must be"),
        ("What do AI architects earn?", "hi", "must be a list"),
        ("What do AI architects earn?", {"role": "user", "content": "x"}, "must be a list"),
        ("What do AI architects earn?", [{"role": "system", "content": "x"}], "history turn 1 must be"),
        ("What do AI architects earn?", [{"role": "user", "content": 5}], "history turn 1 must be"),
        ("And in India?", [{"role": "user", "content": "ok"}, {"role": "user", "content": "\ud800"}], "turn 2"),
    ],
)
def test_bad_arguments_to_ask_give_one_clear_error(advisor, question, history, message):
    with pytest.raises(InvalidQuestion, match=re.escape(message)) as err:
        advisor.ask(question, history)
    assert "\n" not in str(err.value)


def test_history_accepts_turns_and_mappings():
    turns = parse_history([Turn("user", "a"), {"role": "assistant", "content": "b"}])
    assert turns == [Turn("user", "a"), Turn("assistant", "b")]
    assert parse_history(None) == [] and parse_history(()) == []


# -- the CLI: exit 2 and one line ------------------------------------------------------------------------------
def run_cli(args: list, tmp_path: Path, **env) -> subprocess.CompletedProcess:
    """`advisor ...` with its data under tmp_path (bad input must fail before any index work)."""
    environment = {
        **os.environ,
        "ADVISOR_DATA_DIR": str(tmp_path / "index"),
        "ADVISOR_CORPUS_DIR": str(tmp_path / "corpus"),
        **env,
    }
    return subprocess.run([ADVISOR, *args], env=environment, capture_output=True, timeout=300)


def assert_one_line_error(result: subprocess.CompletedProcess, text: str) -> None:
    err = result.stderr.decode("utf-8", "replace").strip()
    assert result.returncode == 2, err
    assert len(err.splitlines()) == 1 and err.startswith("advisor: error:") and text in err, err
    assert "Traceback" not in err


def test_invalid_utf8_in_argv_is_a_one_line_error(tmp_path):
    assert_one_line_error(run_cli(["ask", b"What do \xff\xfe architects earn?"], tmp_path), "not valid text")
    assert not (tmp_path / "index").exists()  # refused before touching the index


@pytest.mark.parametrize(
    ("content", "text"),
    [
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('["What do AI architects earn?", "And in India?"]', "history turn 1 must be"),
        ('[{"role": "user", "content": "\\udcff"}]', "not valid text"),
        ('{"role": "user", "content": "hi"}', "must be a JSON array"),
        ("[{", "not valid JSON"),
    ],
)
def test_bad_history_files_are_a_one_line_error(tmp_path, content, text):
    history = tmp_path / "history.json"
    history.write_text(content)
    result = run_cli(["ask", "--history", str(history), "And in India?"], tmp_path)
    assert_one_line_error(result, text)


def test_history_file_in_latin1_is_a_one_line_error(tmp_path):
    history = tmp_path / "history.json"
    history.write_bytes('[{"role": "user", "content": "caf\xe9"}]'.encode("latin-1"))
    assert_one_line_error(run_cli(["ask", "--history", str(history), "And?"], tmp_path), "not UTF-8")


# -- property: Advisor.ask and the history parser never let an exception escape (point 10) -------------------
ANY_CHAR = st.characters(codec=None, exclude_categories=())  # every code point, lone surrogates included
ANY_TEXT = st.one_of(
    st.text(ANY_CHAR, max_size=300),
    st.text(st.characters(categories=("Cc", "Cf", "Zs", "Zl", "Zp", "Cs", "Co")), max_size=50),
    st.tuples(st.text(ANY_CHAR, min_size=1, max_size=12), st.integers(1, 50_000)).map(lambda t: t[0] * t[1]),
)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(ANY_CHAR, max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
TURN = st.one_of(
    st.fixed_dictionaries({"role": st.sampled_from(["user", "assistant"]), "content": ANY_TEXT}),
    st.fixed_dictionaries({"role": JSONISH, "content": JSONISH}),
    JSONISH,
)
HISTORY = st.one_of(st.lists(TURN, max_size=6), JSONISH, ANY_TEXT)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(question=st.one_of(ANY_TEXT, JSONISH, st.binary(max_size=50)), history=HISTORY)
def test_ask_gives_an_answer_or_a_clear_error_for_any_input(advisor, question, history):
    try:
        answer = advisor.ask(question, history)
    except InvalidQuestion as exc:
        assert str(exc) and "\n" not in str(exc)
        return
    assert_answer_or_refusal(answer)
    answer.text.encode("utf-8")  # printable and JSON-serialisable everywhere
    json.dumps(answer.to_json(), ensure_ascii=False).encode("utf-8")


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    raw=st.one_of(
        st.binary(max_size=200),
        JSONISH.map(lambda v: json.dumps(v).encode()),
        st.lists(TURN, max_size=5).map(lambda v: json.dumps(v).encode()),
        st.lists(TURN, max_size=5).map(lambda v: json.dumps(v, ensure_ascii=False).encode("utf-8", "surrogatepass")),
        st.integers(1, 200_000).map(lambda n: b"[" * n + b"]" * n),
        st.integers(1, 200_000).map(lambda n: b'{"a":' * n + b"1" + b"}" * n),
    )
)
def test_history_parser_gives_turns_or_a_clear_error_for_any_file(raw):
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "history.json"
        path.write_bytes(raw)
        try:
            turns = read_history(path)
        except UsageError as exc:
            assert str(exc) and "\n" not in str(exc)
            return
    assert isinstance(turns, list)
    for t in turns:
        assert t["role"] in ("user", "assistant") and isinstance(t["content"], str)
        t["content"].encode("utf-8")
    assert parse_history(turns) == [Turn(t["role"], t["content"]) for t in turns]


def test_parse_history_rejects_what_read_history_rejects():
    with pytest.raises(InvalidHistory):
        parse_history([{"role": "user"}])


# -- corpus files that must not be indexed (points 7, 8) ------------------------------------------------------
@pytest.fixture
def indexed_copy(built, tmp_path) -> Path:
    """A copy of the session's corpus and index that a test may change and reindex."""
    shutil.copytree(built.corpus_dir, tmp_path / "corpus")
    shutil.copytree(built.data_dir, tmp_path / "index")
    return tmp_path


NEW_DOC = """---
title: Quokka notes
kind: article
---

# Quokka notes

## Quokka certification

The Quokka certification is recommended for AI engineers who build evaluation pipelines.
"""


def test_links_out_of_the_corpus_and_oversize_files_are_skipped_and_named_once(indexed_copy):
    tmp = indexed_copy
    secret = tmp / "outside-secret.md"
    secret.write_text("# Secret\n\nThe vault code of the outside file is 7341-ZEBRA.\n")
    (tmp / "corpus" / "x.md").symlink_to("/etc/passwd")
    (tmp / "corpus" / "secret.md").symlink_to(secret)
    (tmp / "corpus" / "linked-dir").symlink_to(tmp, target_is_directory=True)
    (tmp / "corpus" / "dangling.md").symlink_to(tmp / "nowhere.md")
    (tmp / "corpus" / "huge.txt").write_text("Staff engineers lead domains and review designs. " * 130_000)  # 6.4 MB
    (tmp / "corpus" / "quokka.md").write_text(NEW_DOC)

    result = run_cli(["index"], tmp)
    assert result.returncode == 0, result.stderr.decode()
    lines = result.stderr.decode().splitlines()
    warnings = [line for line in lines if "skipped" in line]
    assert len(warnings) == 4, lines  # x.md, secret.md, dangling.md, huge.txt: each exactly once
    for name, why in [
        ("corpus/x.md", "symbolic link to /etc/passwd, outside corpus/"),
        ("corpus/secret.md", "outside corpus/"),
        ("corpus/dangling.md", "broken symbolic link"),
        ("corpus/huge.txt", "MB is over the 5 MB limit per file (ADVISOR_MAX_FILE_MB)"),
    ]:
        assert sum(name in w for w in warnings) == 1 and any(name in w and why in w for w in warnings), (name, lines)
    assert "added" in result.stdout.decode() and "6 documents" in result.stdout.decode()  # quokka.md went in

    snapshot = (tmp / "index" / "snapshot.jsonl").read_text()
    assert "Quokka certification" in snapshot
    assert (
        "root:" not in snapshot and "7341-ZEBRA" not in snapshot and "Staff engineers lead domains and" not in snapshot
    )
    asked = run_cli(["ask", "--json", "What is the vault code of the outside file?"], tmp)
    assert asked.returncode == 0 and "7341" not in asked.stdout.decode()


def test_the_size_limit_is_a_setting(indexed_copy):
    tmp = indexed_copy
    (tmp / "corpus" / "quokka.md").write_text(NEW_DOC + "\n" + "Quokkas review designs. " * 60_000)  # 1.4 MB
    limited = run_cli(["index", "--json"], tmp, ADVISOR_MAX_FILE_MB="1")
    report = json.loads(limited.stdout)
    [warning] = report["warnings"]
    assert warning.startswith("skipped corpus/quokka.md: ") and "over the 1 MB limit per file" in warning
    assert report["added"] == 0 and report["embedded"] == 0
    (tmp / "corpus" / "quokka.md").write_text(NEW_DOC)
    report = json.loads(run_cli(["index", "--json"], tmp, ADVISOR_MAX_FILE_MB="1").stdout)
    assert report["warnings"] == [] and report["added"] >= 1
