"""An answer being written for the page or the API: its steps in a worker thread, so Stop is honoured within
`BEAT_SECONDS`, and an API answer is abandoned once its client has left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

from advisor.schema import Answer
from advisor.streaming import in_worker

BEAT_SECONDS = 0.25  # while an answer is being written, the page gets control back this often (for Stop)


def answer_while_present(items: Iterator, left: Callable[[], bool]) -> Answer | None:
    """The `Answer` that `items` (an `Advisor.stream`) ends with, or None once `left()` says the caller left.

    `left` is asked every `BEAT_SECONDS` at most; an abandoned stream is closed (a model stops drafting).
    """
    produced = in_background(items)
    try:
        for item in produced:
            if left():
                return None
            if isinstance(item, Answer):
                return item
        raise RuntimeError("the answer stream ended without an answer")
    finally:
        produced.close()


def in_background(items: Iterator, beat: float = BEAT_SECONDS) -> Iterator:
    """The items of `items`, produced in a worker thread; `None` whenever `beat` seconds pass without one.

    An answer is written in steps that can block for long (a model's first token takes seconds); here the
    caller gets control back every `beat` seconds, so it notices Stop at once. Once this is closed, the
    worker stops after its current item and closes `items` (a model stops drafting). Errors are raised here.
    """
    return in_worker(items, lambda: beat, name="advisor-answer")
