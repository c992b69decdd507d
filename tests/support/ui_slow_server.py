"""`advisor serve` with a slow generator slotted in through the Advisor's generator protocol, for the browser
test of Stop (the default answer comes too fast to stop).

    python tests/ui_slow_server.py DELAY PROGRESS_FILE PORT     (ADVISOR_CORPUS_DIR / ADVISOR_DATA_DIR as usual)

The default (extractive) answer is streamed word by word, DELAY seconds apart. PROGRESS_FILE gets one JSON line
per word sent and a last one saying how the answer ended: "finished", or "closed" when Stop closed it.
With SLOW_CHECK_SECONDS=S in the environment, checking the index (what a page's load reports on) takes S seconds
longer, as on a freshly started server, and PROGRESS_FILE gets `{"state": "checked"}` when a check returns.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from advisor.apps.ui import serve
from advisor.pipeline import Advisor
from advisor.schema import Composition, Passage, Turn
from advisor.settings import Settings


class SlowGenerator:
    """Wraps a generator: the same answer, one word every `delay` seconds, each step logged to `progress`."""

    def __init__(self, inner, delay: float, progress: Path) -> None:
        self.inner, self.delay, self.progress = inner, delay, progress
        self.name = inner.name

    def _log(self, question: str, sent: int, state: str) -> None:
        with self.progress.open("a", encoding="utf-8") as f:
            f.write(json.dumps({"question": question, "sent": sent, "state": state}) + "\n")

    def generate(
        self, question: str, passages: list[Passage], query_vector: np.ndarray, history: Sequence[Turn] = ()
    ) -> Iterator[str | Composition]:
        sent, state = 0, "closed"
        try:
            for item in self.inner.generate(question, passages, query_vector, history):
                if isinstance(item, Composition):
                    yield item
                    continue
                for word in re.findall(r"\S+\s*|\s+", item):
                    time.sleep(self.delay)
                    yield word
                    sent += 1
                    self._log(question, sent, "streaming")
            state = "finished"
        finally:
            self._log(question, sent, state)

    def close(self) -> None:
        self.inner.close()


def main() -> None:
    delay, progress, port = float(sys.argv[1]), Path(sys.argv[2]), int(sys.argv[3])
    base = Advisor(Settings.from_env())
    slow = SlowGenerator(base.generator, delay, progress)
    check_delay = float(os.environ.get("SLOW_CHECK_SECONDS", "0"))
    if check_delay:
        check = base.index.check

        def slow_check(*args, **kwargs):
            time.sleep(check_delay)
            try:
                return check(*args, **kwargs)
            finally:
                with progress.open("a", encoding="utf-8") as f:
                    f.write(json.dumps({"question": "", "sent": 0, "state": "checked"}) + "\n")

        base.index.check = slow_check
    serve(port=port, advisor=Advisor(base.settings, base.index, retriever=base.retriever, generator=slow))


if __name__ == "__main__":
    main()
