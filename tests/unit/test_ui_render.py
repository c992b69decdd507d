"""The page's pure rendering rules (apps/ui: render, conversations, records, answering, auth, feedback): Markdown
and highlights, markers and their numbering, who answered, exports, ratings, undo and edits. No browser, no model,
no server; the real page is driven in tests/browser."""

from __future__ import annotations

import json
import re
import threading
import time

import pytest

from advisor.apps import feedback
from advisor.apps.ui import answering, auth, conversations, records, render


def test_markdown_tables_render_as_tables_and_quoted_rows_are_highlighted():
    text = "| Experience | Salary Range |\n|---|---|\n| 5-8 Years | ₹30–60 LPA |\n| 8-12 Years | ₹50–90 LPA |"
    html = render.markdown_html(text, ["AI Architect Salaries: 5-8 Years — Salary Range: ₹30–60 LPA"])
    assert "<table>" in html and "|" not in html
    rows = re.findall(r"<tr[^>]*>.*?</tr>", html, re.S)
    quoted = [r for r in rows if re.search(r'class="quoted\b', r)]
    assert len(quoted) == 1 and "5-8 Years" in quoted[0]


def test_markdown_keeps_html_as_text_and_marks_a_quoted_sentence():
    html = render.markdown_html(
        "Intro. The path takes five years. <script>x()</script> ![i](http://x/y.png)", ["The path takes five years"]
    )
    assert "<script>" not in html and "&lt;script&gt;" in html and "<img" not in html
    assert "<mark class='q-0'>The path takes five years</mark>" in html


def test_answer_html_links_every_valid_marker_and_refusals_offer_buttons():
    answer = {
        "answer": "Staff engineers set direction [1]. Nothing here [7].",
        "refused": False,
        "cited": [1],
        "passages": [{"rank": 1, "id": "c1", "source": "corpus/a.md", "title": "A", "section": None, "text": "t"}],
        "generator": "extractive",
        "notices": ["Your question was long."],
    }
    html = render.answer_html({"question": "q", "answer": answer}, 3)
    assert html.count("href='#src-3-1'") == 2  # in the text and in the folded source list
    assert "[7]" not in html and "Your question was long." in html and "no language model" in html
    refusal = {**answer, "refused": True, "answer": "I can't answer that. You could ask:\n- What is X?\n- How do I Y?"}
    html = render.answer_html({"question": "q", "answer": refusal}, 0)
    assert re.findall(r"<button type='button' class='suggest'>([^<]+)</button>", html) == ["What is X?", "How do I Y?"]


@pytest.mark.parametrize(
    "generator, model, says",
    [
        ("extractive", "", "Quoted word for word from the sources (no language model)."),
        ("extractive", "local:m", "the draft of the language model (local:m) was not used"),
        ("llm", "openai:gpt-x", "Written by a language model (openai:gpt-x)"),
    ],
)
def test_who_answered_names_the_model_that_drafted(generator, model, says):
    answer = {"answer": "- one [1]\n- two [1]", "refused": False, "cited": [1], "generator": generator}
    answer |= {"passages": [{"rank": 1, "id": "c", "source": "a.md", "title": "A", "text": "one two"}]}
    answer |= {"verification": {"model": model} if model else None, "notices": ["Draft not used."]}
    html = render.answer_html({"question": "q", "answer": answer}, 0)
    assert says in html
    assert "Draft not used.</p>\n\n- one" in html  # the list starts a Markdown block of its own after the notice


def test_in_background_beats_while_waiting_raises_errors_and_closes_its_source_when_closed():
    closed = threading.Event()

    def slow(fail: bool = False):
        try:
            yield "a"
            time.sleep(0.6)
            yield "b"
            if fail:
                raise ValueError("broken")
            time.sleep(2)
            yield "late"
        finally:
            closed.set()

    items = answering.in_background(slow(), beat=0.1)
    seen = []
    for item in items:
        seen.append(item)
        if item == "b":
            break
    assert seen[0] == "a" and seen[-1] == "b" and None in seen[1:-1]  # control came back while "b" was due
    items.close()
    assert closed.wait(timeout=120)  # the worker stopped after its current item and closed the source
    with pytest.raises(ValueError, match="broken"):
        list(answering.in_background(slow(fail=True), beat=0.1))


def test_long_messages_are_collapsed():
    html = render.question_html("word " * 1000)
    visible, _, hidden = html.partition("<details")
    assert len(visible.strip()) <= render.LONG_QUESTION and "Show the whole question" in hidden


def test_export_quotes_every_line_of_each_answers_sources():
    passage = {"rank": 1, "id": "c", "source": "corpus/a.md", "title": "A", "section": "S", "text": "one\n\ntwo"}
    conv = {
        "id": "x",
        "title": "",
        "exchanges": [
            {"question": "Q1?", "answer": {"answer": "A1 [1].", "cited": [1], "passages": [passage]}, "rating": "up"},
            {"question": "Q2?", "error": "Stopped before the answer was finished."},
        ],
    }
    md = records.conversation_markdown(conv)
    assert md.startswith("# Q1?") and "Exported " in md
    assert "> [1] *A — S* (corpus/a.md)\n>\n> one\n>\n> two" in md
    assert "**You:** Q2?" in md and "Stopped before" in md


def test_feedback_keeps_one_current_rating_per_answer(tmp_path):
    path = tmp_path / "feedback.jsonl"
    exchange = {"id": "a1", "question": "Q", "answer": {"answer": "A [1]", "cited": [1], "passages": []}}
    for rating, comment in (("up", ""), ("down", ""), ("down", "too vague")):
        feedback.save_feedback(path, {**exchange, "rating": rating, "comment": comment})
    feedback.save_feedback(path, {**exchange, "id": "a2", "rating": "up"})
    feedback.save_feedback(path, {**exchange, "id": "a2", "rating": None})  # withdrawn
    current = feedback.current_feedback(path)
    assert list(current) == ["a1"] and current["a1"]["rating"] == "down" and current["a1"]["comment"] == "too vague"


def test_each_user_sees_only_their_conversations():
    store = {"users": {}}
    conversations.current(conversations.user_space(store, "ann"))["exchanges"].append({"question": "ann's question"})
    bob = conversations.user_space(store, "bob")
    assert all(not c["exchanges"] for c in bob["conversations"])
    assert conversations.user_space("garbage", "ann")["conversations"]  # malformed browser data starts afresh
    handed_back = {"users": {}, "__type__": "update"}  # how the page returns the store after a stopped stream
    conversations.user_space(handed_back, "ann")
    assert "__type__" not in handed_back and "ann" in handed_back["users"]


PARAGRAPH = "Architects own the design. Engineers ship the code. Both review risks."


@pytest.mark.parametrize(
    "quotes, marked",
    [
        (["Engineers ship the code", "Both review risks"], ["Engineers ship the code", "Both review risks"]),
        (["Both review risks", "Architects own the design"], ["Architects own the design", "Both review risks"]),
        (["Architects own the design"], ["Architects own the design"]),
        (["Nothing of this is in the text"], []),
    ],
)
def test_every_quoted_sentence_of_a_paragraph_is_marked(quotes, marked):
    html = render.markdown_html(PARAGRAPH, quotes)
    assert re.findall(r"<mark class='q-\d+'>([^<]+)</mark>", html) == marked
    for k, q in enumerate(quotes):  # each mark names the quote it stands for
        if q in marked:
            assert f"<mark class='q-{k}'>{q}</mark>" in html


def test_each_marker_points_at_the_sentence_it_ends():
    passage = {"rank": 1, "id": "c1", "source": "corpus/a.md", "title": "Roles", "section": None, "text": PARAGRAPH}
    text = "- Architects own the design [1]\n- Both review risks [1]"
    answer = {"answer": text, "refused": False, "cited": [1], "passages": [passage], "generator": "extractive"}
    chat = render.answer_html({"question": "q", "answer": answer}, 0)
    links = re.findall(r"<a class='cite (q-\d+)' href='#src-0-1'[^>]*>", chat)
    assert links == ["q-0", "q-1"]
    card = render.sources_group({"question": "q", "answer": answer}, 0, True)
    assert "<mark class='q-0'>Architects own the design</mark>" in card
    assert "<mark class='q-1'>Both review risks</mark>" in card
    assert "title='Roles'" in chat  # a marker names its source (the page makes it the link's name)


def test_an_edit_that_replaces_later_exchanges_keeps_the_conversation_as_it_was():
    space = {
        "current": "a",
        "conversations": [{"id": "a", "title": "", "exchanges": [{"question": "Q1"}, {"question": "Q2"}]}],
    }
    space["conversations"].append({"id": "b", "title": "Other", "exchanges": [{"question": "B1"}]})
    kept = conversations.keep_before_edit(space, space["conversations"][0])
    assert [c["id"] for c in space["conversations"]] == ["a", kept["id"], "b"]
    assert kept["title"] == "Q1 (before the edit)" and [e["question"] for e in kept["exchanges"]] == ["Q1", "Q2"]
    space["conversations"][0]["exchanges"][0]["question"] = "Q1 edited"
    assert kept["exchanges"][0]["question"] == "Q1"  # a copy, not the same exchanges


@pytest.mark.parametrize(
    "sent, question, same",
    [
        ("What is X &amp; Y?", "What is X & Y?", True),
        ([{"type": "text", "text": "What is X & Y?"}], "What is X & Y?", True),
        ({"text": "What is X &amp; Y?"}, "What is X & Y?", True),
        ("What is Z?", "What is X & Y?", False),
        (None, "What is X?", False),
    ],
)
def test_an_edit_applies_only_to_the_question_it_was_opened_on(sent, question, same):
    assert conversations.same_message(sent, render.question_html(question)) is same


def test_sessions_that_acted_are_remembered_the_oldest_forgotten_first():
    acted = auth.Sessions(limit=2)
    for session in ("a", "b", "c"):
        acted.add(session)
    assert [acted.seen(s) for s in ("a", "b", "c", "d")] == [False, True, True, False]


def test_an_unfinished_answer_left_by_a_closed_page_says_it_was_interrupted():
    space = {"conversations": [{"exchanges": [{"answer": None, "partial": "half"}, {"answer": {"answer": "A"}}]}]}
    conversations.mark_interrupted(space)
    first, second = space["conversations"][0]["exchanges"]
    assert first == {"answer": None, "error": "This answer was interrupted."} and "error" not in second


@pytest.mark.parametrize(
    "text, ranks, numbers",
    [
        ("A [3]. B [1]. C [3].", [1, 2, 3], {3: 1, 1: 2, 2: 3}),  # first use first, the uncited after
        ("A [1]. B [2].", [1, 2, 3], {1: 1, 2: 2, 3: 3}),  # already in order: unchanged
        ("A [2][1]. B [4].", [1, 2, 3], {2: 1, 1: 2, 3: 3}),  # [4] names no passage: ignored
        ("No markers.", [2, 1], {1: 1, 2: 2}),
        ("", [], {}),
    ],
)
def test_markers_are_numbered_in_order_of_first_use(text, ranks, numbers):
    assert render.display_numbers(text, ranks) == numbers


def _passage(rank: int, title: str, text: str) -> dict:
    return {
        "rank": rank,
        "id": f"c{rank}",
        "source": f"corpus/{rank}.md",
        "title": title,
        "section": None,
        "text": text,
    }


def test_the_chat_the_sources_and_the_export_number_sources_alike():
    passages = [
        _passage(1, "One", "First fact here."),
        _passage(2, "Two", "Second fact here."),
        _passage(3, "Three", "x"),
    ]
    answer = {"answer": "- Second fact here [2]\n- First fact here [1]", "refused": False, "cited": [2, 1]}
    exchange = {"question": "q", "answer": answer | {"passages": passages, "generator": "extractive"}}
    chat = render.answer_html(exchange, 0)
    assert re.findall(r"href='#src-0-(\d)'[^>]*>\[(\d)\]", chat) == [("1", "1"), ("2", "2"), ("1", "1"), ("2", "2")]
    assert chat.index("title='Two'") < chat.index("title='One'")  # the first cited is [1]
    cards = render.sources_group(exchange, 0, True)
    shown = re.findall(r"id='src-0-(\d)' data-rank='\d'[^>]*aria-label='Source \d: (\w+)'", cards)
    assert shown == [("1", "Two"), ("2", "One"), ("3", "Three")]
    assert "<mark class='q-0'>Second fact here</mark>" in cards.split("id='src-0-2'")[0]
    md = records.conversation_markdown({"id": "x", "title": "", "exchanges": [exchange]})
    assert "Second fact here [1]" in md and "First fact here [2]" in md
    assert md.index("> [1] *Two*") < md.index("> [2] *One*")
    assert answer["answer"] == "- Second fact here [2]\n- First fact here [1]"  # the stored answer is unchanged


def test_a_stopped_answer_keeps_what_it_had_written_marked_as_stopped():
    exchange = {"question": "Q?", "answer": None, "error": render.STOPPED, "partial": "Half of it [2] and more"}
    html = render.answer_html(exchange, 4)
    assert "answer stopped ex-4" in html and "Half of it and more" in html and render.STOPPED in html
    assert "[2]" not in html  # no sources are kept to link it to
    md = records.conversation_markdown({"id": "x", "title": "", "exchanges": [exchange]})
    assert f"**Advisor:** Half of it and more\n\n*{render.STOPPED}*" in md
    assert render.answer_html({"question": "Q?", "answer": None, "error": render.STOPPED}, 0).endswith(
        f"{render.STOPPED}</em></p>"
    )


def _space(*titles: str, current: int = 0) -> dict:
    convs = [{"id": t, "title": t, "exchanges": [{"question": f"{t}?"}]} for t in titles]
    return {"current": titles[current], "conversations": convs}


@pytest.mark.parametrize(
    "titles, current, kind, after, note",
    [
        (("a", "b", "c"), 1, "deleted", ["a", "c"], "Deleted “b”."),
        (("a", "b"), 0, "deleted", ["b"], "Deleted “a”."),
        (("a", "b"), 1, "cleared", ["a", "b"], "Emptied “b”."),
    ],
)
def test_a_deleted_or_emptied_conversation_comes_back_with_undo(titles, current, kind, after, note):
    space = _space(*titles, current=current)
    before = json.loads(json.dumps(space))
    record = conversations.take_away(space, kind)
    assert [c["id"] for c in space["conversations"]] == after and space["undo"] is record
    assert conversations.undo_note(record) == note
    conversations.restore(space, space.pop("undo"))
    assert space == before


def test_nothing_to_undo_says_nothing():
    assert conversations.undo_note(None) == "" and conversations.undo_note({"kind": "deleted"}) == ""


@pytest.mark.parametrize(
    ("extra", "says"), [("multilingual-e5-small", "dense + multilingual-e5-small + BM25"), ("", "(dense + BM25)")]
)
def test_the_technical_details_name_the_retrieval_models_in_use(extra, says):
    from types import SimpleNamespace

    from advisor.apps.ui.knowledge import technical_markdown
    from advisor.settings import Settings

    status = {"embedding_model": "all-MiniLM-L6-v2", "documents": 2, "chunks": 9, "chroma": "embedded"}
    advisor = SimpleNamespace(settings=Settings.from_env({}, extra_embedding_model=extra), status=lambda: status)
    line = technical_markdown(advisor)
    assert says in line and "all-MiniLM-L6-v2" in line and "9 passages" in line
