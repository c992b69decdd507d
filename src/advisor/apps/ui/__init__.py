"""The browser UI (Gradio 6): conversations kept in the browser, streamed answers whose `[n]` markers open
the passage they cite, sources kept with each answer, and the whole document one click away.

`app.py` builds the page (`create_app`), `server.py` launches it (`serve`); what the page shows is drawn by
`render.py` from the one stored value of `conversations.py`; `records.py` writes exports, `auth.py` decides who
may do what, `api.py` holds the HTTP API's rules. The UI reads the index only through the `Advisor` facade.
"""

from advisor.apps.ui.app import create_app
from advisor.apps.ui.server import serve

__all__ = ["create_app", "serve"]
