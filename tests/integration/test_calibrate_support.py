"""The support threshold of the LLM checks is the one evals/dev gives on the real index."""

from __future__ import annotations

import json

from support.corpus import ROOT

from advisor.evaluation.calibrate_support import calibrate
from advisor.evaluation.golden import load_golden


def test_calibration_on_dev_reproduces_the_recorded_threshold(advisor):
    recorded = json.loads((ROOT / "evals" / "support_threshold.json").read_text())
    result = calibrate(advisor, load_golden([ROOT / "evals" / "dev" / "golden.jsonl"]))
    assert abs(result["threshold"] - recorded["threshold"]) <= 0.03  # else: rerun calibrate_support
    assert 0.03 <= result["false_accept_rate"] <= 0.07
    assert result["supported_pairs"] > 50 and result["unsupported_pairs"] > 1000
