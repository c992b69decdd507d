"""The one timer of the stages: milliseconds since a `time.perf_counter()` reading, as `Answer.timings_ms`
and the LLM's timing notices report them."""

from __future__ import annotations

import time


def ms_since(t0: float, digits: int = 2) -> float:
    """Milliseconds elapsed since `t0` (a `time.perf_counter()` value), rounded to `digits` decimals."""
    return round((time.perf_counter() - t0) * 1000, digits)
