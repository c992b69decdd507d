"""The Markdown lists of a passage, each with the line that introduces it: what a "which X" question
asks to enumerate, and what a decision's conditional list ("Choose X if you enjoy ...") offers (pure)."""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class ListBlock:
    """A Markdown list of one passage: the line introducing it (or the section) and its items.

    A list introduced by a lower-case continuation ("using technologies such as:") belongs to the
    list before it and is kept with it as a further (label, items) segment.
    """

    label: str
    items: tuple[str, ...]
    more: tuple[tuple[str, tuple[str, ...]], ...] = ()

    @property
    def all_items(self) -> tuple[str, ...]:
        return self.items + tuple(i for _, its in self.more for i in its)


_ITEM = re.compile(r"^\s*(?:[-*+•]|\d+[.)])\s+")


def list_blocks(text: str, section: str | None = None) -> list[ListBlock]:
    """The Markdown lists in a passage, each with the line that introduces it (pure).

    The label is the line just above the list when it ends with ":" ("Typical tools include:"),
    else the passage's own heading. Lists of fewer than two items are not lists.
    """
    blocks: list[ListBlock] = []
    label: str | None = None
    items: list[str] = []
    previous = ""
    heading = section.split(" > ")[-1] if section else ""

    def close() -> None:
        if label and label[:1].islower() and blocks and items:
            last = blocks[-1]
            blocks[-1] = ListBlock(last.label, last.items, (*last.more, (label, tuple(items))))
        elif len(items) >= 2:
            blocks.append(ListBlock(label or heading, tuple(items)))
        items.clear()

    for raw in text.split("\n"):
        line = raw.strip()
        if not line:
            continue
        if _ITEM.match(line):
            if not items:
                label = previous.rstrip(":").strip() if previous.endswith(":") else None
            items.append(_ITEM.sub("", line).strip())
            continue
        close()
        previous = line
    close()
    titled = titled_items(text)
    if len(titled) >= 3 and not blocks:
        blocks.append(ListBlock(heading, titled))
    return blocks


_SENTENCE_END = re.compile(r"[.!?:;\"”]$")


def titled_items(text: str) -> tuple[str, ...]:
    """The names of a passage written as a list without bullets: each a short line with no closing stop,
    followed by a line describing it ("Kiln Safety Certificate (KSC)" / "KSC is the usual first credential."),
    when such pairs make up the passage (pure)."""
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    titles = [
        a
        for a, b in zip(lines, lines[1:], strict=False)
        if len(a.split()) <= 12 and not _SENTENCE_END.search(a) and _SENTENCE_END.search(b) and len(b.split()) > 3
    ]
    return tuple(titles) if 2 * len(titles) >= len(lines) - 1 else ()


def titled_pairs(text: str) -> dict[str, str]:
    """Each describing line of a passage of titled pairs (`titled_items`) with its title: "KSC is the usual first
    credential." -> "Kiln Safety Certificate (KSC)": a describing line is quoted with its title, which names what
    it describes and often who awards it ("Certifies skills in …" names neither) (pure)."""
    titles = set(titled_items(text))
    lines = [ln.strip() for ln in text.split("\n") if ln.strip()]
    return {b: a for a, b in zip(lines, lines[1:], strict=False) if a in titles}


def item_labels(text: str, section: str | None = None) -> dict[str, str]:
    """Each list item of a passage with the line introducing its list ("Typical mistakes"): an item's own
    heading, which its words leave out (pure)."""
    return {
        item: label
        for block in list_blocks(text, section)
        for label, items in ((block.label, block.items), *block.more)
        for item in items
    }
