"""Every CLI command as a user runs it: a subprocess of the installed `advisor` script."""

from __future__ import annotations

import json
import os
import re
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from support.corpus import CORPUS, OTHER_CAREERS

BIN = Path(sys.executable).parent / "advisor"


def run(args, settings, stdin=None, extra_env=None):
    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(settings.corpus_dir), "ADVISOR_DATA_DIR": str(settings.data_dir)}
    env.update(extra_env or {})
    return subprocess.run([str(BIN), *args], env=env, input=stdin, capture_output=True, text=True, timeout=300)


def test_index_json_noop(built):
    r = run(["index", "--json"], built)
    assert r.returncode == 0, r.stderr
    report = json.loads(r.stdout)
    assert report["added"] == 0 and report["skipped"] == report["chunks"] > 50 and report["documents"] == 5


def test_index_prints_a_summary(built):
    r = run(["index"], built)
    assert r.returncode == 0 and "5 documents" in r.stdout and "skipped" in r.stdout


def test_ask_prints_answer_and_numbered_sources(built):
    r = run(["ask", "What does a staff AI engineer own?"], built)
    assert r.returncode == 0, r.stderr
    assert "[1]" in r.stdout and "Sources:" in r.stdout and "corpus/ai-architect-career-ladder.md" in r.stdout


def test_ask_json_with_history_follows_the_contract(built, tmp_path):
    history = tmp_path / "h.json"
    history.write_text(
        json.dumps(
            [
                {"role": "user", "content": "What does a staff AI/ML engineer own?"},
                {"role": "assistant", "content": "They own a domain [1]."},
            ]
        )
    )
    r = run(["ask", "--json", "--history", str(history), "And what comes after that level?"], built)
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)  # exactly one JSON object on stdout
    assert data["question"] == "And what comes after that level?"
    assert data["standalone_question"] == "What comes after the staff AI/ML engineer level?"
    assert data["generator"] == "extractive" and data["passages"][0]["rank"] == 1
    assert all(1 <= n <= len(data["passages"]) for n in data["cited"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["ask", "   "], "the question is empty"),
        (["ask", "--history", "/nonexistent.json", "hi"], "cannot read history file"),
        (["eval", "--golden", "/nonexistent.jsonl", "--out", "/tmp/x"], "cannot read"),
        (
            ["eval", "--golden", "evals/dev/golden.jsonl", "--out", "/tmp/x", "--compare", "speed=fast"],
            "unknown option",
        ),
        (
            ["eval", "--golden", "evals/dev/golden.jsonl", "--out", "/tmp/x", "--corpus", "/nonexistent"],
            "no documents in /nonexistent",
        ),
        (["eval", "--golden", "evals/dev/golden.jsonl", "--out", "/tmp/x", "--fresh-index"], "needs --corpus"),
    ],
)
def test_bad_input_is_one_line_without_traceback(built, args, message):
    r = run(args, built)
    assert r.returncode == 2
    assert message in r.stderr and "Traceback" not in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_bad_history_shape(built, tmp_path):
    h = tmp_path / "h.json"
    h.write_text('{"role": "user"}')
    r = run(["ask", "--history", str(h), "hi"], built)
    assert r.returncode == 2 and "must be a JSON array" in r.stderr


def test_refusal_exits_zero(built):
    r = run(["ask", "--json", "How do I bake sourdough bread?"], built)
    assert r.returncode == 0 and json.loads(r.stdout)["refused"] is True


def test_chat_keeps_history(built):
    r = run(["chat"], built, stdin="What does an AI architect do?\nHow much do they earn in India?\n\n")
    assert r.returncode == 0, r.stderr
    assert "understood as: How much do AI architects earn in India?" in r.stdout
    assert r.stdout.count("Sources:") == 2


def test_eval_writes_reports_with_ablation_and_baseline(built, tmp_path):
    golden = tmp_path / "mini.jsonl"
    golden.write_text(
        "\n".join(
            json.dumps(x)
            for x in [
                {
                    "id": "a",
                    "question": "What is the median salary of an AI architect?",
                    "evidence": ["$292K"],
                    "answer_includes": ["$292K"],
                    "answerable": True,
                    "tags": ["salary"],
                },
                {
                    "id": "b",
                    "question": "Which one pays more?",
                    "history": ["AI engineer vs AI architect?"],
                    "evidence": ["79% more"],
                    "answer_includes": ["architect|Architect"],
                    "answerable": True,
                    "tags": ["followup"],
                },
                {
                    "id": "c",
                    "question": "Best sourdough recipe?",
                    "evidence": [],
                    "answer_includes": [],
                    "answerable": False,
                    "tags": ["refusal"],
                },
            ]
        )
    )
    out = tmp_path / "report"
    r = run(["eval", "--golden", str(golden), "--out", str(out), "--compare", "retrieval=dense,hybrid"], built)
    assert r.returncode == 0, r.stderr
    summary = json.loads((out / "summary.json").read_text())
    assert set(summary["ablations"]) == {"retrieval=dense", "retrieval=hybrid"}
    assert summary["overall"]["items"] == 3 and summary["overall"]["refusal_recall"] == 1.0
    assert "## Ablations" in (out / "report.md").read_text()
    r2 = run(["eval", "--golden", str(golden), "--out", str(tmp_path / "again"), "--baseline", str(out)], built)
    assert r2.returncode == 0, r2.stderr
    assert "Against baseline" in (tmp_path / "again" / "report.md").read_text()


def _tree(root: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(root)): (p.stat().st_size, p.stat().st_mtime_ns) for p in root.rglob("*") if p.is_file()}


def test_eval_over_two_corpora_in_a_temporary_index_leaves_the_users_index_alone(built, tmp_path):
    other = OTHER_CAREERS / "golden.jsonl"
    items = [json.loads(x) for x in other.read_text().splitlines() if x.strip()]
    picked = [
        next(i for i in items if "cross-corpus" in i["tags"] and not i.get("history")),
        next(i for i in items if "electrician" in i["tags"] and i["answerable"]),
        next(i for i in items if not i["answerable"]),
    ]
    golden = tmp_path / "picked.jsonl"
    golden.write_text("".join(json.dumps(i) + "\n" for i in picked))
    corpora = []  # of each corpus, the documents that hold the picked items' evidence (a smaller index to build)
    for name, corpus in (("a", CORPUS), ("b", OTHER_CAREERS / "corpus")):
        corpora.append(tmp_path / name)
        corpora[-1].mkdir()
        for doc in corpus.glob("*.md"):
            if any(e in doc.read_text() for i in picked for e in i.get("evidence", [])):
                shutil.copy(doc, corpora[-1] / doc.name)
    before = _tree(built.data_dir)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    out = tmp_path / "report"
    args = ["eval", "--golden", str(golden), "--out", str(out), "--corpus", str(corpora[0]), "--fresh-index"]
    r = run([*args, "--corpus", str(corpora[1])], built, extra_env={"TMPDIR": str(scratch)})
    assert r.returncode == 0, r.stderr
    assert f"together in {scratch}/advisor-eval-" in r.stderr and "failures by step: condensing" in r.stdout
    results = [json.loads(x) for x in (out / "results.jsonl").read_text().splitlines()]
    sources = {p["source"] for r in results for p in r["passages"]}
    assert any("electrician" in s for s in sources) and any("ai-" in s for s in sources), sources
    assert all("failure" in r and "failure_reason" in r for r in results)
    summary = json.loads((out / "summary.json").read_text())
    assert summary["settings"]["corpora"] == [str(c) for c in corpora]
    assert set(summary["overall"]["failures"]) == {"condensing", "retrieval", "refusal", "composition", "error"}
    assert _tree(built.data_dir) == before  # the user's own index was neither written nor rebuilt
    assert not list(scratch.glob("advisor-eval-*"))  # the temporary index is gone


def _index_counts(stderr: str) -> dict[str, int]:
    """added / updated / skipped / deleted of the index summary `advisor eval --corpus` prints."""
    return {k: int(n) for k, n in re.findall(r"\b(added|updated|skipped|deleted) (\d+)", stderr)}


def test_eval_keeps_its_corpus_index_and_updates_it_incrementally(built, tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "potters.md").write_text("# Potters\n\n## Pay\n\nA journeyman potter earns 31 coins a week.\n")
    (b / "glaziers.md").write_text("# Glaziers\n\n## Training\n\nGlaziers train for four winters.\n")
    (b / "tilers.md").write_text("# Tilers\n\n## Tools\n\nTilers carry a notched trowel and a level.\n")
    golden = tmp_path / "g.jsonl"
    item = {"answerable": True, "tags": []}
    golden.write_text(
        json.dumps(
            {
                **item,
                "id": "pay",
                "question": "What does a potter earn?",
                "evidence": ["31 coins"],
                "answer_includes": ["31 coins"],
            }
        )
        + "\n"
        + json.dumps(
            {
                **item,
                "id": "tools",
                "question": "What tools do tilers carry?",
                "evidence": ["notched trowel"],
                "answer_includes": ["trowel"],
            }
        )
        + "\n"
    )
    data = tmp_path / "data"
    if (built.data_dir / "models").is_dir():
        shutil.copytree(built.data_dir / "models", data / "models")
    env = {"ADVISOR_DATA_DIR": str(data)}
    before = _tree(data)

    def evaluate(out: str) -> tuple[dict[str, int], list[dict]]:
        args = ["eval", "--golden", str(golden), "--out", str(tmp_path / out), "--corpus", str(a), "--corpus", str(b)]
        r = run(args, built, extra_env=env)
        assert r.returncode == 0, r.stderr
        results = [json.loads(x) for x in (tmp_path / out / "results.jsonl").read_text().splitlines()]
        return _index_counts(r.stderr), results

    counts, results = evaluate("first")
    assert counts["added"] >= 3 and counts["updated"] == counts["deleted"] == 0
    assert [r["scores"]["hit@5"] for r in results] == [1.0, 1.0]
    kept = list((data / "eval-indexes").iterdir())
    assert len(kept) == 1 and (kept[0] / "index").is_dir()
    assert {k: v for k, v in _tree(data).items() if not k.startswith("eval-indexes")} == before

    counts, _ = evaluate("unchanged")
    assert counts["added"] == counts["updated"] == counts["deleted"] == 0 and counts["skipped"] >= 3

    (a / "potters.md").write_text("# Potters\n\n## Pay\n\nA journeyman potter earns 47 coins a week.\n")
    (b / "tilers.md").unlink()
    counts, results = evaluate("changed")
    assert counts["deleted"] >= 1 and counts["added"] + counts["updated"] >= 1 and counts["skipped"] >= 1
    texts = " ".join(p["text"] for r in results for p in r["passages"])
    assert "47 coins" in texts and "31 coins" not in texts and "trowel" not in texts
    assert list((data / "eval-indexes").iterdir()) == kept


def test_index_watch_reindexes_when_corpus_changes(built, tmp_path):
    corpus = tmp_path / "corpus"
    shutil.copytree(built.corpus_dir, corpus)
    data = tmp_path / "index"
    shutil.copytree(built.data_dir, data)
    env = {**os.environ, "ADVISOR_CORPUS_DIR": str(corpus), "ADVISOR_DATA_DIR": str(data)}
    proc = subprocess.Popen(
        [str(BIN), "index", "--watch", "--json"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )

    def next_report() -> dict:
        ready, _, _ = select.select([proc.stdout], [], [], 60)
        assert ready, "no report from advisor index --watch within 60 s"
        return json.loads(proc.stdout.readline())

    try:
        first = next_report()
        assert first["added"] == 0
        time.sleep(1.0)  # let the watcher start
        (corpus / "new-note.md").write_text("# New note\n\n## Mentoring\n\nStaff engineers mentor seniors weekly.\n")
        second = next_report()
        assert second["added"] == 1 and second["documents"] == 6
    finally:
        proc.terminate()
        proc.wait(timeout=30)


# Words of the project's own corpus that must not appear when only another corpus is indexed.
OWN_CORPUS_WORDS = re.compile(r"\b(AI|AI/ML|LPA|engineers?|staff|certifications?|cohort)\b", re.I)


@pytest.fixture(scope="module")
def other_only(other_template, tmp_path_factory):
    """A real index of the second corpus alone (evals/corpora/other-careers), read by the CLI."""
    from support.corpus import copy_index

    return copy_index(other_template, tmp_path_factory.mktemp("other"))


def _no_own_corpus_words(text: str) -> None:
    found = OWN_CORPUS_WORDS.findall(text)
    assert not found, f"{found} in {text!r}"


def test_with_another_corpus_the_refusal_speaks_of_its_documents(other_only):
    r = run(["ask", "--json", "How much does a dentist earn in Canada?"], other_only)
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert answer["refused"] is True and answer["cited"] == []
    text = answer["answer"]
    assert "dentist" in text or "Canada" in text  # names what is missing
    assert "electricians" in text and "actuaries" in text  # what the sources cover
    suggested = [line[2:] for line in text.splitlines() if line.startswith("- ")]
    assert len(suggested) >= 3
    corpus_text = " ".join(p.read_text() for p in other_only.corpus_dir.glob("*.md"))
    assert all(q in corpus_text for q in suggested)  # questions the documents themselves answer
    _no_own_corpus_words(text)


def test_with_another_corpus_chat_greets_with_its_subjects_and_resolves_follow_ups(other_only):
    r = run(["chat"], other_only, stdin="What does an electrician do?\nHow much do they earn?\n\n")
    assert r.returncode == 0, r.stderr
    greeting = r.stdout.split("you>")[0]
    assert "electricians" in greeting and "UX designers" in greeting
    _no_own_corpus_words(greeting)
    assert "understood as: How much do electricians earn?" in r.stdout


def test_help_names_no_corpus():
    r = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0
    _no_own_corpus_words(r.stdout)
