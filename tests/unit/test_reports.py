"""The eval command's printed metric lines (`evaluation.reports.metrics_line`, pure)."""

import pytest

from advisor.evaluation.reports import FILE_COLUMNS, metrics_line


@pytest.mark.parametrize(
    ("summary", "line"),
    [
        (
            {
                "items": 3,
                "hit@5": 1.0,
                "mrr": 0.5,
                "answer_includes_recall": 0.25,
                "lead": 0.0,
                "citation_hit": 1.0,
                "refusal_recall": None,
                "false_refusal_rate": 0.0,
            },
            "3 items: hit@5 1.000, mrr 0.500, answer_includes_recall 0.250, lead 0.000, citation_hit 1.000, "
            "refusal_recall –, false_refusal_rate 0.000",
        ),
        (  # only unanswerable items: the per-answer metrics have nothing to measure
            {
                "items": 2,
                "hit@5": None,
                "mrr": None,
                "answer_includes_recall": None,
                "lead": None,
                "citation_hit": None,
                "refusal_recall": 0.5,
                "false_refusal_rate": None,
            },
            "2 items: hit@5 –, mrr –, answer_includes_recall –, lead –, citation_hit –, refusal_recall 0.500, "
            "false_refusal_rate –",
        ),
    ],
)
def test_metrics_line(summary, line):
    assert metrics_line(summary, FILE_COLUMNS) == line
