"""`serve()`: the app launched on 127.0.0.1 (no share link, analytics off), behind the login gate when
login is on; stale exports of servers that are gone are cleaned up first.
"""

from __future__ import annotations

import logging
import os

from advisor.apps.ui.app import create_app
from advisor.apps.ui.auth import LoginGate, parse_auth
from advisor.apps.ui.gradio_loader import load_gradio
from advisor.apps.ui.records import clean_stale_exports
from advisor.apps.ui.render import page_head
from advisor.pipeline import (
    Advisor,
)
from advisor.settings import Settings

gr = load_gradio()
log = logging.getLogger(__name__)

# Gradio's queue looks for work every millisecond while it has none, and for progress to send every 10 ms: an
# idle server spent 3.2% of a core (1.2% with the first loop at 20 ms, 0.65% with both). Every 20 ms still starts
# an answer without a delay a reader could notice; the page shows no Gradio progress, so 100 ms costs nothing.
QUEUE_POLL_SECONDS = 0.02
PROGRESS_POLL_SECONDS = 0.1


def theme() -> gr.themes.Base:
    """Gradio's Soft theme with darker blues, so text on buttons and labels keeps a 4.5:1 contrast (light and dark)."""
    return gr.themes.Soft(primary_hue="blue").set(
        button_primary_background_fill="*primary_700",
        button_primary_background_fill_hover="*primary_800",
        button_primary_background_fill_dark="*primary_700",
        button_primary_background_fill_hover_dark="*primary_800",
        button_primary_text_color="white",
        block_label_text_color="*primary_800",
        block_title_text_color="*primary_800",
        checkbox_label_background_fill_selected="*primary_700",
        checkbox_label_text_color_selected="white",
    )


def poll_queue_less(app: gr.Blocks) -> bool:
    """Let the idle queue of `app` (after `app.queue()`) look for work every `QUEUE_POLL_SECONDS` and for progress
    every `PROGRESS_POLL_SECONDS`. The settings are private to Gradio (6.31): without them this logs a warning and
    returns False, and a unit test fails."""
    queue = getattr(app, "_queue", None)
    polls = {"sleep_when_free": QUEUE_POLL_SECONDS, "progress_update_sleep_when_free": PROGRESS_POLL_SECONDS}
    if not all(isinstance(getattr(queue, name, None), float) for name in polls):
        log.warning("this Gradio has no queue poll settings: an idle server polls every millisecond")
        return False
    for name, seconds in polls.items():
        setattr(queue, name, max(getattr(queue, name), seconds))
    return True


def serve(
    settings: Settings | None = None, host: str | None = None, port: int | None = None, advisor: Advisor | None = None
) -> None:
    """Warm the advisor up, then serve the UI (blocking). Binds 127.0.0.1 unless told otherwise.

    `advisor` serves one built with other stages (tests slot a slow generator in); by default one from `settings`.
    """
    from starlette.middleware import Middleware

    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    settings = settings or (advisor.settings if advisor else Settings.from_env())
    auth = parse_auth(settings.auth)
    advisor = advisor or Advisor(settings)
    try:
        advisor.warm_up()
    except Exception as exc:  # the page opens and shows what is wrong in its banner
        print(f"advisor: the index is not usable: {exc}")
    if removed := clean_stale_exports():
        log.info("removed %d export folders left by servers that are gone", removed)
    app = create_app(advisor, host=host or settings.host).queue(default_concurrency_limit=4)
    poll_queue_less(app)
    app.launch(
        server_name=host or settings.host,
        server_port=port or settings.port,
        share=False,
        auth=auth,
        show_error=False,
        theme=theme(),
        head=page_head(),
        footer_links=[],
        app_kwargs={"middleware": [Middleware(LoginGate)]},
        # Gradio's start-up probe (one HEAD of the page, 3 s timeout) only decides whether a share link is
        # needed; we never share, and on a busy machine the probe timed out and Gradio exited.
        _frontend=False,
    )
