"""Whole conversations driven through the page's `ChatController` (apps/ui/controller.py) with a scripted
`Advisor` (tests/support/fakes.py): no browser, no model, no server. The real page is tested in tests/browser."""

from __future__ import annotations

import subprocess
import sys
import tempfile
from pathlib import Path
from types import SimpleNamespace

import pytest
from support.fakes import ScriptedAdvisor

from advisor.apps.ui import records
from advisor.apps.ui.controller import ChatController, Screen
from advisor.apps.ui.conversations import current, user_space
from advisor.apps.ui.render import STOPPED, question_html
from advisor.settings import Settings


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env({}, data_dir=tmp_path / "index", corpus_dir=tmp_path / "corpus")


@pytest.fixture
def exports(tmp_path, monkeypatch) -> Path:
    """This test's own folder of exports (the process's folder is made afresh under `tmp_path`)."""
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setattr(records, "_EXPORTS", [])
    return tmp_path


def asked(control: ChatController, store: dict, question: str, user: str = "", session: str = "s1") -> Screen:
    """Ask `question` and run the answer to its end: the last screen drawn."""
    steps = list(control.ask(store, user, session, question))
    assert isinstance(steps[0], Screen) and isinstance(steps[-1], Screen)
    return steps[-1]


def exchanges(store: dict, user: str = "") -> list[dict]:
    return current(user_space(store, user))["exchanges"]


def test_an_answer_is_drawn_with_its_question_and_the_box_emptied(settings):
    control = ChatController(ScriptedAdvisor(settings, "Bakers start ", "early [1]."))
    store: dict = {"users": {}}
    steps = list(control.ask(store, "", "s1", "When do bakers start?"))
    first, last = steps[0], steps[-1]
    assert first.box == "" and "When do bakers start?" in first.messages[0]["content"]
    assert any(isinstance(step, list) for step in steps)  # the chat while the answer is written
    assert last.exportable and "Bakers start early" in last.messages[1]["content"]
    (exchange,) = exchanges(store)
    assert exchange["answer"]["answer"] == "Bakers start early [1]." and exchange["seal"]
    assert "partial" not in exchange and "A" in last.sources  # the cited passage's title


def test_a_follow_up_is_asked_with_the_conversation_so_far(settings):
    fake = ScriptedAdvisor(settings, "Bakers start early [1].")
    control = ChatController(fake)
    store: dict = {"users": {}}
    asked(control, store, "When do bakers start?")
    asked(control, store, "Why?")
    assert fake.asked[0][1] == []
    assert fake.asked[1][1] == [
        {"role": "user", "content": "When do bakers start?"},
        {"role": "assistant", "content": "Bakers start early [1]."},
    ]
    assert [e["question"] for e in exchanges(store)] == ["When do bakers start?", "Why?"]


def test_an_edit_resends_the_question_and_keeps_the_conversation_before_it(settings):
    fake = ScriptedAdvisor(settings)
    control = ChatController(fake)
    store: dict = {"users": {}}
    asked(control, store, "First?")
    asked(control, store, "Second?")
    steps = list(control.edit(store, "", "s1", 0, "First, edited?", question_html("First?")))
    assert [e["question"] for e in exchanges(store)] == ["First, edited?"]
    assert fake.asked[-1][:2] == ("First, edited?", [])  # asked afresh, with nothing before it
    kept = user_space(store, "")["conversations"][1]
    assert [e["question"] for e in kept["exchanges"]] == ["First?", "Second?"]
    assert any(level == "info" and "before this edit" in text for level, text in steps[0].notices)


def test_an_edit_of_a_question_no_longer_shown_changes_nothing(settings):
    control = ChatController(ScriptedAdvisor(settings))
    store: dict = {"users": {}}
    asked(control, store, "First?")
    (screen,) = control.edit(store, "", "s1", 0, "Edited?", question_html("A question of another conversation"))
    assert [e["question"] for e in exchanges(store)] == ["First?"]
    assert screen.notices and screen.notices[0][0] == "warning"


def test_undo_takes_the_last_exchange_away_and_puts_its_question_back(settings):
    control = ChatController(ScriptedAdvisor(settings))
    store: dict = {"users": {}}
    asked(control, store, "First?")
    asked(control, store, "Second?")
    screen = control.undo(store, "", 2)  # the second question's message
    assert [e["question"] for e in exchanges(store)] == ["First?"] and screen.box == "Second?"
    assert len(screen.messages) == 2


def test_stop_ends_the_answer_as_stopped_and_keeps_what_it_had_written(settings):
    fake = ScriptedAdvisor(settings, "Bakers start early [1]. ", "And more.", hold=True)
    control = ChatController(fake)
    store: dict = {"users": {}}
    steps = control.ask(store, "", "s1", "When do bakers start?")
    try:
        assert isinstance(next(steps), Screen)
        assert isinstance(next(steps), list)  # the first piece is written; the rest is held back
        assert control.stop(store, "", "s1") is None  # the running answer honours it
        last = list(steps)[-1]
    finally:
        fake.release.set()
    (exchange,) = exchanges(store)
    assert exchange["error"] == STOPPED and exchange["answer"] is None
    assert exchange["partial"] == "Bakers start early [1]. "
    assert STOPPED in last.messages[1]["content"] and "Bakers start early" in last.messages[1]["content"]
    assert "s1" not in control.answering


def test_stop_with_no_answer_running_marks_an_unfinished_one_stopped(settings):
    control = ChatController(ScriptedAdvisor(settings))
    store: dict = {"users": {}}
    exchanges(store).append({"id": "x", "question": "Q?", "answer": None, "partial": "Half"})
    screen = control.stop(store, "", "s1")
    assert exchanges(store)[0]["error"] == STOPPED and exchanges(store)[0]["partial"] == "Half"
    assert isinstance(screen, Screen)


def test_each_user_sees_only_their_own_conversations(settings):
    control = ChatController(ScriptedAdvisor(settings))
    store: dict = {"users": {}}
    ann = asked(control, store, "A question of Ann?", user="ann", session="a")
    bob = control.screen(store, "bob")
    assert "A question of Ann?" in ann.messages[0]["content"]
    assert bob.messages == [] and not bob.exportable
    assert all("Ann" not in title for title, _ in bob.choices)
    asked(control, store, "A question of Bob?", user="bob", session="b")
    assert [e["question"] for e in exchanges(store, "ann")] == ["A question of Ann?"]


def test_new_switch_delete_and_undo_of_the_delete(settings):
    control = ChatController(ScriptedAdvisor(settings))
    store: dict = {"users": {}}
    asked(control, store, "First?")
    first = user_space(store, "")["current"]
    control.new(store, "", "s1")
    assert exchanges(store) == []
    asked(control, store, "Second?")
    assert len(control.switch(store, "", first).choices) == 2 and exchanges(store)[0]["question"] == "First?"
    deleted = control.delete(store, "", "s1")
    assert "First?" in deleted.undo and all(cid != first for _, cid in deleted.choices)
    restored = control.undo_removal(store, "", "s1")
    assert restored.conversation == first and restored.undo == ""


def test_a_rating_opens_the_comment_row_and_a_comment_is_saved_with_it(settings):
    control = ChatController(ScriptedAdvisor(settings))
    store: dict = {"users": {}}
    asked(control, store, "When do bakers start?")
    rated = control.rate(store, "", [1, 0], True)
    assert exchanges(store)[0]["rating"] == "up" and rated.feedback == ["Like"]
    assert rated.comment.visible and rated.comment.exchange_id == exchanges(store)[0]["id"]
    saved = control.comment(store, "", rated.comment.exchange_id, "Clear and short.")
    assert exchanges(store)[0]["comment"] == "Clear and short." and not saved.comment.visible
    assert settings.feedback_file.read_text(encoding="utf-8").count("\n") == 2


def test_a_changed_answer_cannot_be_rated(settings):
    control = ChatController(ScriptedAdvisor(settings))
    store: dict = {"users": {}}
    asked(control, store, "When do bakers start?")
    exchanges(store)[0]["answer"]["answer"] = "Something the server never said [1]."
    screen = control.rate(store, "", 1, True)
    assert "rating" not in exchanges(store)[0] and screen.notices[0][0] == "warning"
    assert not settings.feedback_file.exists()


def test_the_export_is_written_only_when_asked_for_and_holds_the_conversation(settings, exports):
    control = ChatController(ScriptedAdvisor(settings))
    store: dict = {"users": {}}
    screen = asked(control, store, "When do bakers start?")
    control.undo(store, "", 0)
    asked(control, store, "Why so early?")
    assert screen.exportable
    assert not list(exports.glob("advisor-exports-*/*/*.md"))  # asking, drawing and undoing write nothing
    path = control.export(store, "", None)
    assert Path(path).parent.parent.parent == exports
    text = Path(path).read_text(encoding="utf-8")
    assert "**You:** Why so early?" in text and "Bakers start early" in text and "When do bakers" not in text
    again = control.export(store, "", path)
    assert not Path(path).exists() and Path(again).exists()  # the session's previous export is removed
    control.new(store, "", "s1")
    assert control.export(store, "", again) is None and not Path(again).exists()


def test_a_load_after_a_question_was_asked_keeps_the_question(settings):
    """A question asked before the page's load ran: the load must not draw the store it read before."""
    control = ChatController(ScriptedAdvisor(settings))
    stale: dict = {"users": {}}  # what the load read, before the question
    store: dict = {"users": {}}
    asked(control, store, "Asked before the load?")
    assert control.load(stale, "", "s1") is None
    assert [e["question"] for e in exchanges(store)] == ["Asked before the load?"]
    assert control.load({"users": {}}, "", "another page") is not None


@pytest.mark.filterwarnings("error::UserWarning")  # building the page warned: a JSON component got an int as its value
def test_the_pages_load_after_a_question_skips_each_output(settings):
    """The page's load returned `{}` in this case, which Gradio rejects (and then the load's next step never
    ran): it must return a skip for each of its outputs."""
    import gradio as gr

    from advisor.apps.ui.app import create_app

    app = create_app(ScriptedAdvisor(settings))
    load = next(fn for fn in app.fns.values() if fn.name == "on_load")
    ask = next(fn for fn in app.fns.values() if fn.name == "ask")
    request = SimpleNamespace(username=None, session_hash="s1")
    store: dict = {"users": {}}
    for _ in ask.fn("Asked before the load?", store, 5, request):
        pass
    out = load.fn({"users": {}}, request)
    assert out and set(out) == set(load.outputs)
    assert all(value == gr.skip() for value in out.values())
    assert [e["question"] for e in exchanges(store)] == ["Asked before the load?"]
    drawn = load.fn({"users": {}}, SimpleNamespace(username=None, session_hash="s2"))  # a page that did not ask
    assert set(drawn) <= set(load.outputs) and not any(value == gr.skip() for value in drawn.values())


def test_the_controller_loads_without_gradio():
    """The controller is what tests drive without a browser: loading it loads no page library (import-linter
    checks its imports too, in pyproject.toml)."""
    code = "import sys, advisor.apps.ui.controller; print(sorted(m for m in sys.modules if m.startswith('gradio')))"
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
