"""The lecture notes the experiments reproduce, cited by title.

The notes are not shipped with chainrule; inside the project they are numbered 000–004, and the
experiments' code still says which one a claim comes from by that number (``seeds=["001"]``,
"seed 001 says ..."). A reader sees titles instead: ``cite`` rewrites "seed 001" (and "seeds
000, 003") in any text the experiments show — claims, tables, notes, titles, the report's source
column and ``chainrule experiment list`` — as the note's title.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Source:
    title: str
    kind: str

    def __str__(self):
        return f"“{self.title}”"


SOURCES = {
    "000": Source("Feedforward Networks and Backpropagation", "lecture notes, ML Methods"),
    "001": Source("Backpropagation: The Algorithm That Changed Everything", "Part V, chapters 15–19"),
    "002": Source("Artificial Neural Networks", "lecture"),
    "003": Source("Feedforward neural networks", "lecture slides"),
    "004": Source("Neural Networks: Universal Approximation & Backpropagation", "summary notes"),
}

_NUMBER = r"\d{3}"
_MENTION = re.compile(rf"\b[Ss]eeds? ({_NUMBER}(?:(?:, | and |/){_NUMBER})*)")


def title(number):
    """“Title” of source ``number`` ('001'); an unknown number stays as it is."""
    source = SOURCES.get(str(number))
    return str(source) if source else str(number)


def titles(numbers):
    """“A”, “B” for a list of source numbers (or one string such as '000, 003')."""
    if isinstance(numbers, str):
        numbers = re.findall(_NUMBER, numbers) or [numbers]
    return ", ".join(title(n) for n in numbers)


def cite(text):
    """``text`` with every 'seed NNN' / 'seeds NNN, MMM' replaced by the notes' titles."""
    if not isinstance(text, str):
        return text
    return _MENTION.sub(lambda m: titles(re.findall(_NUMBER, m.group(1))), text)


def listing(numbers):
    """One line per source: “Title” (kind)."""
    return [f"{title(n)} ({SOURCES[n].kind})" if n in SOURCES else str(n) for n in numbers]
