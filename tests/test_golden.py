"""Metrics as plain functions on hand-made cases, the golden set's validity, reports, and the CI gate."""

import json
from pathlib import Path

import pytest
from conftest import CORPUS, ROOT

from advisor.evaluation.golden import (
    MAIN_METRICS,
    GoldenFormatError,
    contains,
    first_hit_rank,
    includes_entry,
    load_golden,
    normalize,
    numbers_in,
    passed,
    run_golden,
    score_item,
    summarize,
    write_reports,
)

GOLDEN = ROOT / "evals" / "dev" / "golden.jsonl"
THRESHOLDS = json.loads((ROOT / "evals" / "thresholds.json").read_text())


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
    assert not passed(item, s)


def test_score_item_invalid_marker_and_refusals():
    item = {"evidence": ["x"], "answer_includes": [], "answerable": True}
    assert score_item(item, _answer("claim [3]", ["x"], [3]))["citation_valid"] == 0.0
    refusal_item = {"evidence": [], "answer_includes": [], "answerable": False}
    assert passed(refusal_item, score_item(refusal_item, _answer("no", [], [], refused=True)))
    assert not passed(refusal_item, score_item(refusal_item, _answer("yes [1]", ["x"], [1])))


def test_summarize_rates_and_latency():
    items = [{"answerable": True}, {"answerable": True}, {"answerable": False}]
    keys = MAIN_METRICS[:9]  # the per-answer metrics
    good = {**dict.fromkeys(keys, 1.0), "refused": 0.0}
    bad = {**dict.fromkeys(keys, 0.0), "refused": 1.0}
    s = summarize(items, [good, bad, {"refused": 1.0}], [{"total": 10.0}, {"total": 20.0}, {"total": 30.0}])
    assert s["hit@5"] == 0.5 and s["false_refusal_rate"] == 0.5 and s["refusal_recall"] == 1.0
    assert s["latency_total_p50_ms"] == 20.0


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


@pytest.fixture(scope="module")
def golden_run(advisor):
    return run_golden(lambda q, h: advisor.ask(q, h).to_json(), load_golden([GOLDEN]), progress=False)


def test_ci_gate_on_the_golden_set(golden_run):
    """The floor against regressions (thresholds in evals/thresholds.json and the README)."""
    s = golden_run.summary
    failures = {
        m: (s[m], floor)
        for m, floor in THRESHOLDS.items()
        if not m.startswith("_") and m != "false_refusal_rate_max" and s[m] < floor
    }
    if s["false_refusal_rate"] > THRESHOLDS["false_refusal_rate_max"]:
        failures["false_refusal_rate"] = (s["false_refusal_rate"], THRESHOLDS["false_refusal_rate_max"])
    assert not failures, failures


def test_reports_are_written_and_escaped(golden_run, tmp_path):
    golden_run.results[0]["answer"] += " <script>alert(1)</script>"
    golden_run.results[0]["passed"] = False
    summary = write_reports(golden_run, tmp_path, {"generator": "extractive"})
    for name in ("results.jsonl", "summary.json", "report.md", "report.html", "metrics_per_tag.png", "latency.png"):
        assert (tmp_path / name).stat().st_size > 0, name
    lines = (tmp_path / "results.jsonl").read_text().splitlines()
    first = json.loads(lines[0])
    assert len(lines) == len(golden_run.items) and {"id", "turns", "answer", "cited", "passages"} <= set(first)
    followup = next(json.loads(x) for x in lines if json.loads(x)["id"] == "sal-02")
    assert len(followup["turns"]) == 1 and followup["turns"][0]["question"].startswith("What is the difference")
    assert set(summary["per_tag"]) >= {"followup", "salary", "refusal"}
    html = Path(tmp_path / "report.html").read_text()
    assert "<script>alert" not in html and "&lt;script&gt;" in html
    assert "data:image/png;base64," in html
