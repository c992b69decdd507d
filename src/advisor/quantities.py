"""Figures recognised in any text by generic patterns: currency amounts, percentages and durations.

The extractive composer puts the asked figure first and tells real disagreements from different
subjects' figures; the corpus profile learns which words of its documents name each kind.
"""

from __future__ import annotations

import re

# an amount of money, in figures or as its number of digits ("a four-figure investment", "a six-figure income")
_CURRENCY = (
    r"[$€£¥₹]\s?\d|\b\d[\d,.]*\s?(?:usd|eur|gbp|dollars?|euros?|pounds?)\b|\b(?:three|four|five|six|seven)-figure\b"
)
_PERCENT = r"\d\s?%|\b\d+(?:\.\d+)?\s?percent\b"
_COUNT = r"(?:\d[\d.,]*|one|two|three|four|five|six|seven|eight|nine|ten|twelve)"
_DURATION = (
    rf"\b{_COUNT}(?:\s?(?:[-–]|to|or)\s?{_COUNT})?\+?\s*(?:more\s+)?(?:years?|yrs?|months?|weeks?|days?|hours?)\b"
)
FIGURE_KINDS: dict[str, re.Pattern] = {
    "currency": re.compile(_CURRENCY, re.I),
    "percent": re.compile(_PERCENT, re.I),
    "duration": re.compile(_DURATION, re.I),
}


def figure_kind(text: str) -> str | None:
    """The first kind of figure a text holds (currency, percent, duration), else None."""
    for kind, pattern in FIGURE_KINDS.items():
        if pattern.search(text):
            return kind
    return None
