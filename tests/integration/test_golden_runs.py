"""The CI gates on the golden sets (dev, test and the second corpus) run through a real advisor on a real index,
and the reports written from those runs. The metrics, attribution and the golden sets' validity are in
tests/unit/test_golden.py."""

import copy
import json
from pathlib import Path

import pytest
from support.corpus import OTHER_CAREERS, ROOT

from advisor.evaluation.golden import (
    STEPS,
    load_golden,
    run_golden,
)
from advisor.evaluation.reports import write_reports
from advisor.ingest.load import load_corpus

SETS = {k: v for k, v in json.loads((ROOT / "evals" / "thresholds.json").read_text()).items() if not k.startswith("_")}


# Which session fixture answers each set: the corpora of evals/thresholds.json indexed together.
ADVISOR_FOR = {("corpus",): "advisor", ("corpus", "evals/corpora/other-careers/corpus"): "advisor_both"}


@pytest.fixture(scope="module")
def golden_runs(request):
    """Each golden set of evals/thresholds.json run once through the real advisor, on demand."""
    cache = {}

    def get(name: str):
        if name not in cache:
            spec = SETS[name]
            advisor = request.getfixturevalue(ADVISOR_FOR[tuple(spec["corpora"])])
            documents, _ = load_corpus(advisor.settings.corpus_dir)
            items = load_golden([ROOT / g for g in spec["golden"]])
            cache[name] = run_golden(
                lambda q, h: advisor.ask(q, h).to_json(), items, label=name, progress=False, documents=documents
            )
        return cache[name]

    return get


def test_every_gated_set_has_an_index_fixture():
    assert set(SETS) >= {"dev", "dev-topics", "test", "other-careers"}
    assert all(tuple(spec["corpora"]) in ADVISOR_FOR for spec in SETS.values())
    assert SETS["other-careers"]["corpora"] == ["corpus", str(OTHER_CAREERS.relative_to(ROOT) / "corpus")]


@pytest.mark.model
@pytest.mark.parametrize("name", ["dev", "dev-topics", "test", "other-careers"])
def test_ci_gate_on_the_golden_set(golden_runs, name):
    """The floors against regressions (evals/thresholds.json and the README): dev is tuned on, test and
    the second corpus (answered with both corpora indexed together) are not."""
    s = golden_runs(name).summary
    floors = SETS[name]["floors"]
    failures = {m: (s[m], floor) for m, floor in floors.items() if m != "false_refusal_rate_max" and s[m] < floor}
    if s["false_refusal_rate"] > floors["false_refusal_rate_max"]:
        failures["false_refusal_rate"] = (s["false_refusal_rate"], floors["false_refusal_rate_max"])
    assert not failures, (name, failures, s["failures"])


@pytest.mark.parametrize("name", ["dev", "test", "other-careers"])
def test_no_answer_states_an_ungrounded_number_or_an_invalid_marker(golden_runs, name):
    """The hard guarantee behind citation_valid and numbers_grounded, on every answer that was given.

    The metrics also count refused answerable items (a refusal that names the number of documents
    has a number no passage holds); those are false refusals and are gated as such."""
    checks = ("numbers_grounded", "citation_valid")
    bad = [
        (r["id"], r["answer"])
        for r in golden_runs(name).results
        if not r["refused"] and any(r["scores"].get(c, 1.0) < 1.0 for c in checks)
    ]
    assert not bad, bad


def test_reports_are_written_and_escaped(golden_runs, tmp_path):
    golden_run = copy.deepcopy(golden_runs("dev"))
    golden_run.results[0]["answer"] += " <script>alert(1)</script>"
    golden_run.results[0].update(passed=False, failure="composition", failure_reason="<b>made up</b>")
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
    assert "<b>made up" not in html and "&lt;b&gt;made up" in html
    assert "data:image/png;base64," in html


def test_failures_are_attributed_in_results_summary_and_reports(golden_runs, tmp_path):
    run = golden_runs("other-careers")
    summary = write_reports(run, tmp_path, {"generator": "extractive"})
    results = [json.loads(x) for x in (tmp_path / "results.jsonl").read_text().splitlines()]
    steps = [r["failure"] for r in results]
    assert set(steps) <= {None, *STEPS}
    assert all((r["failure"] is None) == r["passed"] == (r["failure_reason"] is None) for r in results)
    counts = summary["overall"]["failures"]
    assert counts == {step: steps.count(step) for step in STEPS}
    followups = [r for r, i in zip(results, run.items, strict=True) if "followup" in i["tags"]]
    assert summary["per_tag"]["followup"]["failures"] == {
        step: sum(r["failure"] == step for r in followups) for step in STEPS
    }
    md = (tmp_path / "report.md").read_text()
    html = (tmp_path / "report.html").read_text()
    assert "## Failures by step" in md and "<h2>Failures by step</h2>" in html
    row = "| all | {} | {} |".format(len(results), " | ".join(str(counts[s]) for s in STEPS))
    assert row in md
    for r in results:
        if r["failure"]:
            assert f"failing step: {r['failure']}: {r['failure_reason']}" in md
    # both corpora were indexed together: passages of each were handed to answers
    sources = {p["source"] for r in results for p in r["passages"]}
    assert any("electrician" in s for s in sources) and any("ai-architect" in s for s in sources)
