"""`advisor.streaming.in_worker`: items from a worker thread, control back while a step blocks."""

from __future__ import annotations

import threading
import time

import pytest

from advisor.streaming import in_worker


def slow(items, pause: float, fail: bool = False, closed: threading.Event | None = None):
    try:
        for item in items:
            time.sleep(pause)
            yield item
        if fail:
            raise RuntimeError("the step failed")
    finally:
        if closed is not None:
            closed.set()


def test_items_arrive_in_order_with_a_none_whenever_the_wait_passes():
    got = list(in_worker(slow([1, 2], pause=0.3), lambda: 0.05))
    assert [x for x in got if x is not None] == [1, 2] and got.count(None) >= 2


def test_an_error_of_the_step_is_raised_to_the_consumer():
    with pytest.raises(RuntimeError, match="the step failed"):
        list(in_worker(slow([1], pause=0.0, fail=True), lambda: 1.0))


def test_closing_stops_the_worker_and_closes_the_step():
    closed = threading.Event()
    items = in_worker(slow(range(1000), pause=0.01, closed=closed), lambda: 1.0)
    assert next(items) == 0
    items.close()
    assert closed.wait(timeout=60)
