"""Greetings and questions in another language (issue 20.11): pure tables, and no English golden question is taken
for another language (the corpus's vocabulary built the way the retriever builds it, without the model)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from advisor.answer.intake import english_share, greeting, other_language
from advisor.retrieval.hybrid import _stemmer, unknown_words

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    "text, kind",
    [
        ("hi", "hello"),
        ("Hello!", "hello"),
        ("hey there", "hello"),
        ("Good morning", "hello"),
        ("Hi, how are you?", "hello"),
        ("thanks", "thanks"),
        ("Thank you so much!", "thanks"),
        ("ok thanks", "thanks"),
        ("bye", "bye"),
        ("", ""),
        ("ok", ""),
        ("Hi, what does a senior role involve?", ""),
        ("Thanks, and what about certifications?", ""),
        ("How are salaries set?", ""),
        ("Which pays more?", ""),
    ],
)
def test_greeting(text, kind):
    assert greeting(text) == kind


@pytest.mark.parametrize(
    "text, unknown, other",
    [
        # Spanish, Portuguese, French, German, Italian, Dutch: few English words among them
        (
            "¿Debería ser arquitecto de IA si me gusta programar?",
            ["deber", "ser", "arquitecto", "gusta", "programar"],
            True,
        ),
        ("Quanto ganha um arquiteto de IA no Brasil?", ["quanto", "ganha", "arquiteto", "brasil"], True),
        ("Quel est le salaire d'un architecte IA en France ?", ["quel", "est", "salaire", "d'un", "france"], True),
        ("Was verdient ein KI-Architekt in Deutschland?", ["verdient", "ein", "ki-architekt", "deutschland"], True),
        ("Quanto guadagna un architetto di intelligenza artificiale?", ["quanto", "guadagna", "architetto"], True),
        ("Hoeveel verdient een AI-architect in Nederland?", ["hoeveel", "verdient", "een", "nederland"], True),
        ("AI架构师的薪水是多少？", [], True),  # another script
        ("Сколько зарабатывает архитектор?", [], True),
        # English, also terse or with a word the corpus lacks
        ("What does an AI architect earn in India?", [], False),
        ("AI salary India?", [], False),
        ("How do I become a sushi chef?", ["sushi"], False),
        ("Should I become an AI archtect?", ["archtect"], False),
        ("Shuld I becme an AI archtect?", ["shuld", "becme", "archtect"], False),  # typos: no foreign word
        ("Who won the most recent Tour de France?", ["won", "recent", "tour", "france"], False),
        ("hola", ["hola"], False),  # one word: too little to tell
        ("", [], False),
    ],
)
def test_other_language(text, unknown, other):
    assert other_language(text, unknown) is other


@pytest.mark.parametrize(
    "text, unknown, share",
    [
        ("What is MLOps", [], (1.0, 3, 0)),
        ("de en IA", [], (1.0, 0, 0)),  # nothing to tell by
        ("sobre el arquitecto", ["sobre", "arquitecto"], (0.0, 3, 1)),
        ("Who won the Tour de France?", ["won", "tour", "france"], (0.4, 5, 0)),
    ],
)
def test_english_share_counts_function_words_known_words_and_foreign_function_words(text, unknown, share):
    assert english_share(text, unknown) == share


def _vocabulary(*corpora: str) -> set[str]:
    """Every stemmed word of the corpora's documents, as the retriever's BM25 vocabulary holds it."""
    stem = _stemmer().stemWord
    text = " ".join(p.read_text(encoding="utf-8").lower() for c in corpora for p in (ROOT / c).rglob("*.md"))
    return {stem(w) for w in re.findall(r"[a-z0-9]+", text)}


OTHER = "evals/corpora/other-careers"


@pytest.mark.parametrize(
    "golden, corpora",
    [
        ("evals/dev/golden.jsonl", ["corpus"]),
        ("evals/test/golden.jsonl", ["corpus"]),
        (f"{OTHER}/golden.jsonl", ["corpus", f"{OTHER}/corpus"]),
        (f"{OTHER}/golden-decision.jsonl", ["corpus", f"{OTHER}/corpus"]),
    ],
)
def test_no_english_golden_question_is_taken_for_another_language_or_a_greeting(golden, corpora):
    vocab = _vocabulary(*corpora)
    items = [json.loads(line) for line in (ROOT / golden).read_text().splitlines() if line.strip()]
    questions = [q for item in items for q in [item["question"], *item.get("history", [])]]
    wrong = [q for q in questions if other_language(q, unknown_words(q, vocab)) or greeting(q)]
    assert len(questions) >= 18 and wrong == []


def test_conjunctions_and_contractions_are_no_words_the_corpus_lacks():
    vocab = {_stemmer().stemWord(w) for w in ("staff", "focus", "next", "level")}
    question = "Once I'm at staff, what should I focus on next, unless it's the leap? Don't say Acme's."
    assert unknown_words(question, vocab) == ["leap", "say", "acme"]


def test_chat_words_and_short_units_are_no_words_the_corpus_lacks():
    vocab = {_stemmer().stemWord(w) for w in ("years", "staff", "bite")}
    question = "tbh ive done 5 yrs, gonna bite me when I go for staff or nah? idk, kinda snails pace"
    assert unknown_words(question, vocab) == ["done", "snails", "pace"]
