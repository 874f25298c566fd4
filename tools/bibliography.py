"""The bibliography, book/references.bib, read just enough for author-year citations.

The Colab editions cannot use Sphinx's bibliography, so `{cite}` is rewritten from this reading
of the .bib file: entries by key, each field as plain Unicode (LaTeX accents composed).
"""

from __future__ import annotations

import re
import unicodedata

BIB_ENTRY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")
BIB_FIELD = re.compile(r"\s*(\w+)\s*=\s*")
BIB_COMMA = re.compile(r"\s*,?")
LATEX_ACCENTS = {"'": "\u0301", '"': "\u0308", "`": "\u0300", "^": "\u0302", "~": "\u0303"}


class BibliographyError(ValueError):
    """The .bib file cannot be read; the message shows where."""


def bib_value(text: str, start: int) -> tuple[str, int]:
    """The braced or quoted value that starts at `text[start]`, and the index after it."""
    if text[start] == '"':
        end = text.index('"', start + 1)
        return text[start + 1 : end], end + 1
    depth = 0
    for index in range(start, len(text)):
        depth += {"{": 1, "}": -1}.get(text[index], 0)
        if depth == 0:
            return text[start + 1 : index], index + 1
    near = text[start : start + 60]
    raise BibliographyError(f"unbalanced braces in the bibliography near: {near!r}")


def plain_latex(value: str) -> str:
    """BibTeX text as plain Unicode: accents like {\\'e} composed, braces and spaces dropped."""
    value = re.sub(
        r"\{?\\([\'\"`^~])\{?(\w)\}?\}?",
        lambda m: m.group(2) + LATEX_ACCENTS[m.group(1)],
        value,
    )
    value = value.replace("--", "\u2013").replace("{", "").replace("}", "")
    return unicodedata.normalize("NFC", " ".join(value.split()))


def read_bibliography(text: str) -> dict[str, dict[str, str]]:
    """Entries of a .bib file: key -> {field: plain text}, field names in lower case."""
    entries = {}
    for entry in BIB_ENTRY.finditer(text):
        fields, position = {}, entry.end()
        while match := BIB_FIELD.match(text, position):
            value, position = bib_value(text, match.end())
            fields[match.group(1).lower()] = plain_latex(value)
            position = BIB_COMMA.match(text, position).end()
        entries[entry.group(1)] = fields
    return entries


def surnames(entry: dict[str, str]) -> list[str]:
    """The authors' family names: "Kingma, Diederik P. and Welling, Max" -> [Kingma, Welling]."""
    names = entry.get("author", "Anonymous").split(" and ")
    return [name.split(",")[0].strip() if "," in name else name.split()[-1] for name in names]


def authors_and_year(entry: dict[str, str]) -> tuple[str, str]:
    """("Kingma and Welling", "2014"); ("Radford et al.", "2016") for three authors or more."""
    names = surnames(entry)
    who = " and ".join(names) if len(names) <= 2 else f"{names[0]} et al."
    return who, entry.get("year", "n.d.")


def reference_line(entry: dict[str, str]) -> str:
    """One entry of the reference list: authors (year). Title. *Venue*. Note."""
    names = [
        " ".join(reversed([part.strip() for part in name.split(",", 1)]))
        for name in entry.get("author", "Anonymous").split(" and ")
    ]
    authors = names[0] if len(names) == 1 else f"{', '.join(names[:-1])} and {names[-1]}"
    venue = entry.get("journal") or entry.get("booktitle") or entry.get("publisher")
    parts = [f"{authors} ({entry.get('year', 'n.d.')}). {entry.get('title', '')}."]
    if venue:
        parts.append(f"*{venue}*.")
    if "note" in entry:
        parts.append(f"{entry['note']}.")
    return " ".join(parts)
