import pytest

from advisor.text import attach_marker, cited_numbers, drop_invalid_markers, markers_valid


@pytest.mark.parametrize(
    ("text", "numbers"),
    [("A [1]. B [2][3]. C [1].", [1, 2, 3]), ("none", []), ("[10] and [2]", [10, 2])],
)
def test_cited_numbers(text, numbers):
    assert cited_numbers(text) == numbers


@pytest.mark.parametrize(
    ("text", "n", "valid", "cleaned"),
    [
        ("A [1]. B [2].", 2, True, "A [1]. B [2]."),
        ("A [1]. B [3].", 2, False, "A [1]. B ."),
        ("A [0].", 2, False, "A ."),
    ],
)
def test_marker_validity(text, n, valid, cleaned):
    assert markers_valid(text, n) is valid
    assert drop_invalid_markers(text, n) == cleaned
    assert markers_valid(drop_invalid_markers(text, n), n)


@pytest.mark.parametrize(
    ("sentence", "out"),
    [("Architects code less.", "Architects code less [2]."), ("A table row — $5K", "A table row — $5K [2]")],
)
def test_attach_marker(sentence, out):
    assert attach_marker(sentence, 2) == out
