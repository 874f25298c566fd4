"""No measured quantity is typed into the book's prose.

A number that a run measures (a runtime, a speed, a speed-up, a loss, an FID, a percentage of
results) changes with the machine, the seed and the code, so the build prints it: `glue`, a
code cell's output, generated Markdown, or the course registry's measured values. A number typed
into the Markdown by hand goes stale silently, and the review found such numbers contradicting
the repository's own measurements. This test scans the Markdown the reader sees (every
chapter's Markdown cells and figure captions and alt texts, the introduction and the
appendices) for the forms such numbers take and fails on each one, naming the page, the cell
and the phrase.

Fixed mathematical facts (784 log 2 ≈ 543) stay: they are listed in ALLOWED, each with the
reason it is not a measurement. What the scan ignores: code (fences, inline code, the
`literalinclude` directives), the targets of links and roles (`{cite}`, `{glue:text}`, ...),
numbers of exercises, sections and library versions.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import NamedTuple

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
BOOK = ROOT / "book"
PAGES = sorted(BOOK.glob("*.ipynb")) + sorted(BOOK.glob("*.md"))

# Fixed facts that look like measurements: a regular expression over the scanned text (math
# included, as written in the source) -> why it is not a measured quantity. Keep it small: an
# entry that no longer matches anything fails `test_every_allowed_fact_still_occurs`.
ALLOWED: dict[str, str] = {
    r"784\s*/\s*20\s*\\approx\s*39": "arithmetic: an image of 784 pixels over a code of 20",
    r"784\s*\\log\s*2\s*\\approx\s*543": "arithmetic: the BCE of 784 pixels predicted as 0.5",
    r"\\log\s*10\s*\\approx\s*2\.30": "arithmetic: the largest entropy of 10 classes, in nats",
    r"\\sqrt\{20\}\s*\\approx\s*4\.5": "arithmetic: the typical length of a 20-D N(0, I) code",
    r"2 log 2 = 1\.39": "arithmetic: the discriminator's loss at chance, D = 1/2 everywhere",
    r"1 / \\ln 2 \\approx 1\.44": "arithmetic: one nat in bits",
    r"\\approx 0\.32\$ nats": "closed form: KL(N(0, 1) || N(0, 2^2)) = (1/4 + log 4 - 1) / 2",
    r"\\approx 0\.81\$ nats": "closed form: KL(N(0, 2^2) || N(0, 1)) = (4 - 1 - log 4) / 2",
    r"mean about 4\.4 and standard deviation about 0\.7": "the chi distribution with 20 degrees "
    "of freedom: the length of a 20-D N(0, I) vector",
    r"10 / \\sqrt 2 \\approx 7": "arithmetic: the midpoint of two orthogonal codes of length 10",
    r"is 2\.26, not 2 \(2 standard errors would make a 92% interval\)": "Student's t with 9 "
    "degrees of freedom: its 0.975 quantile, and P(|t| < 2)",
    r"t_\{0\.975": "the name of a quantile (the 97.5th percentile of Student's t), not a result",
}

NUMBER = r"[-−]?\d(?:[\d,]*\d)?(?:\.\d+)?[¼½¾⅓⅔]?(?![\d¼½¾⅓⅔]|[,.]\d)"  # never a part of one
WORD_NUMBER = (
    r"(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|fifteen|twenty|thirty|"
    r"forty|fifty|sixty|ninety|a hundred|half an?|one and a half)"
)
COUNTED = (  # "an FID computed on 50,000 samples": a count, not the metric's value
    r"(?:samples?|images?|epochs?|parts?|components?|dimensions?|points?|features?|steps?|"
    r"classes|codes?|pixels?|layers?|units?|numbers?)\b"
)
THRESHOLD = r"(?:above|below|over|under|at least|at most|exceeds?|more than|threshold of)\s+"


class Rule(NamedTuple):
    name: str
    pattern: re.Pattern
    exempt_zero_one: bool = False  # "near 0", "FID 0": limits and definitions, not results
    exempt_thresholds: bool = False  # "above 0.1 nats": a criterion the text sets


RULES = [
    Rule(
        "a duration",
        re.compile(
            rf"(?<![\w.])(?:{NUMBER}|\b{WORD_NUMBER}\b)(?:\s*(?:–|-|to)\s*{NUMBER})?"
            r"(?:\s+s|[\s-]*(?:ms|secs?|seconds?|mins?|minutes?|hours?))\b(?!['’])",
            re.IGNORECASE,
        ),
    ),
    Rule("a mixed number (a rounded runtime)", re.compile(r"\d[¼½¾⅓⅔]")),
    Rule(
        "a speed",
        re.compile(
            rf"{NUMBER}\s*(?:images?|examples?|samples?|steps?|updates?|batches?|digits?)\s*"
            r"(?:per|a|/)\s*(?:second|sec|s|minute|min)\b|"
            rf"{NUMBER}\s*(?:img|it)/s\b",
            re.IGNORECASE,
        ),
    ),
    Rule(
        "a speed-up",
        re.compile(
            rf"(?:{NUMBER}|{WORD_NUMBER})\s*(?:×|x|times)\s+"
            r"(?:faster|slower|quicker|longer|shorter|as (?:fast|long|slow|quick))|"
            r"×\s*\d+\.\d+|"
            r"\b(?:twice|thrice|half)\s+as\s+(?:fast|long|slow|quick)",
            re.IGNORECASE,
        ),
    ),
    Rule(
        "a precise decimal (a loss, an FID, a score)",
        re.compile(r"(?<![\w.])[-−]?(?:0\.\d{3,}|[1-9]\.\d{2,}|[1-9]\d+\.\d+)(?![\w.])"),
    ),
    Rule(
        "an approximate result",
        re.compile(
            r"(?:\b(?:about|approximately|roughly|around|nearly|almost|near|close to)|≈|\\approx"
            rf"|~)\s*[$(\\\s{{]*(?P<value>{NUMBER})",
            re.IGNORECASE,
        ),
        exempt_zero_one=True,
    ),
    Rule(
        "a percentage",
        re.compile(
            rf"(?P<value>{NUMBER})\s*(?:%|\\%|per ?cent)(?!\s*(?:confidence\s+)?interval)",
            re.IGNORECASE,
        ),
        exempt_thresholds=True,
    ),
    Rule(
        "a quantity in nats or bits",
        re.compile(rf"(?P<value>{NUMBER})\s*(?:nats|bits)\b", re.IGNORECASE),
        exempt_zero_one=True,
        exempt_thresholds=True,
    ),
    Rule(
        "a metric's value",
        re.compile(
            r"\b(?:FID|MSE|loss|error|accuracy|precision|recall|ELBO|distance|length|entropy|"
            r"median|mean|average)\s+(?:\w+\s+){0,2}?(?:of\s+|is\s+|was\s+|=\s*|:\s*)?"
            rf"[$]?(?P<value>{NUMBER})(?![\w-])(?!\s*{COUNTED})",
            re.IGNORECASE,
        ),
        exempt_zero_one=True,
    ),
]
TIME_TABLE_HEADER = re.compile(
    r"per second|/s\b|throughput|seconds|minutes|runtime|speed|time", re.IGNORECASE
)

# What the scan blanks out (with spaces, so that offsets still give line numbers).
PROSE_DIRECTIVES = {
    "admonition", "note", "tip", "important", "warning", "caution", "attention", "danger",
    "error", "hint", "seealso", "dropdown", "math", "figure",
}  # fmt: skip
FENCE = re.compile(r"^(?P<fence>`{3,}|~{3,})\s*(?:\{(?P<directive>[\w:-]+)\})?.*$", re.MULTILINE)
IGNORED = [
    re.compile(r"<!--.*?-->", re.DOTALL),
    re.compile(r"\{[\w:-]+\}`[^`]*`"),  # roles: {cite}`key`, {glue:text}`name`, {numref}`fig`
    re.compile(r"`[^`\n]*`"),  # inline code: settings such as `lr=1e-3`
    re.compile(r"(?<=\])\([^)\s]*\)"),  # link targets
    re.compile(r"https?://\S+"),
    re.compile(r"^\s*:[\w-]+:.*$", re.MULTILINE),  # directive options
    re.compile(r"^:{3,}.*$", re.MULTILINE),  # colon-fence lines (:::{admonition} Exercise 1.2)
    re.compile(
        r"\b(?:exercises?|sections?|figures?|tables?|theorem|thm\.?|equations?|eq\.?|"
        r"chapters?|cells?|steps?)\s+\d+(?:\.\d+)*",
        re.IGNORECASE,
    ),
    re.compile(r"\b(?:pytorch|python|torch|numpy|cuda|cudnn|sphinx)\s+v?\d+(?:\.\d+)*", re.I),
]


class Finding(NamedTuple):
    where: str
    rule: str
    phrase: str


def blank(text: str, start: int, end: int) -> str:
    """`text` with [start, end) replaced by spaces, newlines kept."""
    return text[:start] + re.sub(r"[^\n]", " ", text[start:end]) + text[end:]


def scanned_text(markdown: str) -> str:
    """The Markdown a reader sees as prose and math, with everything else blanked out."""
    text, position = markdown, 0
    while match := FENCE.search(text, position):
        close = re.compile(rf"^{re.escape(match['fence'])}\s*$", re.MULTILINE)
        end_match = close.search(text, match.end())
        end = end_match.end() if end_match else len(text)
        if match["directive"] in PROSE_DIRECTIVES:  # keep the body, drop the fence lines
            text = blank(text, match.start(), match.end())
            if end_match:
                text = blank(text, end_match.start(), end_match.end())
        else:  # code, literalinclude, build tables: not prose
            text = blank(text, match.start(), end)
        position = end
    for pattern in IGNORED:
        for found in reversed(list(pattern.finditer(text))):
            text = blank(text, found.start(), found.end())
    return text


def markdown_parts(page: Path) -> list[tuple[str, str]]:
    """(where, Markdown) for each Markdown cell of a chapter and each figure's caption and alt
    text (the book shows both), or the whole of a Markdown page."""
    relative = page.relative_to(ROOT).as_posix()
    if page.suffix == ".md":
        return [(relative, page.read_text(encoding="utf-8"))]
    parts = []
    for index, cell in enumerate(nbformat.read(page, as_version=4).cells):
        where = f"{relative} cell {cell.get('id', index)}"
        if cell.cell_type == "markdown":
            parts.append((where, cell.source))
        figure = cell.metadata.get("mystnb", {})
        for text, key in [("caption", ("figure", "caption")), ("alt text", ("image", "alt"))]:
            if figure.get(key[0], {}).get(key[1]):
                parts.append((f"{where} ({text})", figure[key[0]][key[1]]))
    return parts


def allowed_spans(text: str) -> list[tuple[int, int]]:
    return [m.span() for pattern in ALLOWED for m in re.finditer(pattern, text)]


def is_exempt(rule: Rule, match: re.Match, text: str) -> bool:
    value = match.groupdict().get("value")
    if rule.exempt_zero_one and value is not None and value.strip("−-") in {"0", "1"}:
        return True
    before = text[max(0, match.start() - 20) : match.start()]
    return rule.exempt_thresholds and re.search(rf"{THRESHOLD}$", before, re.I) is not None


def line_of(text: str, offset: int) -> int:
    return text.count("\n", 0, offset) + 1


def findings_in(where: str, markdown: str) -> list[Finding]:
    """Each typed measurement in one page or cell: where, which rule, the phrase around it."""
    text = scanned_text(markdown)
    allowed = allowed_spans(text)
    found = []
    for rule in RULES:
        for match in rule.pattern.finditer(text):
            about_a_fact = any(a < match.end() and match.start() < b for a, b in allowed)
            if about_a_fact or is_exempt(rule, match, text):
                continue
            context = " ".join(text[max(0, match.start() - 40) : match.end() + 25].split())
            line = line_of(text, match.start())
            found.append(Finding(f"{where}, line {line}", rule.name, context))
    found.extend(time_tables(where, text))
    return found


def time_tables(where: str, text: str) -> list[Finding]:
    """A Markdown table of runtimes or speeds whose rows hold numbers typed by hand."""
    found, lines = [], text.split("\n")
    index = 0
    while index < len(lines):
        if not lines[index].lstrip().startswith("|"):
            index += 1
            continue
        start = index
        while index < len(lines) and lines[index].lstrip().startswith("|"):
            index += 1
        header, rows = lines[start], lines[start + 2 : index]
        if TIME_TABLE_HEADER.search(header) and any(re.search(r"\d", row) for row in rows):
            phrase = " ".join(header.split())
            found.append(Finding(f"{where}, line {start + 1}", "a table of timings", phrase))
    return found


def all_findings() -> list[Finding]:
    return [
        finding
        for page in PAGES
        for where, markdown in markdown_parts(page)
        for finding in findings_in(where, markdown)
    ]


def test_no_measured_quantity_is_typed_into_the_prose() -> None:
    findings = all_findings()
    report = "\n".join(f"{f.where}: {f.rule}: ...{f.phrase}..." for f in findings)
    assert not findings, (
        f"{len(findings)} measured quantities are typed into the book's Markdown. Print them "
        "from the build instead (a code cell's output, myst_nb.glue with {glue:text}, or the "
        "course registry), or describe them without a number; a fixed mathematical fact goes "
        f"into ALLOWED in {Path(__file__).name} with its reason.\n{report}"
    )


def test_every_allowed_fact_still_occurs() -> None:
    """An entry of ALLOWED that matches nothing is stale: remove it."""
    texts = [scanned_text(markdown) for page in PAGES for _, markdown in markdown_parts(page)]
    stale = [pattern for pattern in ALLOWED if not any(re.search(pattern, t) for t in texts)]
    assert not stale, f"ALLOWED entries that no page contains any more: {stale}"


@pytest.mark.parametrize(
    "phrase",
    [
        "about 2¼ minutes in full mode",
        "a re-run takes about 25 seconds",
        "took 90 s on the CPU",
        "about 1,100 images per second",
        "made training about 1.15 times faster",
        "the AMD EPYC machines take about twice as long",
        "a test error of 0.0086 per pixel",
        "an FID of 200.3 instead of 189.8",
        "about 40 % of them lie farther",
        "by 10 to 50 % after its short training",
        "stalled near 155 nats per image",
        "its codes are typically about 18 long",
        "median distance 0.02, as for real digits",
        "centred near $(-0.3, -3.2)$",
        "| configuration | images per second |\n| --- | --- |\n| 1 process | 1,200 |",
    ],
)
def test_the_scan_flags_typed_measurements(phrase: str) -> None:
    assert findings_in("example", phrase), phrase


@pytest.mark.parametrize(
    "phrase",
    [
        "the code is $784 / 20 \\approx 39$ times smaller than the image",
        "the reconstruction term starts near $784 \\log 2 \\approx 543$ per image",
        "Adam with learning rate $10^{-3}$ over minibatches of 128 images, for 10 epochs",
        "dimensions whose mean KL is above 0.1 nats",
        "`fit(step, data, epochs=2, batch_size=128)` and `std=0.3`",
        "as in Exercise 4.1 and {cite}`goyal2017accurate`, with PyTorch 2.8",
        "a smoke run is quick; the introduction shows the times this build measured",
        "an interval of ± 2 standard errors, about a 92 % interval",
        "precision near 1 and recall near 0",
        "the run printed {glue:text}`ae_test_mse` above",
        "```python\nseconds = 90  # not prose\n```",
    ],
)
def test_the_scan_leaves_facts_settings_and_code_alone(phrase: str) -> None:
    assert findings_in("example", phrase) == [], findings_in("example", phrase)
