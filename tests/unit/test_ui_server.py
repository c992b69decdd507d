"""`serve()`'s setting of Gradio's private queue poll: it must keep working across Gradio upgrades."""

from __future__ import annotations

import inspect
import logging
from types import SimpleNamespace

import gradio as gr
from gradio.queueing import Queue

from advisor.apps.ui.server import QUEUE_POLL_SECONDS, poll_queue_less


def test_the_idle_queue_polls_every_20_ms_and_gradio_still_reads_the_setting():
    app = gr.Blocks().queue(default_concurrency_limit=4)
    assert app._queue.sleep_when_free < QUEUE_POLL_SECONDS  # Gradio's own: every millisecond
    assert poll_queue_less(app)
    assert app._queue.sleep_when_free == QUEUE_POLL_SECONDS
    # the setting still paces the loop that waits for work (an upgrade that renames or drops it fails here)
    assert "asyncio.sleep(self.sleep_when_free)" in inspect.getsource(Queue.start_processing)


def test_a_gradio_without_the_setting_is_left_alone_with_a_warning(caplog):
    app = SimpleNamespace(_queue=SimpleNamespace(poll_interval=0.001))
    with caplog.at_level(logging.WARNING, logger="advisor.apps.ui.server"):
        assert not poll_queue_less(app)
    assert app._queue == SimpleNamespace(poll_interval=0.001)
    assert "polls every millisecond" in caplog.text
