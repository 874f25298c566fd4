/* Live figures: the chapters' trained networks run in the reader's browser, with no kernel and no
   server. The book build exports them to ONNX (tools/live_models.py, called by
   book/_ext/livemodels.py) into _static/live/, with models.json describing them; ONNX Runtime Web's
   single-threaded WebAssembly build (vendored by `make assets` into _static/npm/onnxruntime-web)
   runs them. It is loaded on the reader's first interaction with a figure (focus, pointer or key),
   so that a page's first render never waits for it.

   A chapter places a figure with an empty element next to the static figure it makes live:
     <div class="live-figure" data-figure="latent-map" data-model="vae-latent2"></div>
   Figures: latent-map (2-D codes), directions (sliders along the codes' principal directions),
   interpolation (linear and spherical paths), samples (N samples with seed S), draw (a digit drawn
   with the pointer or the keyboard, encoded and reconstructed).

   Digits are drawn as the chapters' figures draw them: grey level round(255 (1 - x)) for a pixel
   mean x (matplotlib's gray_r), grids with a 2-pixel white border around each 28 x 28 tile
   (torchvision's make_grid). Each figure records what it last decoded in data-latent (JSON),
   counts its renders in data-renders and sets data-pending="0" once no render is left to do, so
   that tests can compare its pixels with PyTorch's. */
"use strict";

(() => {
  const STATIC = new URL(".", document.currentScript.src);
  const LIVE = new URL("live/", STATIC);
  const RUNTIME = new URL("npm/onnxruntime-web/", STATIC);
  const TILE = 28;
  const PAD = 2;
  const COLOURS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
    "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"];  // matplotlib's tab10, as plots.py
  let figureCount = 0;

  /* ---------- loading: the manifest, arrays, ONNX Runtime and sessions, each once ---------- */

  const once = (load) => {
    let promise = null;
    return () => (promise ??= load());
  };

  const manifest = once(async () => (await fetch(new URL("models.json", LIVE))).json());

  const arrays = new Map();
  function array(name) {
    if (!arrays.has(name)) {
      arrays.set(name, manifest().then(async (m) => {
        const entry = m.arrays[name];
        const bytes = await (await fetch(new URL(entry.file, LIVE))).arrayBuffer();
        return { data: new Float32Array(bytes), shape: entry.shape };
      }));
    }
    return arrays.get(name);
  }

  const runtime = once(() => new Promise((resolve, reject) => {
    const tag = document.createElement("script");
    tag.src = new URL("ort.wasm.min.js", RUNTIME).href;
    tag.onload = () => {
      window.ort.env.wasm.numThreads = 1;  // GitHub Pages sends no COOP/COEP headers
      window.ort.env.wasm.wasmPaths = RUNTIME.href;
      window.ort.env.logLevel = "error";
      resolve(window.ort);
    };
    tag.onerror = () => reject(new Error(`could not load ${tag.src}`));
    document.head.append(tag);
  }));

  const sessions = new Map();
  function session(name) {
    if (!sessions.has(name)) {
      sessions.set(name, Promise.all([runtime(), manifest()]).then(async ([ort, m]) => {
        const url = new URL(m.networks[name].file, LIVE).href;
        const created = await ort.InferenceSession.create(url, { executionProviders: ["wasm"] });
        return { ort, created, queue: Promise.resolve(), info: m.networks[name] };
      }));
    }
    return sessions.get(name);
  }

  /* Run network `name` on `rows` inputs (a Float32Array of rows x the input's size); resolves to
     its outputs by name. One run at a time per network. */
  async function run(name, data, rows) {
    const s = await session(name);
    const shape = s.info.inputs[0] === "z" ? [rows, s.info.latent] : [rows, 1, TILE, TILE];
    const feeds = { [s.info.inputs[0]]: new s.ort.Tensor("float32", data, shape) };
    const result = s.queue.then(() => s.created.run(feeds));
    s.queue = result.catch(() => {});
    const outputs = await result;
    return Object.fromEntries(s.info.outputs.map((key) => [key, outputs[key].data]));
  }

  const decode = async (model, codes, rows) => (await run(`${model}-decoder`, codes, rows)).images;

  /* Calls `task` with the latest arguments, never two at a time: a drag that moves faster than
     the network decodes skips the positions it could not show. `idle` runs when nothing is
     left to do. */
  function latest(task, idle = () => {}) {
    let busy = false;
    let waiting = null;
    const pump = async () => {
      busy = true;
      while (waiting) {
        const args = waiting;
        waiting = null;
        await task(...args);
      }
      busy = false;
      idle();
    };
    return (...args) => {
      waiting = args;
      if (!busy) pump();
    };
  }

  /* ---------- drawing ---------- */

  function digitCanvas(label, tilesWide = 1, tilesHigh = 1, border = false) {
    const canvas = document.createElement("canvas");
    const extra = border ? PAD : 0;
    canvas.width = tilesWide * (TILE + extra) + extra;
    canvas.height = tilesHigh * (TILE + extra) + extra;
    canvas.className = "live-digits";
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", label);
    return canvas;
  }

  /* Draw `count` images (count x 784 pixel means) into a grid of `columns`, with make_grid's
     2-pixel white border when the canvas has room for it. */
  function drawImages(canvas, pixels, count, columns) {
    const context = canvas.getContext("2d");
    const pad = canvas.width > columns * TILE ? PAD : 0;
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, canvas.width, canvas.height);
    const tile = context.createImageData(TILE, TILE);
    for (let k = 0; k < count; k += 1) {
      for (let p = 0; p < TILE * TILE; p += 1) {
        const grey = Math.round(255 * (1 - Math.min(1, Math.max(0, pixels[k * TILE * TILE + p]))));
        tile.data.set([grey, grey, grey, 255], 4 * p);
      }
      const x = pad + (k % columns) * (TILE + pad);
      const y = pad + Math.floor(k / columns) * (TILE + pad);
      context.putImageData(tile, x, y);
    }
  }

  const fixed = (x, digits = 2) => (Math.abs(x) < 0.005 ? 0 : x).toFixed(digits);
  const norm = (v) => Math.hypot(...v);

  /* ---------- the figure's frame: caption, state, live description ---------- */

  function frame(element, caption, help) {
    figureCount += 1;
    const id = `live-figure-${figureCount}`;
    element.innerHTML = "";
    element.setAttribute("role", "group");
    element.setAttribute("aria-labelledby", `${id}-caption`);
    element.dataset.state = "idle";
    element.dataset.renders = "0";
    element.dataset.pending = "0";
    const title = document.createElement("p");
    title.className = "live-caption";
    title.id = `${id}-caption`;
    title.textContent = caption;
    const instructions = document.createElement("p");
    instructions.className = "live-help";
    instructions.textContent = help;
    const body = document.createElement("div");
    body.className = "live-body";
    const status = document.createElement("p");
    status.className = "live-status";
    status.setAttribute("aria-live", "polite");
    status.textContent = "The network loads when you first use the figure.";
    element.append(title, instructions, body, status);
    return { id, body, status };
  }

  /* Load the runtime on the first focus, pointer or key in the figure, then render; after that
     `render` runs on every change. Records each render for the tests. */
  function activate(element, status, render) {
    const rendered = latest(async () => {
      try {
        const description = await render();
        element.dataset.state = "ready";
        status.textContent = description;
        element.dataset.renders = String(Number(element.dataset.renders) + 1);
      } catch (error) {
        element.dataset.state = "error";
        status.textContent = `The live figure could not run: ${error.message}`;
      }
    }, () => { element.dataset.pending = "0"; });
    const start = () => {
      if (element.dataset.state !== "idle") return;
      element.dataset.state = "loading";
      status.textContent = "Loading the network (ONNX Runtime Web)...";
      element.dataset.pending = "1";
      rendered();
    };
    for (const kind of ["focusin", "pointerdown", "keydown"]) element.addEventListener(kind, start);
    return () => {
      if (element.dataset.state === "idle") return start();
      element.dataset.pending = "1";
      return rendered();
    };
  }

  function control(tag, label, attributes = {}) {
    const wrapper = document.createElement("label");
    wrapper.className = "live-control";
    const text = document.createElement("span");
    text.textContent = label;
    const input = document.createElement(tag);
    for (const [key, value] of Object.entries(attributes)) input.setAttribute(key, value);
    wrapper.append(text, input);
    return { wrapper, input, text };
  }

  function button(label) {
    const element = document.createElement("button");
    element.type = "button";
    element.className = "live-button";
    element.textContent = label;
    return element;
  }

  /* ---------- 2-D latent map ---------- */

  async function latentMap(element, model) {
    const m = await manifest();
    const map = m.maps[model];
    const codes = await array(`${model}-codes`);
    const { body, status } = frame(
      element,
      `Live figure: the ${model === "ae-latent2" ? "2-D autoencoder" : "2-D VAE"}'s decoder, ` +
        "at any point of its code space.",
      "Click or drag on the map, or focus it and use the arrow keys (Shift for larger steps), " +
        "to choose a code z = (z1, z2); the digit the decoder makes from it appears beside the map. " +
        "The dots are test codes, coloured by digit.",
    );
    const size = 280;
    const canvas = document.createElement("canvas");
    canvas.width = size;
    canvas.height = size;
    canvas.className = "live-map";
    canvas.tabIndex = 0;
    canvas.setAttribute("role", "slider");
    canvas.setAttribute("aria-roledescription", "two-dimensional slider");
    canvas.setAttribute("aria-label", "Code z = (z1, z2) on the map of test codes");
    canvas.setAttribute("aria-valuemin", fixed(map.low[0]));
    canvas.setAttribute("aria-valuemax", fixed(map.high[0]));
    const output = digitCanvas("The decoded digit");
    const [low, high] = [map.low, map.high];
    element.dataset.span = JSON.stringify([low, high]);
    const axes = document.createElement("p");
    axes.className = "live-help";
    axes.textContent = `The map spans z1 from ${fixed(low[0])} (left) to ${fixed(high[0])} (right) ` +
      `and z2 from ${fixed(low[1])} (bottom) to ${fixed(high[1])} (top).`;
    const mapBox = document.createElement("div");
    mapBox.className = "live-map-box";
    mapBox.append(canvas, axes);
    body.append(mapBox, output);
    const toPixel = (z, axis) => axis === 0
      ? ((z - low[0]) / (high[0] - low[0])) * size
      : (1 - (z - low[1]) / (high[1] - low[1])) * size;
    const fromPixel = (px, axis) => axis === 0
      ? low[0] + (px / size) * (high[0] - low[0])
      : low[1] + (1 - px / size) * (high[1] - low[1]);
    const z = [(low[0] + high[0]) / 2, (low[1] + high[1]) / 2];

    const paint = () => {
      const context = canvas.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, size, size);
      for (let i = 0; i < codes.shape[0]; i += 1) {
        context.fillStyle = COLOURS[map.labels[i]];
        context.fillRect(toPixel(codes.data[2 * i], 0) - 1, toPixel(codes.data[2 * i + 1], 1) - 1, 3, 3);
      }
      const [x, y] = [toPixel(z[0], 0), toPixel(z[1], 1)];
      context.strokeStyle = "#000000";
      context.lineWidth = 2;
      context.beginPath();
      context.moveTo(x - 8, y); context.lineTo(x + 8, y);
      context.moveTo(x, y - 8); context.lineTo(x, y + 8);
      context.stroke();
    };
    const nearestDigits = () => {
      const distances = map.labels.map((label, i) =>
        [Math.hypot(codes.data[2 * i] - z[0], codes.data[2 * i + 1] - z[1]), label]);
      distances.sort((a, b) => a[0] - b[0]);
      const counts = new Array(10).fill(0);
      for (const [, label] of distances.slice(0, 10)) counts[label] += 1;
      const best = counts.indexOf(Math.max(...counts));
      return `${counts[best]} of its 10 nearest test codes are ${best}s; ` +
        `the nearest is ${fixed(distances[0][0])} away`;
    };
    const render = activate(element, status, async () => {
      const code = Float32Array.from(z);
      drawImages(output, await decode(model, code, 1), 1, 1);
      element.dataset.latent = JSON.stringify([Array.from(code)]);
      const text = `z = (${fixed(z[0])}, ${fixed(z[1])})`;
      output.setAttribute("aria-label", `The digit decoded from ${text}`);
      return `Decoded ${text}: ${nearestDigits()}.`;
    });
    const move = (z1, z2) => {
      z[0] = Math.min(high[0], Math.max(low[0], z1));
      z[1] = Math.min(high[1], Math.max(low[1], z2));
      canvas.setAttribute("aria-valuenow", fixed(z[0]));
      canvas.setAttribute("aria-valuetext", `z1 ${fixed(z[0])}, z2 ${fixed(z[1])}`);
      paint();
      render();
    };
    const pointer = (event) => {
      const box = canvas.getBoundingClientRect();
      move(fromPixel(((event.clientX - box.left) / box.width) * size, 0),
        fromPixel(((event.clientY - box.top) / box.height) * size, 1));
    };
    canvas.addEventListener("pointerdown", (event) => {
      canvas.setPointerCapture(event.pointerId);
      pointer(event);
    });
    canvas.addEventListener("pointermove", (event) => {
      if (canvas.hasPointerCapture(event.pointerId)) pointer(event);
    });
    canvas.addEventListener("keydown", (event) => {
      const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, 1], ArrowDown: [0, -1] };
      if (!(event.key in steps)) return;
      event.preventDefault();
      const fraction = event.shiftKey ? 0.1 : 0.025;
      const [dx, dy] = steps[event.key];
      move(z[0] + dx * fraction * (high[0] - low[0]), z[1] + dy * fraction * (high[1] - low[1]));
    });
    canvas.setAttribute("aria-valuenow", fixed(z[0]));
    canvas.setAttribute("aria-valuetext", `z1 ${fixed(z[0])}, z2 ${fixed(z[1])}`);
    paint();
  }

  /* ---------- sliders along the principal directions of a 20-D code ---------- */

  async function directions(element, model) {
    const m = await manifest();
    const pca = m.directions[model];
    const { body, status } = frame(
      element,
      "Live figure: the 20-D VAE's decoder along the leading principal directions of its test codes.",
      "Each slider moves the code from the mean of the test codes' means along one principal " +
        "direction, in standard deviations of the codes along it.",
    );
    const sliders = pca.spread.map((_, k) => control(
      "input",
      `Direction ${k + 1} (${(100 * pca.share[k]).toFixed(0)}% of the codes' variance)`,
      { type: "range", min: "-3", max: "3", step: "0.25", value: "0" },
    ));
    const panel = document.createElement("div");
    panel.className = "live-controls";
    panel.append(...sliders.map((s) => s.wrapper));
    const reset = button("Back to the mean code");
    panel.append(reset);
    const output = digitCanvas("The decoded digit");
    body.append(panel, output);
    const render = activate(element, status, async () => {
      const steps = sliders.map((s) => Number(s.input.value));
      const z = Float32Array.from(pca.mean);
      steps.forEach((t, k) => pca.directions[k].forEach((d, i) => { z[i] += t * pca.spread[k] * d; }));
      drawImages(output, await decode(model, z, 1), 1, 1);
      element.dataset.latent = JSON.stringify([Array.from(z)]);
      const where = steps.map((t, k) => `${fixed(t, 2)} along direction ${k + 1}`).join(", ");
      output.setAttribute("aria-label", `The digit decoded from the mean code moved ${where}`);
      return `Decoded the mean code moved ${where} (standard deviations); code norm ${fixed(norm(z))}.`;
    });
    const show = (s) => {  // the value, visible beside the label and read out by screen readers
      const value = `${fixed(Number(s.input.value))} standard deviations`;
      s.input.setAttribute("aria-valuetext", value);
      s.value.textContent = `: ${value}`;
    };
    for (const s of sliders) {
      s.value = document.createElement("span");
      s.value.setAttribute("aria-hidden", "true");
      s.text.append(s.value);
      show(s);
      s.input.addEventListener("input", () => {
        show(s);
        render();
      });
    }
    reset.addEventListener("click", () => {
      for (const s of sliders) {
        s.input.value = "0";
        show(s);
      }
      render();
    });
  }

  /* ---------- interpolation: linear and spherical paths, with the code norm along each ---------- */

  /* The point at t of the spherical path from a to b, as labutils.plots.slerp computes it
     (White, 2016): along the great circle through both codes, by the angle between them; the
     straight line when they point the same or opposite ways. */
  function slerp(a, b, t) {
    const unitA = a.map((x) => x / Math.max(norm(a), 1e-12));
    const unitB = b.map((x) => x / Math.max(norm(b), 1e-12));
    const angle = 2 * Math.atan2(norm(unitA.map((x, i) => x - unitB[i])),
      norm(unitA.map((x, i) => x + unitB[i])));
    if (Math.sin(angle) < 1e-4) return a.map((x, i) => (1 - t) * x + t * b[i]);
    const [wa, wb] = [Math.sin((1 - t) * angle), Math.sin(t * angle)].map((w) => w / Math.sin(angle));
    return a.map((x, i) => wa * x + wb * b[i]);
  }

  function plotNorms(canvas, paths) {
    const context = canvas.getContext("2d");
    const [w, h, margin] = [canvas.width, canvas.height, 24];
    context.fillStyle = "#ffffff";
    context.fillRect(0, 0, w, h);
    const all = paths.flatMap((p) => p.norms);
    const top = Math.max(...all) * 1.1;
    context.font = "12px sans-serif";
    context.fillStyle = "#000000";
    context.fillText(`length of the code (0 to ${top.toFixed(1)}) along the path, t from 0 to 1`, margin, 14);
    paths.forEach((path, k) => {
      context.strokeStyle = ["#1f77b4", "#d62728"][k];
      context.setLineDash(k ? [6, 4] : []);
      context.lineWidth = 2;
      context.beginPath();
      path.norms.forEach((value, i) => {
        const x = margin + (i / (path.norms.length - 1)) * (w - 2 * margin);
        const y = h - margin - (value / top) * (h - 2 * margin);
        if (i) context.lineTo(x, y); else context.moveTo(x, y);
      });
      context.stroke();
      context.fillStyle = context.strokeStyle;
      context.fillText(path.name, w - margin - 90, h - margin - 16 * (k + 1) + 8);
    });
  }

  async function interpolation(element, model) {
    const digits = await array("digits");
    const { body, status } = frame(
      element,
      "Live figure: walking between the codes of two test digits, along the straight line and " +
        "along the spherical path.",
      "Choose the two test digits. Each row decodes ten codes from the first digit's mu to the " +
        "second's; the chart shows the length of the code along each path.",
    );
    const options = (chosen) => [...Array(10).keys()]
      .map((d) => `<option value="${d}"${d === chosen ? " selected" : ""}>the first ${d} of the test split</option>`)
      .join("");
    const start = control("select", "From");
    const end = control("select", "to");
    start.input.innerHTML = options(2);
    end.input.innerHTML = options(7);
    const panel = document.createElement("div");
    panel.className = "live-controls";
    panel.append(start.wrapper, end.wrapper);
    const steps = 10;
    const rows = ["straight line", "spherical path"].map((name) => {
      const row = document.createElement("div");
      row.className = "live-row";
      const label = document.createElement("span");
      label.textContent = name;
      const canvas = digitCanvas(`The ${name} path`, steps + 2, 1, true);
      row.append(label, canvas);
      return { name, canvas };
    });
    const chart = document.createElement("canvas");
    chart.width = 360;
    chart.height = 160;
    chart.className = "live-chart";
    chart.setAttribute("role", "img");
    chart.setAttribute("aria-label", "Length of the code along each path (drawn once the figure runs)");
    body.append(panel, ...rows.map((r) => r.canvas.parentElement), chart);
    const render = activate(element, status, async () => {
      const picked = [Number(start.input.value), Number(end.input.value)];
      const images = new Float32Array(2 * TILE * TILE);
      picked.forEach((d, k) => images.set(digits.data.subarray(d * TILE * TILE, (d + 1) * TILE * TILE), k * TILE * TILE));
      const { mu } = await run(`${model}-encoder`, images, 2);
      const size = mu.length / 2;
      const [a, b] = [Array.from(mu.subarray(0, size)), Array.from(mu.subarray(size))];
      const ts = [...Array(steps).keys()].map((i) => i / (steps - 1));
      const paths = [
        { name: "straight line", codes: ts.map((t) => a.map((x, i) => (1 - t) * x + t * b[i])) },
        { name: "spherical path", codes: ts.map((t) => slerp(a, b, t)) },
      ];
      const latents = [];
      for (const [k, path] of paths.entries()) {
        const decoded = await decode(model, Float32Array.from(path.codes.flat()), steps);
        const strip = new Float32Array((steps + 2) * TILE * TILE);
        strip.set(images.subarray(0, TILE * TILE), 0);
        strip.set(decoded, TILE * TILE);
        strip.set(images.subarray(TILE * TILE), (steps + 1) * TILE * TILE);
        drawImages(rows[k].canvas, strip, steps + 2, steps + 2);
        path.norms = path.codes.map(norm);
        latents.push(...path.codes);
      }
      element.dataset.latent = JSON.stringify(latents);
      plotNorms(chart, paths);
      const summary = paths.map((p) =>
        `${p.name}: from ${fixed(p.norms[0])} to ${fixed(p.norms.at(-1))}, ` +
        `smallest ${fixed(Math.min(...p.norms))}`).join("; ");
      chart.setAttribute("aria-label", `Length of the code along each path. ${summary}.`);
      rows.forEach((r) => r.canvas.setAttribute("aria-label",
        `The ${r.name} path from the first ${picked[0]} to the first ${picked[1]}: the two test ` +
        "images at the ends, ten decoded codes between them"));
      return `Paths from the first ${picked[0]} to the first ${picked[1]} of the test split. ` +
        `Length of the code along the ${summary}.`;
    });
    start.input.addEventListener("change", render);
    end.input.addEventListener("change", render);
  }

  /* ---------- sample grids: N samples with seed S ---------- */

  /* Standard normal numbers from a seeded mulberry32 generator (Box-Muller): the browser's own
     noise, for seeds other than the chapter's. */
  function normals(seed, count) {
    let state = seed >>> 0;
    const uniform = () => {
      state = (state + 0x6d2b79f5) >>> 0;
      let t = state;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
    };
    const values = new Float32Array(count);
    for (let i = 0; i < count; i += 2) {
      const [r, angle] = [Math.sqrt(-2 * Math.log(uniform())), 2 * Math.PI * uniform()];
      values[i] = r * Math.cos(angle);
      if (i + 1 < count) values[i + 1] = r * Math.sin(angle);
    }
    return values;
  }

  async function samples(element, model) {
    const m = await manifest();
    const chapter = m.samples[model];
    const latent = m.networks[`${model}-decoder`].latent;
    const names = { "vae-latent20": "20-D VAE", dcgan: "DCGAN generator" };
    const { body, status } = frame(
      element,
      `Live figure: new samples from the ${names[model] ?? "convolutional VAE"}.`,
      `Choose how many samples and a seed, then draw. Seed ${chapter.seed} gives the noise the ` +
        "chapter drew, and so the figure above; other seeds draw their noise in your browser.",
    );
    const count = control("select", "Samples");
    count.input.innerHTML = [16, 25, 36, 64, 100]
      .map((n) => `<option${n === chapter.count ? " selected" : ""}>${n}</option>`).join("");
    const seed = control("input", "Seed", { type: "number", min: "0", step: "1", value: String(chapter.seed) });
    const draw = button("Draw the samples");
    const panel = document.createElement("div");
    panel.className = "live-controls";
    panel.append(count.wrapper, seed.wrapper, draw);
    const output = digitCanvas("Samples", 10, 10, true);
    body.append(panel, output);
    const render = activate(element, status, async () => {
      const n = Number(count.input.value);
      const s = Math.max(0, Math.floor(Number(seed.input.value) || 0));
      const own = s === chapter.seed && n <= chapter.count;
      const noise = own
        ? (await array(chapter.noise)).data.slice(0, n * latent)
        : normals(s, n * latent);
      const columns = n === chapter.count ? chapter.columns : Math.ceil(Math.sqrt(n));
      const rows = Math.ceil(n / columns);
      output.width = columns * (TILE + PAD) + PAD;
      output.height = rows * (TILE + PAD) + PAD;
      output.style.width = `${2 * output.width}px`;  // two screen pixels per image pixel
      drawImages(output, await decode(model, noise, n), n, columns);
      element.dataset.latent = JSON.stringify(Array.from({ length: n }, (_, k) =>
        Array.from(noise.subarray(k * latent, (k + 1) * latent))));
      const origin = own ? `the noise the chapter drew with seed ${s}` : `seed ${s}, drawn in your browser`;
      output.setAttribute("aria-label", `${n} samples in ${rows} rows of ${columns}, from ${origin}`);
      return `${n} samples from ${origin}.`;
    });
    draw.addEventListener("click", render);
  }

  /* ---------- draw a digit: encoded and reconstructed ---------- */

  async function drawing(element, model) {
    const m = await manifest();
    const digits = await array("digits");
    const variational = m.networks[`${model}-encoder`].outputs.includes("mu");
    const { body, status } = frame(
      element,
      `Live figure: a digit you draw, encoded and reconstructed by the ${
        variational ? "20-D VAE" : "20-D autoencoder"}.`,
      "Draw with the mouse, a finger or a pen. With the keyboard, focus the pad, move its cursor " +
        "with the arrow keys and press Space to ink the cursor's pixel. Or start from a test digit.",
    );
    const pixels = new Float32Array(TILE * TILE);
    const size = 196;
    const pad = document.createElement("canvas");
    pad.width = TILE;
    pad.height = TILE;
    pad.className = "live-pad";
    pad.tabIndex = 0;
    pad.setAttribute("role", "application");
    pad.setAttribute("aria-label", "Drawing pad, 28 by 28 pixels");
    pad.style.width = `${size}px`;
    const output = digitCanvas("The reconstruction");
    const start = control("select", "Start from");
    start.input.innerHTML = '<option value="">an empty pad</option>' +
      [...Array(10).keys()].map((d) => `<option value="${d}">the first ${d} of the test split</option>`).join("");
    const clear = button("Clear the pad");
    const panel = document.createElement("div");
    panel.className = "live-controls";
    panel.append(start.wrapper, clear);
    const bars = document.createElement("canvas");
    bars.width = 360;
    bars.height = 160;
    bars.className = "live-chart";
    bars.setAttribute("role", "img");
    bars.setAttribute("aria-label", "Posterior mean and sigma (drawn once the figure runs)");
    body.append(panel, pad, output, ...(variational ? [bars] : []));
    const cursor = [14, 14];
    const paint = (showCursor) => {
      drawImages(pad, pixels, 1, 1);
      if (showCursor) {
        const context = pad.getContext("2d");
        context.strokeStyle = "#d62728";
        context.lineWidth = 0.5;
        context.strokeRect(cursor[0], cursor[1], 1, 1);
      }
    };
    const ink = (x, y, strength) => {
      for (let dy = -1; dy <= 1; dy += 1) {
        for (let dx = -1; dx <= 1; dx += 1) {
          const [px, py] = [Math.round(x) + dx, Math.round(y) + dy];
          if (px < 0 || py < 0 || px >= TILE || py >= TILE) continue;
          const weight = dx === 0 && dy === 0 ? 1 : 0.35 * strength;
          pixels[py * TILE + px] = Math.min(1, pixels[py * TILE + px] + weight);
        }
      }
    };
    const render = activate(element, status, async () => {
      const codes = await run(`${model}-encoder`, pixels.slice(), 1);
      const code = variational ? codes.mu : codes.code;
      drawImages(output, await decode(model, code, 1), 1, 1);
      element.dataset.latent = JSON.stringify([Array.from(code)]);
      const inked = pixels.filter((p) => p > 0.5).length;
      if (!variational) return `Encoded your digit (${inked} inked pixels) to a code of norm ${fixed(norm(code))}; its reconstruction is shown.`;
      const sigma = Array.from(codes.logvar, (v) => Math.exp(v / 2));
      const context = bars.getContext("2d");
      context.fillStyle = "#ffffff";
      context.fillRect(0, 0, bars.width, bars.height);
      const step = bars.width / code.length;
      code.forEach((mu, i) => {  // mu around the line y = 45 (10 px per unit), sigma up from 155
        context.fillStyle = "#1f77b4";
        const height = Math.max(-30, Math.min(30, mu * 10));
        context.fillRect(i * step + 2, 45 - Math.max(height, 0), step - 4, Math.abs(height));
        context.fillStyle = "#d62728";
        const tall = Math.min(55, sigma[i] * 40);
        context.fillRect(i * step + 2, 155 - tall, step - 4, tall);
      });
      context.fillStyle = "#000000";
      context.font = "11px sans-serif";
      context.fillText("mu, one bar per dimension (blue; the line is 0)", 4, 10);
      context.fillText("sigma (red; 40 px per unit)", 4, 95);
      context.fillRect(0, 45, bars.width, 1);
      const sorted = [...sigma].sort((a, b) => a - b);
      const summary = `posterior mean mu of norm ${fixed(norm(code))}; sigma from ` +
        `${fixed(sorted[0])} to ${fixed(sorted.at(-1))}, median ${fixed(sorted[sorted.length >> 1])}`;
      bars.setAttribute("aria-label", `Bars: the 20 entries of mu (blue, top) and of sigma (red, bottom). ${summary}.`);
      return `Encoded your digit (${inked} inked pixels): ${summary}. Its reconstruction, decoded from mu, is shown.`;
    });
    const pointer = (event) => {
      const box = pad.getBoundingClientRect();
      ink(((event.clientX - box.left) / box.width) * TILE - 0.5, ((event.clientY - box.top) / box.height) * TILE - 0.5, 1);
      paint(false);
    };
    pad.addEventListener("pointerdown", (event) => {
      pad.setPointerCapture(event.pointerId);
      pointer(event);
    });
    pad.addEventListener("pointermove", (event) => {
      if (pad.hasPointerCapture(event.pointerId)) pointer(event);
    });
    pad.addEventListener("pointerup", () => render());
    pad.addEventListener("keydown", (event) => {
      const steps = { ArrowLeft: [-1, 0], ArrowRight: [1, 0], ArrowUp: [0, -1], ArrowDown: [0, 1] };
      if (event.key in steps) {
        cursor[0] = Math.min(TILE - 1, Math.max(0, cursor[0] + steps[event.key][0]));
        cursor[1] = Math.min(TILE - 1, Math.max(0, cursor[1] + steps[event.key][1]));
      } else if (event.key === " ") {
        ink(cursor[0], cursor[1], 1);
        render();
      } else {
        return;
      }
      event.preventDefault();
      paint(true);
    });
    pad.addEventListener("focus", () => paint(true));
    pad.addEventListener("blur", () => paint(false));
    start.input.addEventListener("change", () => {
      const d = Number(start.input.value);
      pixels.set(start.input.value === ""
        ? new Float32Array(TILE * TILE)
        : digits.data.subarray(d * TILE * TILE, (d + 1) * TILE * TILE));
      paint(false);
      render();
    });
    clear.addEventListener("click", () => {
      pixels.fill(0);
      paint(false);
      render();
    });
    paint(false);
  }

  const FIGURES = { "latent-map": latentMap, directions, interpolation, samples, draw: drawing };

  for (const element of document.querySelectorAll(".live-figure")) {
    const make = FIGURES[element.dataset.figure];
    make(element, element.dataset.model).catch((error) => {
      element.textContent = `This live figure could not start: ${error.message}`;
    });
  }
})();
