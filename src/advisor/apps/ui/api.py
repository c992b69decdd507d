"""The HTTP API (`/ask`): its answer (`api_answer`) and its rules (the passages-per-answer parameter)."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable

from advisor.apps.ui.answering import answer_while_present
from advisor.apps.ui.conversations import _api_exchanges, history_from_chat
from advisor.apps.ui.records import write_export
from advisor.apps.ui.render import _now, shown, sources_html
from advisor.pipeline import Advisor, IndexUnavailable, InvalidQuestion

log = logging.getLogger(__name__)

MAX_K = 20


def parse_k(value: object, default: int) -> int:
    """Passages per answer from the page or an API caller: a whole number from 1 to `MAX_K`, None for `default`;
    anything else raises `InvalidQuestion` with a one-line message."""
    if value is None or value == "":
        return default
    try:
        number = float(value) if not isinstance(value, bool) else float("nan")
    except (TypeError, ValueError):
        number = float("nan")
    if not number.is_integer() or not 1 <= number <= MAX_K:
        given = str(value)[:20]
        raise InvalidQuestion(f"k (passages per answer) must be a whole number from 1 to {MAX_K}, not {given!r}")
    return int(number)


def api_answer(
    advisor: Advisor, message: object, chat: object, k: object, previous: str | None, left: Callable[[], bool]
) -> tuple[list[dict], str, str | None, str | None]:
    """The programmatic `ask` endpoint (gradio_client): question + chat so far -> chat, sources, export.

    It keeps the earlier contract (`predict(question, chat, k, api_name="/ask")`, result[0] is the chat)
    and stores nothing in any browser; its export is private to the calling session. An answer whose
    client has left (`left()`) is abandoned within `BEAT_SECONDS`, so it frees its answer slot for others.
    """
    question = message if isinstance(message, str) else ""
    exchange = {"id": uuid.uuid4().hex, "question": shown(question), "answer": None, "time": _now()}
    history: list[dict] = []
    try:
        history = history_from_chat(chat)
        answer = answer_while_present(advisor.stream(question, history, k=parse_k(k, advisor.settings.k)), left)
        if answer is None:  # nobody is waiting for it: nothing to write back
            log.info("an API answer was abandoned: its client left")
            return [], "", None, previous
        exchange["answer"] = answer.to_json()
        reply = answer.text
    except (InvalidQuestion, IndexUnavailable) as exc:
        exchange["error"] = reply = str(exc)
    except Exception as exc:  # one line for the caller, the traceback in the log
        log.exception("answering failed")
        exchange["error"] = reply = f"The index could not be read ({type(exc).__name__})."
    turns = [{"role": t["role"], "content": shown(t["content"])} for t in history]
    turns += [{"role": "user", "content": exchange["question"]}, {"role": "assistant", "content": reply}]
    conv = {"id": "api", "title": "", "exchanges": [*_api_exchanges(history), exchange]}
    path = write_export(conv, previous)
    return turns, sources_html([exchange]), path, path
