"""What the reliability tests of every folder share (tests/unit, integration and browser `test_reliability*`): a
huge history, an answered exchange as the page stores it, and a ceiling on how long a call may take."""

from __future__ import annotations

import threading

HUGE = "AI architect " * 80_000  # 1 MB of subject mentions: condensing it took about an hour

EXCHANGE = {
    "id": "a1",
    "question": "Q?",
    "answer": {
        "answer": "A [1].",
        "cited": [1],
        "refused": False,
        "passages": [{"rank": 1, "id": "c1", "source": "corpus/a.md", "text": "A."}],
    },
}


def finishes(fn, ceiling: float = 120.0):
    """Run `fn` in a thread; its result once it finishes, or fail when it is still working after `ceiling` s."""
    out: list = []
    worker = threading.Thread(target=lambda: out.append(fn()), daemon=True)
    worker.start()
    worker.join(ceiling)
    assert out, f"still working after {ceiling:.0f} s"
    return out[0]
