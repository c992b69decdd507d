"""The browser UI (Gradio 6): conversations kept in the browser, streamed answers whose `[n]` markers open
the passage they cite, sources kept with each answer, and the whole document one click away.

`controller.py` holds what each control does (no Gradio: unit tests drive it), `app.py` builds the page
(`create_app`) and wires each control to the controller, `server.py` launches it (`serve`); what the page shows
is drawn by `render.py` from the one stored value of `conversations.py`; `records.py` writes exports, `auth.py`
decides who may do what, `api.py` holds the HTTP API's rules. The UI reads the index only through the `Advisor`
facade.
"""

from __future__ import annotations

__all__ = ["create_app", "serve"]


def __getattr__(name: str):
    """`create_app` and `serve` on first use, so the controller and the pure modules load without Gradio."""
    if name == "create_app":
        from advisor.apps.ui.app import create_app

        return create_app
    if name == "serve":
        from advisor.apps.ui.server import serve

        return serve
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
