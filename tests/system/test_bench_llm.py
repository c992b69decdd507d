"""The `llm` benchmark section: which model it runs and how its results read."""

from __future__ import annotations

from advisor.evaluation import bench_llm
from advisor.settings import Settings

ROW = {
    "question": "Q?",
    "generator": "llm",
    "drafted": 4,
    "kept": 3,
    "fallback": None,
    "retrieval_ms": 25.0,
    "prompt_ms": 0.2,
    "checks_ms": 40.0,
    "own_ms": 65.0,
    "raw_model_s": 30.0,
    "overhead_pct": 0.22,
    "advisor_wall_s": 31.0,
    "raw_ttft_s": 12.0,
    "advisor_ttft_s": 12.5,
    "first_checked_sentence_s": 15.0,
    "raw_tokens": 120,
    "raw_tokens_per_s": 6.7,
}


def test_markdown_has_one_row_per_question_with_the_overhead():
    results = {"model": "m", "threads": 1, "load_s": 2.0, "max_tokens": 160, "passages": 4, "rows": [ROW, ROW]}
    md = bench_llm.markdown({**results, "overhead_pct_median": 0.22, "overhead_pct_max": 0.22})
    rows = [line for line in md.splitlines() if line.startswith("| Q?")]
    assert len(rows) == 2 and "| 0.22% |" in rows[0] and "| 4 / 3 | llm |" in rows[0]


def test_the_model_comes_from_a_local_setting_else_smollm2():
    assert bench_llm._model_name(Settings.from_env({}, llm="local:qwen2.5-coder-0.5b")) == "qwen2.5-coder-0.5b"
    assert bench_llm._model_name(Settings.from_env({}, llm="openai:gpt-4o-mini")) == "smollm2-135m"


def test_a_model_not_installed_skips_the_section_without_downloading(tmp_path, monkeypatch):
    monkeypatch.setenv("ADVISOR_MODELS_DIR", str(tmp_path / "none"))
    monkeypatch.setenv("ADVISOR_LLM", "local:qwen2.5-coder-0.5b")
    results = bench_llm.run(tmp_path / "work", lambda m: None)
    assert "not installed" in results["skipped"] and not (tmp_path / "none").exists()
    assert "Skipped:" in bench_llm.markdown(results)
