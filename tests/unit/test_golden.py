"""Metrics and failure attribution as plain functions on hand-made cases, the golden sets' validity and several
corpora put together. The CI gates on the golden sets (a real advisor) are in tests/integration/test_golden_runs.py."""

import json
import subprocess
import sys

import pytest
from support.corpus import CORPUS, ROOT

from advisor.evaluation.golden import (
    ANSWER_METRICS,
    STEPS,
    CorporaError,
    GoldenFormatError,
    attribute,
    combine_corpora,
    condensing_fault,
    contains,
    content_words,
    eval_index_dir,
    evidence_titles,
    first_hit_rank,
    includes_entry,
    load_golden,
    normalize,
    numbers_in,
    run_golden,
    score_item,
    scratch_settings,
    summarize,
)
from advisor.evaluation.reports import failure_table, file_table, write_reports
from advisor.settings import Settings

GOLDEN = ROOT / "evals" / "dev" / "golden.jsonl"


@pytest.mark.parametrize(
    ("raw", "norm"),
    [
        ("Ａ  B", "a b"),  # NFKC full-width, whitespace runs
        ("5\u20138 years \u2014 ok", "5-8 years - ok"),  # en and em dashes
        ("\u2018it\u2019s\u2019 \u201cso\u201d", "'it's' \"so\""),  # curly quotes
        ("Line\n\n\tbreak", "line break"),
    ],
)
def test_normalize(raw, norm):
    assert normalize(raw) == norm


def test_score_item_lead_counts_includes_in_the_first_two_cited_lines():
    item = {"evidence": ["x"], "answer_includes": ["median", "292"], "answerable": True}
    buried = _answer("- Range [1].\n- Percentile [1].\n- The median is 292 [1].", ["x median 292"], [1])
    first = _answer("- The median is 292 [1].\n- Range [1].", ["x median 292"], [1])
    assert score_item(item, buried)["lead"] == 0.0 and score_item(item, buried)["answer_includes_recall"] == 1.0
    assert score_item(item, first)["lead"] == 1.0


@pytest.mark.parametrize(
    ("answer", "entry", "ok"),
    [
        ("Architects earn more", "architect|Architect", True),
        ("Engineers earn less", "architect|Architect", False),
        ("It takes 5–8 years", "5-8 years", True),
        ("x", "a||x", True),
    ],
)
def test_includes_entry(answer, entry, ok):
    assert includes_entry(answer, entry) is ok


def test_contains_and_first_hit_rank():
    assert contains("The path: Senior \u2192 Staff", "senior → staff")
    assert first_hit_rank(["a", "b holds it", "it again"], ["holds it", "again"]) == 2
    assert first_hit_rank(["a"], ["zzz"]) is None


@pytest.mark.parametrize(
    ("text", "numbers"),
    [("$200K–$350K+ [1]", {"200", "350"}), ("23,752 vs 138 [2]", {"23752", "138"}), ("20-40% more", {"20", "40"})],
)
def test_numbers_in(text, numbers):
    assert numbers_in(text) == numbers


def _answer(text, passages, cited, refused=False):
    return {"answer": text, "passages": [{"text": t} for t in passages], "cited": cited, "refused": refused}


def test_score_item_hand_made():
    item = {"evidence": ["earn 20-40% more"], "answer_includes": ["architect", "salary|pay"], "answerable": True}
    a = _answer("Architects earn 20-40% more [2]. Made up 99% [1].", ["nothing here", "They earn 20–40% more"], [2, 1])
    s = score_item(item, a)
    assert (s["hit@1"], s["hit@3"], s["mrr"]) == (0.0, 1.0, 0.5)
    assert s["evidence_recall@5"] == 1.0
    assert s["answer_includes_recall"] == 0.5
    assert s["citation_hit"] == 1.0 and s["citation_valid"] == 1.0
    assert s["numbers_grounded"] == 0.0  # 99 appears in no cited passage
    assert attribute(item, s)[0] == "composition"


def test_score_item_invalid_marker_and_refusals():
    item = {"evidence": ["x"], "answer_includes": [], "answerable": True}
    assert score_item(item, _answer("claim [3]", ["x"], [3]))["citation_valid"] == 0.0
    refusal_item = {"evidence": [], "answer_includes": [], "answerable": False}
    assert attribute(refusal_item, score_item(refusal_item, _answer("no", [], [], refused=True))) == (None, "")
    assert attribute(refusal_item, score_item(refusal_item, _answer("yes [1]", ["x"], [1])))[0] == "refusal"


def test_summarize_rates_and_latency():
    items = [{"answerable": True}, {"answerable": True}, {"answerable": False}]
    keys = ANSWER_METRICS  # the per-answer metrics
    good = {**dict.fromkeys(keys, 1.0), "refused": 0.0}
    bad = {**dict.fromkeys(keys, 0.0), "refused": 1.0}
    s = summarize(items, [good, bad, {"refused": 1.0}], [{"total": 10.0}, {"total": 20.0}, {"total": 30.0}])
    assert s["hit@5"] == 0.5 and s["false_refusal_rate"] == 0.5 and s["refusal_recall"] == 1.0
    assert s["latency_total_p50_ms"] == 20.0


def test_summarize_counts_failures_per_step():
    items = [{"answerable": True}] * 4
    scores = [{**dict.fromkeys(ANSWER_METRICS, 1.0), "refused": 0.0}] * 4
    s = summarize(items, scores, [{}] * 4, ["retrieval", None, "retrieval", "condensing"])
    assert s["failures"] == {"condensing": 1, "retrieval": 2, "refusal": 0, "composition": 0, "error": 0}
    rows = failure_table(s, {"followup": {**s, "items": 2, "failures": {"condensing": 1}}})
    assert rows[0] == ["", "items", *STEPS, "passed"]
    assert rows[1] == ["all", "4", "1", "2", "0", "0", "0", "1"]
    assert rows[2] == ["followup", "2", "1", "0", "0", "0", "0", "1"]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("What do AI architects earn?", {"ai", "architect", "earn"}),
        ("Which salaries? The AI/ML engineer's!", {"salary", "ai", "ml", "engineer"}),
        ("How much does it cost in 2026?", {"cost"}),  # function words and numbers are not content
        ("Boxes, classes and batches", {"box", "class", "batch"}),
    ],
)
def test_content_words(text, words):
    assert content_words(text) == words


ITEM = {
    "question": "Which one pays more?",
    "history": ["What is the difference between an electrician and an actuary?"],
    "evidence": ["Actuaries earn a median of $120,000"],
    "answer_includes": ["actuary|actuaries"],
    "answerable": True,
}
POSSESSIVE = {**ITEM, "question": "How much do they earn in Spain?", "evidence": ["€30,000"], "answer_includes": []}
OWN_SUBJECT = {
    **ITEM,
    "question": "What about plumbers?",
    "history": ["How much does an actuary earn?"],
    "evidence": ["Plumbers are paid $60,000"],
    "answer_includes": ["60,000"],
}


@pytest.mark.parametrize(
    ("item", "standalone", "titles", "fault"),
    [
        # 1. a carried word the expected material holds must be kept
        (ITEM, "Which one pays more: electrician or actuary?", (), None),
        (ITEM, "Which one pays more?", (), "lost actuary"),
        (ITEM, "Which one pays more for electricians?", (), "lost actuary"),
        # 2. a follow-up that leans on the conversation must carry something over
        (POSSESSIVE, "How much do they earn in Spain?", (), "left without the subject"),
        (POSSESSIVE, "How much do actuaries earn in Spain?", (), None),
        # ... unless the evidence documents' titles show it named its own subject
        (POSSESSIVE, "How much do they earn in Spain?", ("Careers in Spain",), None),
        # 3. a question naming its own subject must not be given an older one
        (OWN_SUBJECT, "What about plumbers?", (), None),
        (OWN_SUBJECT, "What about plumbers for actuaries?", (), "older subject (actuary)"),
        (OWN_SUBJECT, "What about plumbers for actuaries?", ("Plumbing and actuary careers",), None),
        # no history, or a refusal item: never a condensing fault
        ({**ITEM, "history": []}, "Which one pays more?", (), None),
        ({**ITEM, "answerable": False, "evidence": [], "answer_includes": []}, "Which one pays more?", (), None),
    ],
)
def test_condensing_fault(item, standalone, titles, fault):
    got = condensing_fault(item, standalone, titles)
    assert (got is None) if fault is None else (fault in got), got


def _scores(**low):
    """Scores of a fully successful answerable item, with the named metrics set as given."""
    return {**dict.fromkeys(ANSWER_METRICS, 1.0), "refused": 0.0, **low}


@pytest.mark.parametrize(
    ("item", "scores", "standalone", "step"),
    [
        (ITEM, _scores(), "Which one pays more?", None),  # a success is never blamed, even with a lost subject
        (ITEM, _scores(**{"hit@5": 0.0}), "Which one pays more: electrician or actuary?", "retrieval"),
        (ITEM, _scores(**{"hit@5": 0.0}), "Which one pays more?", "condensing"),  # earliest step wins
        (ITEM, _scores(refused=1.0, citation_hit=0.0, answer_includes_recall=0.0), None, "refusal"),
        (ITEM, _scores(**{"refused": 1.0, "hit@5": 0.0}), None, "retrieval"),  # refused as nothing was found
        (ITEM, _scores(answer_includes_recall=0.5), None, "composition"),
        (ITEM, _scores(citation_hit=0.0), None, "composition"),
        (ITEM, _scores(citation_valid=0.0), None, "composition"),
        (ITEM, _scores(numbers_grounded=0.0), None, "composition"),
        ({"answerable": False}, {"refused": 0.0}, None, "refusal"),
        ({"answerable": False}, {"refused": 1.0}, None, None),
    ],
)
def test_attribute(item, scores, standalone, step):
    got, reason = attribute(item, scores, standalone)
    assert got == step
    assert bool(reason) is (step is not None)


def test_evidence_titles():
    docs = [("Electrician guide", normalize("Apprentices earn 50%")), ("Actuary guide", normalize("Exams\u2014many"))]
    assert evidence_titles({"evidence": ["exams-many"]}, docs) == ["Actuary guide"]
    assert evidence_titles({"evidence": ["nowhere"]}, docs) == []


def test_combine_corpora_copies_and_refuses_collisions(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    (a / "sub").mkdir(parents=True)
    b.mkdir()
    (a / "one.md").write_text("# One")
    (a / "sub" / "two.md").write_text("# Two")
    (b / "three.txt").write_text("three")
    combined = combine_corpora([a, b], tmp_path / "both")
    assert sorted(p.relative_to(combined).as_posix() for p in combined.rglob("*.*")) == [
        "one.md",
        "sub/two.md",
        "three.txt",
    ]
    assert (a / "one.md").read_text() == "# One"  # originals stay
    (b / "one.md").write_text("# Another one")
    with pytest.raises(CorporaError, match="one.md is in both"):
        combine_corpora([a, b], tmp_path / "again")
    (tmp_path / "empty").mkdir()
    with pytest.raises(CorporaError, match="no documents"):
        combine_corpora([a, tmp_path / "empty"], tmp_path / "third")


def test_load_golden_errors_name_file_and_line(tmp_path):
    bad = tmp_path / "g.jsonl"
    bad.write_text('{"id": "a", "question": "q"}\n{oops\n')
    with pytest.raises(GoldenFormatError, match=r"g.jsonl:2"):
        load_golden([bad])
    with pytest.raises(GoldenFormatError, match="cannot read"):
        load_golden([tmp_path / "missing.jsonl"])


def test_the_golden_set_follows_the_contract_and_the_corpus():
    items = load_golden([GOLDEN])
    corpus = normalize(" ".join(p.read_text() for p in CORPUS.glob("*.md")))
    assert len(items) >= 60 and len({i["id"] for i in items}) == len(items)
    assert sum(1 for i in items if i.get("history")) >= 10
    assert sum(1 for i in items if not i["answerable"]) >= 10
    for i in items:
        if i["answerable"]:
            assert i["evidence"] and i["answer_includes"], i["id"]
            for e in i["evidence"]:
                assert normalize(e) in corpus, (i["id"], e)
        else:
            assert i["evidence"] == [] and i["answer_includes"] == [], i["id"]
    docs = {p.name for p in CORPUS.glob("*.md")}
    assert len(docs) == 5


def _golden_files():
    """Every golden file under evals/ with the corpora it is checked against."""
    for path in sorted((ROOT / "evals").rglob("golden*.jsonl")):
        inside = [c for c in (ROOT / "evals" / "corpora").iterdir() if path.is_relative_to(c)]
        yield path, [CORPUS, *(c / "corpus" for c in inside)]


@pytest.mark.parametrize(("golden", "corpora"), list(_golden_files()), ids=lambda v: str(v))
def test_check_golden_passes_on_every_golden_file(golden, corpora):
    """evals/check_golden.py: shape, unique ids, every evidence phrase in its corpus, reachable answers."""
    r = subprocess.run(
        [sys.executable, str(ROOT / "evals" / "check_golden.py"), str(golden), *map(str, corpora)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert " 0 errors" in r.stdout


def test_check_golden_fails_on_evidence_missing_from_the_corpus(tmp_path):
    bad = tmp_path / "bad.jsonl"
    item = {"id": "x", "question": "q?", "evidence": ["no corpus says this"], "answer_includes": ["x"]}
    bad.write_text(json.dumps({**item, "answerable": True, "tags": []}) + "\n")
    r = subprocess.run(
        [sys.executable, str(ROOT / "evals" / "check_golden.py"), str(bad), str(CORPUS)],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 1 and "evidence not in corpus" in r.stdout


def test_an_item_whose_question_raises_fails_at_error_and_the_run_goes_on(tmp_path):
    items = [
        {
            "id": "a",
            "question": "What do potters earn?",
            "evidence": ["$30"],
            "answer_includes": ["$30"],
            "answerable": True,
            "tags": [],
        },
        {
            "id": "b",
            "question": "Boom?",
            "evidence": ["$30"],
            "answer_includes": ["$30"],
            "answerable": True,
            "tags": [],
        },
        {
            "id": "c",
            "question": "Potters?",
            "history": ["Boom?"],
            "evidence": ["$30"],
            "answer_includes": ["$30"],
            "answerable": True,
            "tags": [],
        },
    ]
    passage = {"rank": 1, "id": "p", "source": "s", "title": "t", "section": None, "text": "Potters earn $30."}

    def ask(question: str, history: list[dict]) -> dict:
        if question == "Boom?":
            raise RuntimeError("generator raised StopIteration")
        return {
            "question": question,
            "standalone_question": question,
            "answer": "Potters earn $30 [1].",
            "refused": False,
            "cited": [1],
            "passages": [passage],
            "generator": "x",
            "timings_ms": {"total": 1.0},
            "notices": [],
        }

    run = run_golden(ask, items, progress=False)
    assert [r["failure"] for r in run.results] == [None, "error", "error"]
    assert run.results[1]["failure_reason"] == "RuntimeError: generator raised StopIteration"
    assert run.scores[1]["answer_includes_recall"] == 0.0 and run.scores[0]["answer_includes_recall"] == 1.0
    summary = write_reports(run, tmp_path, {})
    assert summary["overall"]["failures"]["error"] == 2 and (tmp_path / "report.md").exists()


def _potter_ask(question: str, history: list[dict]) -> dict:
    """A stand-in advisor: answers "Potters earn $30." to anything that mentions potters, refuses the rest."""
    passage = {"rank": 1, "id": "p", "source": "s", "title": "t", "section": None, "text": "Potters earn $30."}
    known = "potter" in question.lower()
    return {
        "question": question,
        "standalone_question": question,
        "answer": "Potters earn $30 [1]." if known else "The documents do not say.",
        "refused": not known,
        "cited": [1] if known else [],
        "passages": [passage],
        "generator": "x",
        "timings_ms": {"total": 1.0},
        "notices": [],
    }


def test_each_golden_file_gets_its_own_summary(tmp_path):
    answered = {"evidence": ["Potters earn"], "answer_includes": ["$30"], "answerable": True}
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text(json.dumps({"id": "a", "question": "What do potters earn?", **answered}) + "\n")
    second.write_text(
        json.dumps({"id": "b", "question": "What do glaziers earn?", **answered})
        + "\n"
        + json.dumps({"id": "c", "question": "Glazier pension?", "answerable": False})
        + "\n"
    )
    run = run_golden(_potter_ask, load_golden([first, second]), progress=False)
    per_file = run.per_file()
    assert list(per_file) == [str(first), str(second)]
    assert per_file[str(first)]["items"] == 1 and per_file[str(first)]["answer_includes_recall"] == 1.0
    assert per_file[str(second)]["items"] == 2 and per_file[str(second)]["false_refusal_rate"] == 1.0
    assert per_file[str(second)]["refusal_recall"] == 1.0
    summary = write_reports(run, tmp_path / "out", {})
    assert summary["per_file"] == json.loads((tmp_path / "out" / "summary.json").read_text())["per_file"]
    report = (tmp_path / "out" / "report.md").read_text()
    assert "## Per golden file" in report and f"| {second} | 2 |" in report
    assert all("_golden_file" not in line for line in (tmp_path / "out" / "results.jsonl").read_text().splitlines())
    assert run_golden(_potter_ask, load_golden([first]), progress=False).per_file() == {}  # one file: no split


def test_file_table_rows():
    s = {"items": 3, "hit@5": 1.0, "mrr": 0.5, "answer_includes_recall": 0.25, "lead": None, "citation_hit": 1.0}
    rows = file_table({"g.jsonl": {**s, "refusal_recall": None, "false_refusal_rate": 0.0}})
    assert rows[0][:3] == ["golden file", "items", "hit@5"]
    assert rows[1] == ["g.jsonl", "3", "1.000", "0.500", "0.250", "–", "1.000", "–", "0.000"]
    assert file_table({}) == []


def test_scratch_settings_copies_the_corpora_afresh_into_a_kept_folder(tmp_path):
    settings = Settings.from_env({}, corpus_dir=tmp_path / "corpus", data_dir=tmp_path / "data")
    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir()
    b.mkdir()
    (a / "one.md").write_text("# One")
    (b / "two.md").write_text("# Two")
    root = eval_index_dir(settings, [a, b])
    assert root == eval_index_dir(settings, [b, a]) != eval_index_dir(settings, [a])
    assert root.parent == settings.data_dir / "eval-indexes"
    first = scratch_settings(settings, [a, b], root)
    assert sorted(p.name for p in first.corpus_dir.iterdir()) == ["one.md", "two.md"]
    (first.data_dir / "kept").write_text("an earlier run's index")
    (b / "two.md").unlink()
    (b / "three.md").write_text("# Three")
    again = scratch_settings(settings, [a, b], root)
    assert sorted(p.name for p in again.corpus_dir.iterdir()) == ["one.md", "three.md"]  # two.md is gone
    assert (again.data_dir / "kept").exists() and again.chroma_url is None
