"""Colab editions: the chapters in the plain Markdown that Colab and Jupyter render.

The chapters are written in MyST, which the book understands and Colab does not: there a
`literalinclude` shows only `:pyobject: VAE`, an exercise shows `:::{admonition}`, and a citation
shows `{cite}`. A Colab edition of a chapter is the same notebook with every MyST construct
rewritten as what the book shows in its place:

- a `literalinclude` of library code becomes that code, read from the file, in a `python` fence;
- an admonition (`:::{admonition} Title`, ```` ```{note} ````) becomes a quote with a bold title,
  or, with `:class: dropdown`, an HTML `<details>` disclosure (so do hidden Markdown solutions);
- `{cite}` becomes (Author, year), and the chapter ends with its reference list;
- `{numref}` and `{ref}` become "Figure k" or their text, and `(label)=` lines go;
- a figure's caption (cell metadata) is printed in a Markdown cell under the figure;
- links to other chapters open their Colab edition;
- cells the book hides become Colab form cells (`# @title`, `cellView: form`), code hidden until a
  click on "Show code": each exercise's solution, and the Colab install cell.

`colab_edition` makes an edition from a notebook: from a chapter, the edition with solutions
hidden; from a student notebook (`tools.student_notebooks`), the student edition.
"""

from __future__ import annotations

import ast
import copy
import re
import textwrap
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from .student_notebooks import SOLUTION_TAG, exercise_of, stripped

HIDDEN_TAGS = {SOLUTION_TAG, "hide-input", "remove-input", "remove-cell"}
DIRECTIVE = re.compile(r"^(?P<fence>:{3,}|`{3,})\{(?P<name>[\w-]+)\}[ \t]*(?P<argument>.*)$")
FENCE = re.compile(r"^(`{3,}|~{3,})")
OPTION = re.compile(r"^:(?P<key>[\w-]+):[ \t]*(?P<value>.*)$")
LABEL = re.compile(r"^\((?P<label>[\w:-]+)\)=\s*$")
ROLE = re.compile(r"\{(?P<role>[a-z][\w:-]*)\}`(?P<content>[^`]*)`")
TARGET = re.compile(r"^(?P<text>.*?)\s*<(?P<target>[^<>]+)>$", re.DOTALL)
CHAPTER_LINK = re.compile(r"\]\((?P<name>[\w.-]+\.ipynb)(?P<anchor>#[\w-]*)?\)")
ADMONITION_TITLES = {
    "note": "Note",
    "important": "Important",
    "tip": "Tip",
    "hint": "Hint",
    "warning": "Warning",
    "caution": "Caution",
    "attention": "Attention",
    "danger": "Danger",
    "error": "Error",
    "seealso": "See also",
}
BIB_ENTRY = re.compile(r"@\w+\s*\{\s*([^,\s]+)\s*,")
BIB_FIELD = re.compile(r"\s*(\w+)\s*=\s*")
BIB_COMMA = re.compile(r"\s*,?")
LANGUAGES = {".py": "python", ".yml": "yaml", ".yaml": "yaml", ".toml": "toml", ".json": "json"}
LATEX_ACCENTS = {"'": "\u0301", '"': "\u0308", "`": "\u0300", "^": "\u0302", "~": "\u0303"}


class ColabError(ValueError):
    """A chapter uses MyST that the Colab editions cannot render; the message names it."""


# --- The bibliography: book/references.bib, read just enough for author-year citations ---------


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
    raise ColabError(f"unbalanced braces in the bibliography near: {text[start : start + 60]!r}")


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


# --- MyST -> Markdown ---------------------------------------------------------------------------


@dataclass
class Chapter:
    """What rewriting one chapter's Markdown needs to know, and the citations it collects."""

    folder: Path  # where the chapter lives: literalinclude paths are relative to it
    root: Path  # the repository, to name included files
    bibliography: dict[str, dict[str, str]]
    colab_folder: str  # URL of the folder holding this edition, for links to other chapters
    figures: dict[str, int] = field(default_factory=dict)  # figure label -> number
    sections: dict[str, str] = field(default_factory=dict)  # section label -> heading
    cited: list[str] = field(default_factory=list)  # citation keys, in order of appearance


def python_object(path: Path, dotted: str) -> str:
    """The source of `dotted` (e.g. "VAE" or "VAE.sample") in the Python file `path`, with its
    decorators, dedented: what `literalinclude :pyobject:` shows."""
    text = path.read_text(encoding="utf-8")
    body, node = ast.parse(text).body, None
    for name in dotted.split("."):
        node = next((n for n in body if getattr(n, "name", None) == name), None)
        if node is None:
            raise ColabError(f"{path} has no {dotted} (a literalinclude :pyobject: asks for it).")
        body = getattr(node, "body", [])
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    lines = text.splitlines()[start - 1 : node.end_lineno]
    return textwrap.dedent("\n".join(lines))


def literal_include(argument: str, options: dict[str, str], chapter: Chapter) -> str:
    """The quoted file or object itself, in a fence, under the file's name."""
    unknown = set(options) - {"pyobject", "language"}
    if unknown:
        raise ColabError(f"literalinclude option(s) {sorted(unknown)} have no Colab rendering.")
    path = (chapter.folder / argument.strip()).resolve()
    if not path.is_file():
        raise ColabError(f"literalinclude of a missing file: {argument.strip()}")
    code = (
        python_object(path, options["pyobject"])
        if "pyobject" in options
        else path.read_text(encoding="utf-8").rstrip("\n")
    )
    language = options.get("language", LANGUAGES.get(path.suffix, ""))
    name = path.relative_to(chapter.root).as_posix()
    return f"From `{name}`:\n\n```{language}\n{code}\n```"


def quote(title: str, body: str) -> str:
    """A Markdown box: a blockquote whose first line is the title in bold."""
    lines = [f"**{title}**" if title else ""] + ([""] if title and body else []) + body.split("\n")
    return "\n".join(f"> {line}".rstrip() for line in lines if title or line)


def disclosure(title: str, body: str) -> str:
    """A box that opens on a click: HTML `<details>`, which Colab and Jupyter render."""
    return f"<details>\n<summary>{title}</summary>\n\n{body}\n\n</details>"


def directive(name: str, argument: str, body: list[str], chapter: Chapter) -> str:
    """What the book shows for a MyST directive, in plain Markdown."""
    options = {}
    while body and (match := OPTION.match(body[0])):
        options[match.group("key")] = match.group("value").strip()
        body = body[1:]
    if name == "literalinclude":
        return literal_include(argument, options, chapter)
    content = markdown("\n".join(body).strip("\n"), chapter)
    if name == "admonition" or name in ADMONITION_TITLES:
        title = plain_text(argument, chapter) if name == "admonition" else ADMONITION_TITLES[name]
        if "dropdown" in options.get("class", "").split():  # closed until clicked, as in the book
            return disclosure(title, content)
        return quote(title, content)
    if name == "math":
        return f"$$\n{content}\n$$"
    raise ColabError(
        f"The directive {{{name}}} has no rendering in the Colab editions: add one to "
        "tools/colab_editions.py or write it as plain Markdown."
    )


def split_target(content: str) -> tuple[str, str]:
    """`text <target>` -> (text, target); `target` -> ("", target)."""
    match = TARGET.match(content)
    return (match.group("text"), match.group("target")) if match else ("", content.strip())


def citation(role: str, keys: str, before: str, chapter: Chapter) -> str:
    """{cite}`a,b` -> (A, 2014; B, 2016); {cite:t}`a` -> A (2014); right after the authors'
    names (`before` ends with "Kingma and Welling"), only the year: (2014)."""
    cited = []
    for key in (key.strip() for key in keys.split(",")):
        if key not in chapter.bibliography:
            raise ColabError(f"{{cite}}`{key}`: no such entry in book/references.bib.")
        if key not in chapter.cited:
            chapter.cited.append(key)
        cited.append(authors_and_year(chapter.bibliography[key]))
    if role == "cite:t":
        return "; ".join(f"{who} ({year})" for who, year in cited)
    if len(cited) == 1 and " ".join(before.split()).endswith(cited[0][0]):
        return f"({cited[0][1]})"
    return "(" + "; ".join(f"{who}, {year}" for who, year in cited) + ")"


def reference(role: str, content: str, chapter: Chapter) -> str:
    """{numref}`label` -> Figure k; {ref}`text <label>` -> text; {ref}`label` -> its title."""
    text, label = split_target(content)
    number = chapter.figures.get(label)
    if role == "numref":
        if number is None:
            raise ColabError(f"{{numref}}`{content}`: no figure named {label} in this chapter.")
        return (
            text.replace("%s", str(number)).replace("{number}", str(number)) or f"Figure {number}"
        )
    if text:
        return text
    if label in chapter.sections:
        return f"the section \u201c{chapter.sections[label]}\u201d"
    if number is not None:
        return f"Figure {number}"
    raise ColabError(f"{{ref}}`{content}`: no section or figure named {label} in this chapter.")


def role(match: re.Match, chapter: Chapter) -> str:
    """What the book shows for one MyST role."""
    name, content = match.group("role"), match.group("content")
    if name.startswith("cite"):
        return citation(name, content, match.string[: match.start()], chapter)
    if name in ("numref", "ref"):
        return reference(name, content, chapter)
    if name == "math":
        return f"${content}$"
    text, target = split_target(content)
    return text or target  # {doc}, {download}, {term}...: the text the book links


def plain_text(prose: str, chapter: Chapter) -> str:
    """Prose with its roles rewritten and chapter links pointing at Colab."""
    line = ROLE.sub(lambda match: role(match, chapter), prose)
    return CHAPTER_LINK.sub(
        lambda m: f"]({chapter.colab_folder}/{m.group('name')}{m.group('anchor') or ''})", line
    )


def markdown(source: str, chapter: Chapter) -> str:
    """A Markdown cell's MyST source in plain Markdown (code fences are left as they are)."""
    lines, out, prose, index = source.split("\n"), [], [], 0
    while index < len(lines):
        line = lines[index]
        if not (DIRECTIVE.match(line) or FENCE.match(line) or LABEL.match(line)):
            prose.append(line)
            index += 1
            continue
        if prose:
            out.append(plain_text("\n".join(prose), chapter))
            prose = []
        if match := DIRECTIVE.match(line):
            fence, depth, end = match.group("fence"), 1, index + 1
            while end < len(lines) and depth:
                opened = DIRECTIVE.match(lines[end])
                depth += 1 if opened and opened.group("fence") == fence else 0
                depth -= 1 if lines[end].strip() == fence else 0
                end += 1
            if depth:
                raise ColabError(f"{fence}{{{match.group('name')}}} is never closed.")
            body = lines[index + 1 : end - 1]
            out.append(directive(match.group("name"), match.group("argument"), body, chapter))
            index = end
        elif fence := FENCE.match(line):
            end = next(
                (i for i in range(index + 1, len(lines)) if lines[i].strip() == fence.group(1)),
                len(lines) - 1,
            )
            out.extend(lines[index : end + 1])
            index = end + 1
        else:  # a `(label)=` line: the label has no text
            index += 1
    if prose:
        out.append(plain_text("\n".join(prose), chapter))
    return "\n".join(out).strip("\n")


# --- Cells --------------------------------------------------------------------------------------


def figure_of(cell: dict) -> dict | None:
    """A figure cell's `mystnb.figure` metadata (caption, name), or None."""
    if cell["cell_type"] != "code":
        return None
    return cell.get("metadata", {}).get("mystnb", {}).get("figure")


def number_figures_and_sections(notebook: nbformat.NotebookNode, chapter: Chapter) -> None:
    """Record each named figure's number (in order, as the book numbers them per chapter) and
    the heading under each `(label)=`."""
    figures = [figure_of(cell) for cell in notebook.cells]
    for number, figure in enumerate((f for f in figures if f is not None), start=1):
        if "name" in figure:
            chapter.figures[figure["name"]] = number
    for cell in notebook.cells:
        if cell["cell_type"] == "markdown":
            lines = cell["source"].split("\n")
            for line, following in zip(lines, lines[1:], strict=False):
                if (match := LABEL.match(line)) and following.startswith("#"):
                    chapter.sections[match.group("label")] = following.lstrip("#").strip()


def form_title(cell: dict, exercise: tuple[str, str] | None) -> str:
    """The title a hidden cell shows in Colab: the exercise's, else the cell's first comment."""
    if SOLUTION_TAG in cell["metadata"].get("tags", []) and exercise:
        return f"Exercise {exercise[0]}: a solution"
    first = cell["source"].split("\n", 1)[0]
    if first.startswith("#"):
        return first.lstrip("# ").split(". ")[0].rstrip(".")
    return "Code hidden in the book"


def form_cell(cell: dict, title: str) -> dict:
    """A Colab form cell: only `title` shows, the code opens with a click on "Show code"."""
    cell = copy.deepcopy(cell)
    cell["source"] = f"# @title {title}\n{cell['source']}"
    cell["metadata"]["cellView"] = "form"
    return cell


def caption_cell(cell: dict, number: int, chapter: Chapter) -> dict:
    """The Markdown cell that prints figure `number`'s caption under its cell."""
    caption = markdown(figure_of(cell).get("caption", ""), chapter)
    printed = nbformat.v4.new_markdown_cell(f"**Figure {number}.** {caption}".rstrip())
    printed["id"] = f"{cell.get('id', 'figure')}-caption"[:64]
    return printed


def hidden_markdown(cell: dict, title: str, chapter: Chapter) -> dict:
    """A Markdown cell the book hides, behind a disclosure (unless it is one already)."""
    cell = copy.deepcopy(cell)
    body = markdown(cell["source"], chapter)
    cell["source"] = body if body.startswith("<details>") else disclosure(title, body)
    return cell


def edition_cells(notebook: nbformat.NotebookNode, chapter: Chapter) -> list[dict]:
    """The notebook's cells in Colab form: Markdown rewritten, hidden cells as forms, captions
    under their figures."""
    cells, exercise, figures = [], None, 0
    for original in notebook.cells:
        cell = stripped(original)
        tags = set(cell.get("metadata", {}).get("tags", []))
        if cell["cell_type"] == "markdown":
            exercise = exercise_of(cell["source"]) or exercise
            if tags & HIDDEN_TAGS:
                cells.append(hidden_markdown(cell, form_title(cell, exercise), chapter))
            else:
                cells.append({**cell, "source": markdown(cell["source"], chapter)})
            continue
        cells.append(form_cell(cell, form_title(cell, exercise)) if tags & HIDDEN_TAGS else cell)
        if figure_of(cell) is not None:
            figures += 1
            cells.append(caption_cell(cell, figures, chapter))
    return cells


def references_cell(chapter: Chapter) -> dict:
    """The chapter's reference list, by first author, as the book's references page orders it."""
    keys = sorted(chapter.cited, key=lambda k: (surnames(chapter.bibliography[k]), k))
    lines = [f"- {reference_line(chapter.bibliography[key])}" for key in keys]
    cell = nbformat.v4.new_markdown_cell("## References\n\n" + "\n".join(lines))
    cell["id"] = "colab-references"
    return cell


def colab_edition(
    notebook: nbformat.NotebookNode, chapter: Chapter, preface: list[dict]
) -> nbformat.NotebookNode:
    """`notebook` (a chapter or a student notebook) in plain Markdown and Colab forms, outputs
    stripped, with the `preface` cells under its title and its references at the end."""
    edition = copy.deepcopy(notebook)
    for key in ("papermill", "widgets"):
        edition.metadata.pop(key, None)
    number_figures_and_sections(notebook, chapter)
    cells = edition_cells(notebook, chapter)
    title = next((i for i, c in enumerate(cells) if c["cell_type"] == "markdown"), 0)
    # The title and the preface first, then the code that came before the title (install cell).
    cells = [cells[title], *preface, *cells[:title], *cells[title + 1 :]]
    if chapter.cited:
        cells.append(references_cell(chapter))
    edition.cells = [nbformat.from_dict(cell) for cell in cells]
    nbformat.validate(edition)
    return edition
