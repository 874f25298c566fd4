"""Time the live figures' decoders in headless Chromium (ONNX Runtime Web, single-threaded wasm),
against ONNX Runtime in Python on the same files, one thread, in the same run.

For each decoder the book build exported (`_static/live/models.json`): the time of one
`session.run` for one digit and for an 8 x 8 grid (64 digits), the mean of 30 runs after 3
warm-up runs. Then, on
chapter 2's page, the time from an arrow key on the 2-D latent map to its decoded digit on the
canvas (what a reader dragging on the map waits for), over 20 key presses. The course's goal: one
digit in under 20 ms, so that dragging stays fluid.

A script, not a test: timings depend on the machine and its load. Run from the repository root
after building the book (`make book`, or a smoke build under _build/smoke):

    .venv/bin/python -m benchmarks.live_decode [--site _build/html] [--output PATH]

Prints a table and writes JSON (benchmarks/results/live-decode.json by default).
"""

from __future__ import annotations

import argparse
import functools
import http.server
import json
import os
import platform
import statistics
import threading
import time
from pathlib import Path

import numpy as np
import onnxruntime

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
REPEATS, WARM_UP = 30, 3
BATCHES = (1, 64)

# Mean milliseconds of session.run per batch size, for one network, in the page: the mean over
# `repeats` runs timed together, because Chromium rounds performance.now() to 0.1 ms on a page
# that is not cross-origin isolated (as GitHub Pages' are not).
TIME_JS = """
async ([url, latent, batches, repeats, warmUp]) => {
  const session = await ort.InferenceSession.create(url, { executionProviders: ["wasm"] });
  const result = {};
  for (const batch of batches) {
    const data = new Float32Array(batch * latent).map((_, i) => Math.sin(i));
    const feeds = { z: new ort.Tensor("float32", data, [batch, latent]) };
    for (let k = 0; k < warmUp; k += 1) await session.run(feeds);
    const start = performance.now();
    for (let k = 0; k < repeats; k += 1) await session.run(feeds);
    result[batch] = (performance.now() - start) / repeats;
  }
  return result;
}
"""
# Milliseconds from an arrow key on the 2-D map to the drawn digit, for each of `presses`.
MAP_JS = """
async (presses) => {
  const figure = document.querySelector('.live-figure[data-figure="latent-map"]');
  const map = figure.querySelector("canvas.live-map");
  const rendered = (count) => new Promise((resolve) => {
    if (Number(figure.dataset.renders) > count) return resolve();
    const observer = new MutationObserver(() => {
      if (Number(figure.dataset.renders) > count) {
        observer.disconnect();
        resolve();
      }
    });
    observer.observe(figure, { attributes: true, attributeFilter: ["data-renders"] });
  });
  map.focus();
  const key = (name) =>
    map.dispatchEvent(new KeyboardEvent("keydown", { key: name, bubbles: true }));
  key("ArrowRight");
  await rendered(0);  // the runtime and the model have loaded
  const times = [];
  for (let k = 0; k < presses; k += 1) {
    const count = Number(figure.dataset.renders);
    const start = performance.now();
    key(k % 2 ? "ArrowUp" : "ArrowRight");
    await rendered(count);
    times.push(performance.now() - start);
  }
  return times;
}
"""


class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:
        """No log line per request."""


def python_times(path: Path, latent: int) -> dict[int, float]:
    """Mean milliseconds of one run in ONNX Runtime (Python, one thread) per batch size."""
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    session = onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    result = {}
    for batch in BATCHES:
        z = np.sin(np.arange(batch * latent, dtype=np.float32)).reshape(batch, latent)
        for _ in range(WARM_UP):
            session.run(None, {"z": z})
        start = time.perf_counter()
        for _ in range(REPEATS):
            session.run(None, {"z": z})
        result[batch] = 1000 * (time.perf_counter() - start) / REPEATS
    return result


def browser_times(site: Path) -> tuple[dict[str, dict[int, float]], list[float]]:
    """Per decoder, median ms per batch size in Chromium; and the map's key-to-digit times."""
    from playwright.sync_api import sync_playwright

    handler = functools.partial(Quiet, directory=str(site))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{server.server_port}/"
    manifest = json.loads((site / "_static" / "live" / "models.json").read_text())
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
            page = browser.new_page()
            page.set_default_timeout(300_000)
            page.goto(base + "book/02-vae.html", wait_until="load")
            page.add_script_tag(url=base + "_static/npm/onnxruntime-web/ort.wasm.min.js")
            page.evaluate(
                "(path) => { ort.env.wasm.numThreads = 1; ort.env.wasm.wasmPaths = path; }",
                base + "_static/npm/onnxruntime-web/",
            )
            decoders = {}
            for name, network in manifest["networks"].items():
                if network["inputs"] == ["z"]:
                    url = base + "_static/live/" + network["file"]
                    arguments = [url, network["latent"], list(BATCHES), REPEATS, WARM_UP]
                    decoders[name] = {
                        int(k): v for k, v in page.evaluate(TIME_JS, arguments).items()
                    }
            page.reload(wait_until="load")
            page.wait_for_selector('.live-figure[data-figure="latent-map"] canvas.live-map')
            map_times = page.evaluate(MAP_JS, 20)
            browser.close()
    finally:
        server.shutdown()
    return decoders, map_times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", type=Path, default=ROOT / "_build" / "html")
    parser.add_argument("--output", type=Path, default=ROOT / "benchmarks/results/live-decode.json")
    args = parser.parse_args()
    live = args.site / "_static" / "live"
    manifest = json.loads((live / "models.json").read_text())
    in_browser, map_times = browser_times(args.site)
    rows = {}
    print(f"{'decoder':<28} {'digits':>6} {'Chromium ms':>12} {'Python ms':>10} {'ratio':>6}")
    for name, times in in_browser.items():
        network = manifest["networks"][name]
        reference = python_times(live / network["file"], network["latent"])
        rows[name] = {}
        for batch in BATCHES:
            ratio = times[batch] / reference[batch]
            rows[name][batch] = dict(chromium_ms=times[batch], python_ms=reference[batch])
            timings = f"{times[batch]:>12.2f} {reference[batch]:>10.2f} {ratio:>6.1f}"
            print(f"{name:<28} {batch:>6} {timings}")
    key_to_digit = statistics.median(map_times)
    print(f"2-D VAE map, arrow key to drawn digit: median {key_to_digit:.1f} ms over 20 presses")
    results = dict(
        machine=dict(
            processor=platform.processor() or platform.machine(),
            cores=os.cpu_count(),
            load_average=os.getloadavg(),  # other processes on the machine slow every timing
        ),
        decoders=rows,
        map_key_to_digit_ms=map_times,
        map_key_to_digit_median_ms=key_to_digit,
    )
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(json.dumps(results, indent=1))
    print(f"written to {args.output}")


if __name__ == "__main__":
    main()
