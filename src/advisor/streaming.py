"""The one worker that streams: an iterator's items produced in a worker thread, so the consumer gets
control back while a step blocks (a model's first token takes seconds), notices Stop at once, and can
give up after a deadline. Used by the LLM generator (timeouts) and the browser UI (Stop)."""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

T = TypeVar("T")
_END = object()


def in_worker(items: Iterator[T], wait: Callable[[], float], name: str = "advisor-stream") -> Iterator[T | None]:
    """The items of `items`, produced in a worker thread; `None` whenever `wait()` seconds pass without one
    (asked afresh for each wait, so a caller can shorten it toward a deadline).

    Once this is closed, the worker stops after its current item and closes `items` (a model stops
    drafting). An error raised by `items` is raised here.
    """
    out: queue.Queue = queue.Queue()
    stop = threading.Event()

    def work() -> None:
        try:
            for item in items:
                out.put(item)
                if stop.is_set():
                    break
        except BaseException as exc:  # handed to the consumer, which reports it
            out.put(exc)
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()
            out.put(_END)

    threading.Thread(target=work, daemon=True, name=name).start()
    try:
        while True:
            try:
                item = out.get(timeout=max(wait(), 0.0))
            except queue.Empty:
                yield None
                continue
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
