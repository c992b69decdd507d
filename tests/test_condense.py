import pytest

from advisor.answer.condense import condense, roles_in


def U(text):
    return {"role": "user", "content": text}


def A(text):
    return {"role": "assistant", "content": text}


@pytest.mark.parametrize(
    ("question", "history", "standalone"),
    [
        # a question that stands alone is unchanged
        ("How much do AI architects earn?", [], "How much do AI architects earn?"),
        (
            "What does a principal engineer do?",
            [U("What does a staff AI engineer own?")],
            "What does a principal engineer do?",
        ),
        # "that level" points back at the subject
        (
            "And what comes after that level?",
            [U("What does a staff AI/ML engineer own?"), A("Staff engineers own a domain [1].")],
            "What comes after the staff AI/ML engineer level?",
        ),
        # "they" becomes the subject, plural
        (
            "How much do they earn in India?",
            [U("What does an AI architect do?")],
            "How much do AI architects earn in India?",
        ),
        ("Do they code?", [U("What do AI architects do?"), U("How much do they earn?")], "Do AI architects code?"),
        # "which one" with two subjects names both
        (
            "Which one pays more?",
            [U("What is the difference between an AI engineer and an AI architect?")],
            "Which one pays more: AI engineer or AI architect?",
        ),
        # elliptical follow-ups
        ("And in India?", [U("How much do AI engineers earn?")], "How much do AI engineers earn in India?"),
        ("What about staff engineers?", [U("What does a senior AI engineer own?")], "What does a staff engineer own?"),
        (
            "What about certifications?",
            [U("I want to become an AI architect.")],
            "What about certifications for AI architects?",
        ),
        # no subject at all: carry it in
        (
            "What skills matter most?",
            [U("Tell me about the AI architect role.")],
            "What skills matter most (AI architect)?",
        ),
        # assistant turns never provide the subject
        ("How much do they earn?", [A("Staff engineers and architects...")], "How much do they earn?"),
    ],
)
def test_condense(question, history, standalone):
    assert condense(question, history) == standalone


def test_roles_in_reading_order_singular():
    assert roles_in("Staff AI engineers vs AI architects and engineers") == ["Staff AI engineer", "AI architect"]
