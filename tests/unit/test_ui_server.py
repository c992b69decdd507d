"""`serve()`'s settings of Gradio's private queue polls, and Gradio loaded without its stub writer: both use
Gradio's private parts, so they must keep working across Gradio upgrades."""

from __future__ import annotations

import inspect
import logging
import subprocess
import sys
from types import SimpleNamespace

from advisor.apps.ui.server import PROGRESS_POLL_SECONDS, QUEUE_POLL_SECONDS, gr, poll_queue_less

Queue = gr.queueing.Queue


def test_the_idle_queue_polls_less_often_and_gradio_still_reads_the_settings():
    app = gr.Blocks().queue(default_concurrency_limit=4)
    assert app._queue.sleep_when_free < QUEUE_POLL_SECONDS  # Gradio's own: every millisecond
    assert app._queue.progress_update_sleep_when_free < PROGRESS_POLL_SECONDS  # every 10 ms
    assert poll_queue_less(app)
    assert app._queue.sleep_when_free == QUEUE_POLL_SECONDS
    assert app._queue.progress_update_sleep_when_free == PROGRESS_POLL_SECONDS
    # the settings still pace the loops that wait for work and for progress (an upgrade that renames or drops
    # one fails here)
    assert "asyncio.sleep(self.sleep_when_free)" in inspect.getsource(Queue.start_processing)
    assert "asyncio.sleep(self.progress_update_sleep_when_free)" in inspect.getsource(Queue.start_progress_updates)


def test_a_gradio_without_the_setting_is_left_alone_with_a_warning(caplog):
    app = SimpleNamespace(_queue=SimpleNamespace(sleep_when_free=0.001))  # one of the two settings gone
    with caplog.at_level(logging.WARNING, logger="advisor.apps.ui.server"):
        assert not poll_queue_less(app)
    assert app._queue == SimpleNamespace(sleep_when_free=0.001)
    assert "polls every millisecond" in caplog.text


def test_gradio_loads_without_rewriting_its_stubs():
    """A fresh process's Gradio, loaded as the UI loads it, has the no-op in place of its stub writer, and
    Gradio still makes each component through that function (an upgrade that renames it or stops calling it
    fails here: the import would cost 2.9 CPU-seconds more again)."""
    code = (
        "from advisor.apps.ui.gradio_loader import load_gradio; load_gradio();"
        "import gradio.component_meta as m; print(m.create_or_modify_pyi.__name__)"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.strip() == "_no_stubs", run.stderr[-1000:]
    assert "create_or_modify_pyi(component_class" in inspect.getsource(gr.component_meta.ComponentMeta.__new__)
