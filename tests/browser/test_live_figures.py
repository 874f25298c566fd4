"""The live figures in Chromium (book/_static/live-models.js), on the smoke build: each is set by
keyboard (the map also by a click and a tap, the drawing pad by a mouse stroke), and the digits it
draws on its canvas are those PyTorch makes from the same codes with the checkpoint its chapter
trained; a sample grid at the chapter's seed decodes the noise the chapter drew; ONNX Runtime Web
loads only once the reader uses a figure; nothing leaves the site, nothing is logged as an error,
axe-core finds no violation in light or dark mode once the figures are drawn, and each page stays
within its size budget.

Tolerance: a canvas shows grey levels round(255 (1 - x)) of pixel means x; ONNX Runtime and
PyTorch agree on x within 1e-5 (tests/book/test_live_exports.py), so a grey level may differ by a
rounding, at most 1 of 255.

Each figure's screenshot, after it was used, goes to _build/screenshots/live-*.png.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest
import torch
from pagevisits import LAPTOP, SCREENSHOTS, audit

from labutils import plots
from tools.live_models import load_model, wrapped

pytestmark = pytest.mark.xdist_group("book")  # share the one smoke build (tests/book)

GREY_LEVELS = 1  # largest difference allowed between the canvas and PyTorch, of 255
LIVE_PAGES = ["book/01-autoencoders", "book/02-vae", "book/03-dcgan", "book/04-comparison"]
BUDGET = {  # bytes a page may load for its live figures, once every figure has been used
    "models": 8_000_000,  # the ONNX files, with the arrays shipped beside them
    "wasm": 15_000_000,  # ONNX Runtime Web's single-threaded WebAssembly build
    "javascript": 150_000,  # ort.wasm.min.js, its .mjs loader, live-models.js
}
RUNTIME = "_static/npm/onnxruntime-web/"
CHECKPOINT_OF = {"dcgan": ("dcgan", "generator")}

# Resolves once the figure has rendered more than `count` times and has nothing left to render
# (or has failed).
RENDERED_JS = """
([figure, count]) => new Promise((resolve) => {
  const done = () => figure.dataset.state === "error" ||
    (Number(figure.dataset.renders) > count && figure.dataset.pending === "0");
  const check = () => (done() ? resolve(figure.dataset.state) : setTimeout(check, 50));
  check();
})
"""
# The grey levels (H, W) of a canvas, read from its red channel.
PIXELS_JS = """
(canvas) => Array.from(
  canvas.getContext("2d").getImageData(0, 0, canvas.width, canvas.height).data
).filter((_, i) => i % 4 === 0)
"""


@dataclass
class PageUse:
    """What using every live figure of a page showed."""

    figures: list[dict] = field(default_factory=list)  # figure, model, grey-level differences
    requests_before_use: list[str] = field(default_factory=list)
    console_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    bytes_by_kind: dict[str, int] = field(default_factory=dict)
    violations: dict = field(default_factory=dict)


def networks_of(checkpoints: Path, model: str) -> dict[str, torch.nn.Module]:
    """The PyTorch decoder and encoder of a figure's model, as tools/live_models.py exports them."""
    checkpoint, key = CHECKPOINT_OF.get(model, (model, "model"))
    network = load_model(checkpoints / f"{checkpoint}.pt", key)
    return {part: wrapped(network, part) for part in ("decoder", "encoder")}


def grey(images: torch.Tensor) -> np.ndarray:
    """What the canvas shows for pixel means (N, 1, 28, 28): grey levels (N, 28, 28)."""
    return np.round(255 * (1 - images[:, 0].clamp(0, 1).numpy()))


def tiles(levels: np.ndarray, columns: int, count: int) -> np.ndarray:
    """The 28 x 28 tiles (count, 28, 28) of a grid drawn with a 2-pixel border."""
    return np.stack(
        [
            levels[2 + 30 * (k // columns) :][:28, 2 + 30 * (k % columns) :][:, :28]
            for k in range(count)
        ]
    )


def canvas_levels(figure, selector: str, nth: int = 0) -> np.ndarray:
    canvas = figure.locator(selector).nth(nth)
    size = canvas.evaluate("(c) => [c.height, c.width]")
    return np.array(canvas.evaluate(PIXELS_JS), dtype=float).reshape(size)


def press(page, figure, keys: list[str]) -> None:
    """Press `keys` on the focused control and wait until the figure has rendered again."""
    before = int(figure.get_attribute("data-renders"))
    for key in keys:
        page.keyboard.press(key)
    state = page.evaluate(RENDERED_JS, [figure.element_handle(), before])
    assert state == "ready", figure.locator(".live-status").inner_text()


def latents(figure) -> torch.Tensor:
    """The codes the figure last decoded (N, D), as it records them."""
    return torch.tensor(json.loads(figure.get_attribute("data-latent")))


def shipped_digits(live: Path) -> np.ndarray:
    """The test digits the build shipped (10, 1, 28, 28): the first of each class."""
    entry = json.loads((live / "models.json").read_text())["arrays"]["digits"]
    return np.fromfile(live / entry["file"], dtype="<f4").reshape(entry["shape"])


def digit_difference(figure, decoder) -> float:
    """Largest grey-level difference between the figure's decoded digit and PyTorch's."""
    with torch.inference_mode():
        expected = grey(decoder(latents(figure)))[0]
    return float(np.abs(canvas_levels(figure, "canvas.live-digits") - expected).max())


def grid_difference(figure, decoder, selector: str = "canvas.live-digits", nth: int = 0) -> float:
    """The same for a grid of decoded digits (a sample grid, an interpolation's row)."""
    codes = latents(figure)
    levels = canvas_levels(figure, selector, nth)
    with torch.inference_mode():
        expected = grey(decoder(codes))
    columns = (levels.shape[1] - 2) // 30
    return float(np.abs(tiles(levels, columns, len(codes)) - expected).max())


def point_on_map(page, figure, gesture: str, x: float, y: float) -> torch.Tensor:
    """Click or tap the map at (x, y), fractions of its width and height from its top left;
    return the code the figure decoded there."""
    canvas = figure.locator("canvas.live-map")
    box = canvas.bounding_box()
    before = int(figure.get_attribute("data-renders"))
    getattr(canvas, gesture)(position={"x": x * box["width"], "y": y * box["height"]})
    assert page.evaluate(RENDERED_JS, [figure.element_handle(), before]) == "ready"
    return latents(figure)[0]


def use_latent_map(page, figure, models, live: Path) -> list[float]:
    """A click, a tap and the arrow keys each choose the code under them."""
    spans = json.loads(figure.get_attribute("data-span"))  # [[low z1, low z2], [high z1, high z2]]
    low, high = torch.tensor(spans[0]), torch.tensor(spans[1])
    for gesture, (x, y) in (("click", (0.25, 0.75)), ("tap", (0.8, 0.1))):
        expected = low + (high - low) * torch.tensor([x, 1 - y])  # z2 grows upwards
        code = point_on_map(page, figure, gesture, x, y)
        assert torch.allclose(code, expected, atol=0.01 * float((high - low).max())), gesture
    differences = [digit_difference(figure, models["decoder"])]
    figure.locator("canvas.live-map").focus()
    before = latents(figure)[0]
    press(page, figure, ["ArrowRight", "ArrowRight", "ArrowUp", "Shift+ArrowLeft"])
    step = (high - low) * torch.tensor([2 * 0.025 - 0.1, 0.025])
    assert torch.allclose(latents(figure)[0], (before + step).clamp(low, high), atol=1e-4)
    differences.append(digit_difference(figure, models["decoder"]))
    return differences


def use_directions(page, figure, models, live: Path) -> list[float]:
    figure.locator('input[type="range"]').first.focus()
    press(page, figure, ["ArrowRight", "ArrowRight"])
    press(page, figure, ["Tab", "ArrowLeft"])
    values = figure.locator('input[type="range"]').evaluate_all("(els) => els.map(e => e.value)")
    assert values[:2] == ["0.5", "-0.25"], values
    return [digit_difference(figure, models["decoder"])]


def use_interpolation(page, figure, models, live: Path) -> list[float]:
    digits = shipped_digits(live)
    figure.locator("select").nth(1).focus()
    press(page, figure, ["ArrowDown"])  # from the first 2 to the first 8
    codes = latents(figure)  # (20, D): the linear path's ten codes, then the spherical path's
    with torch.inference_mode():
        mu, _ = models["encoder"](torch.tensor(digits[[2, 8]]))  # (2, D)
        expected = grey(models["decoder"](codes))  # (20, 28, 28)
    # the chapter's two paths (labutils.plots), from the encoder's mu of the two test digits
    straight, spherical = plots.interpolate(*mu, steps=10), plots.slerp(*mu, steps=10)
    assert torch.allclose(codes[:10], straight, atol=1e-4)
    assert torch.allclose(codes[10:], spherical, atol=1e-4)
    differences = []
    for row in range(2):
        drawn = tiles(canvas_levels(figure, ".live-row canvas", row), 12, 12)[1:11]
        differences.append(float(np.abs(drawn - expected[10 * row : 10 * row + 10]).max()))
    return differences


def use_samples(page, figure, models, live: Path) -> list[float]:
    """The chapter's seed decodes the noise the build drew for the chapter's figure (which
    tests/book/test_live_exports.py compares with the chapter's); the next seed, noise drawn in
    the page."""
    figure.locator("button").focus()
    press(page, figure, ["Enter"])
    chapter = latents(figure)
    model = figure.get_attribute("data-model")
    manifest = json.loads((live / "models.json").read_text())
    noise = manifest["arrays"][manifest["samples"][model]["noise"]]
    shipped = np.fromfile(live / noise["file"], dtype="<f4").reshape(noise["shape"])
    assert torch.equal(chapter, torch.from_numpy(shipped))
    differences = [grid_difference(figure, models["decoder"])]
    figure.locator('input[type="number"]').focus()
    page.keyboard.press("ArrowUp")
    figure.locator("button").focus()
    press(page, figure, ["Enter"])
    assert not torch.equal(latents(figure), chapter)
    assert abs(float(latents(figure).std()) - 1) < 0.2  # N(0, I) noise
    differences.append(grid_difference(figure, models["decoder"]))
    return differences


def use_draw(page, figure, models, live: Path) -> list[float]:
    """Start from the first 3 by keyboard: its code is PyTorch's; then ink a pixel with Space."""
    digits = shipped_digits(live)
    figure.locator("select").focus()
    press(page, figure, ["ArrowDown"] * 4)  # empty, 0, 1, 2, 3
    with torch.inference_mode():
        code = models["encoder"](torch.tensor(digits[[3]]))
    code = code[0] if isinstance(code, tuple) else code  # mu for a VAE
    assert torch.allclose(latents(figure), code, atol=1e-5)
    differences = [digit_difference(figure, models["decoder"])]
    figure.locator("canvas.live-pad").focus()
    status = figure.locator(".live-status").inner_text()
    press(page, figure, ["ArrowLeft", "ArrowLeft", " "])
    assert figure.locator(".live-status").inner_text() != status
    differences.append(digit_difference(figure, models["decoder"]))
    figure.locator("button").click()  # clear the pad, then draw a stroke with the mouse
    box = figure.locator("canvas.live-pad").bounding_box()
    before = int(figure.get_attribute("data-renders"))
    page.mouse.move(box["x"] + 0.3 * box["width"], box["y"] + 0.5 * box["height"])
    page.mouse.down()
    page.mouse.move(box["x"] + 0.7 * box["width"], box["y"] + 0.5 * box["height"], steps=10)
    page.mouse.up()
    assert page.evaluate(RENDERED_JS, [figure.element_handle(), before]) == "ready"
    assert "inked pixels" in figure.locator(".live-status").inner_text()
    ink = canvas_levels(figure, "canvas.live-pad")  # the pad: a horizontal stroke, mid-height
    assert (ink[14] < 128).sum() >= 8 and (ink[:8] == 255).all()
    differences.append(digit_difference(figure, models["decoder"]))
    return differences


USES = {
    "latent-map": use_latent_map,
    "directions": use_directions,
    "interpolation": use_interpolation,
    "samples": use_samples,
    "draw": use_draw,
}


def kind_of(url: str) -> str | None:
    """Which part of a page's live-figure budget a request counts towards."""
    url = url.split("?")[0]  # Sphinx adds ?v=<checksum> to its static files
    if "/_static/live/" in url:
        return "models"
    if url.endswith(".wasm"):
        return "wasm"
    if RUNTIME in url or url.endswith("live-models.js"):
        return "javascript"
    return None


def use_page(context, site: str, page_name: str, checkpoints: Path, live: Path) -> PageUse:
    """Load a page, use each of its live figures by keyboard, screenshot it, audit the page."""
    use = PageUse()
    responses: list[tuple[str, int]] = []

    def only_local(route) -> None:
        if route.request.url.startswith(site):
            route.continue_()
        else:
            use.foreign_requests.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    page.set_default_timeout(120_000)  # a shared 2-core machine can be slow
    page.on("console", lambda m: m.type == "error" and use.console_errors.append(m.text))
    page.on("pageerror", lambda error: use.console_errors.append(str(error)))
    page.on(
        "response",
        lambda r: responses.append((r.url, int(r.headers.get("content-length", 0)))),
    )
    page.goto(f"{site}{page_name}.html", wait_until="load")
    page.wait_for_timeout(1000)
    use.requests_before_use = [u for u, _ in responses if RUNTIME in u or u.endswith(".onnx")]
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for index, figure in enumerate(page.locator(".live-figure").all()):
        name, model = figure.get_attribute("data-figure"), figure.get_attribute("data-model")
        figure.scroll_into_view_if_needed()
        differences = USES[name](page, figure, networks_of(checkpoints, model), live)
        use.figures.append(dict(figure=name, model=model, differences=differences))
        shot = f"live-{page_name.split('/')[-1]}-{index}-{name}-{model}.png"
        figure.screenshot(path=SCREENSHOTS / shot)
    use.violations = audit(page, site)
    for url, size in responses:
        if kind := kind_of(url):
            use.bytes_by_kind[kind] = use.bytes_by_kind.get(kind, 0) + size
    page.close()
    return use


@pytest.fixture(scope="module")
def page_uses(browser, site: str, smoke_book: Path, smoke_checkpoints: Path) -> dict[str, PageUse]:
    """Each live page, loaded in a fresh context, and every live figure on it used."""
    live = smoke_book / "_static" / "live"
    uses = {}
    for page_name in LIVE_PAGES:
        context = browser.new_context(viewport=LAPTOP, has_touch=True)
        uses[page_name] = use_page(context, site, page_name, smoke_checkpoints, live)
        context.close()
    return uses


def test_every_live_figure_draws_what_pytorch_draws(page_uses: dict[str, PageUse]):
    figures = [figure for use in page_uses.values() for figure in use.figures]
    assert {f["figure"] for f in figures} == set(USES)
    for figure in figures:
        print(f"{figure['figure']} ({figure['model']}): grey levels off by {figure['differences']}")
        assert max(figure["differences"]) <= GREY_LEVELS, figure


@pytest.mark.parametrize("page", LIVE_PAGES)
def test_live_page_is_clean(page_uses: dict[str, PageUse], page: str):
    """No console error, no request leaving the site, no axe violation once the figures are
    drawn; ONNX Runtime Web and the models load only once a figure is used."""
    use = page_uses[page]
    assert use.figures, f"{page} has no live figure"
    assert use.console_errors == []
    assert use.foreign_requests == []
    assert use.requests_before_use == []
    for mode, violations in use.violations.items():
        assert [rule["id"] for rule in violations] == [], mode


@pytest.mark.parametrize("page", LIVE_PAGES)
def test_live_page_size_budget(page_uses: dict[str, PageUse], page: str):
    use = page_uses[page]
    print(f"{page}: {use.bytes_by_kind}")
    for kind, budget in BUDGET.items():
        assert 0 < use.bytes_by_kind.get(kind, 0) <= budget, (kind, use.bytes_by_kind)
