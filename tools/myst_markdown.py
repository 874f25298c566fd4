"""MyST rewritten as the plain Markdown that Colab and Jupyter render.

The chapters are written in MyST, which the book understands and Colab does not: there a
`literalinclude` shows only `:pyobject: VAE`, an exercise shows `:::{admonition}`, and a citation
shows `{cite}`. `markdown` rewrites a Markdown cell's MyST as what the book shows in its place:

- a `literalinclude` of library code becomes that code, read from the file, in a `python` fence;
- an admonition (`:::{admonition} Title`, ```` ```{note} ````) becomes a quote with a bold title,
  or, with `:class: dropdown`, an HTML `<details>` disclosure;
- `{cite}` becomes (Author, year), and the cited keys are collected for a reference list;
- `{numref}` and `{ref}` become "Figure k" or their text, and `(label)=` lines go;
- links to other chapters open their Colab edition.
"""

from __future__ import annotations

import ast
import re
import textwrap
from dataclasses import dataclass, field
from pathlib import Path

from .bibliography import authors_and_year

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
LANGUAGES = {".py": "python", ".yml": "yaml", ".yaml": "yaml", ".toml": "toml", ".json": "json"}


class ColabError(ValueError):
    """A chapter uses MyST that the Colab editions cannot render; the message names it."""


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
        "tools/myst_markdown.py or write it as plain Markdown."
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
