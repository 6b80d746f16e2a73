// The tinct page: open a photo, place colour hints, see the result update, download.
// Plain JavaScript, no build step. It talks to the API of tinct.server.app:
//   POST /api/images                  -> {id, width, height, ...}   (the photo, kept server-side)
//   POST /api/images/{id}/preview     -> PNG at preview size         (each hint update)
//   POST /api/images/{id}/suggest     -> {colors: [{hex, probability}]}
//   POST /api/images/{id}/colorize    -> full-resolution PNG         (download)
// Hints are kept here in pixels of the original image, in the hints-file format.
"use strict";

const UPDATE_DELAY_MS = 150; // debounce: a drag or a colour sweep sends one request per pause
const MARKER_SCREEN_RADIUS = 9; // hint markers keep this size on screen, whatever the zoom
const MIN_BOUNDARY_STEP = 3; // screen pixels between recorded boundary points
const SUGGESTION_COUNT = 6;
const SVG_NS = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

const page = {
  image: null, // {id, filename, width, height, preview_width, preview_height}
  hints: [], // [{id, x, y, color: "#rrggbb", radius}]
  boundaries: [], // [{id, points: [[x, y], ...], width}]
  selected: null, // id of the selected hint
  mode: "hint", // "hint" | "boundary"
  nextId: 1,
  pending: null, // debounce timer
  inFlight: null, // AbortController of the running preview request
  suggestFor: null, // AbortController of the running suggestion request
  generation: 0, // bumps with every change of hints; the shown result carries its generation
  shownGeneration: -1,
  resultUrl: null,
  originalUrl: null,
};

// ---- small helpers -------------------------------------------------------------------------

function setStatus(text, isError = false) {
  const status = $("status");
  status.textContent = text;
  status.classList.toggle("error", isError);
}

async function errorText(response) {
  try {
    const body = await response.json();
    if (body && body.error) return body.error;
  } catch (_) {
    // not JSON: fall through
  }
  return `${response.status} ${response.statusText}`;
}

async function postJson(url, body, signal) {
  return fetch(url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify(body),
    signal,
  });
}

function round1(value) {
  return Math.round(value * 10) / 10;
}

function defaultRadius() {
  // Trained with hint patches of a few pixels at the model's 256 px working size.
  return Math.max(1, Math.round((2.5 * Math.max(page.image.width, page.image.height)) / 256));
}

function saveBlob(blob, name) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement("a");
  link.href = url;
  link.download = name;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10000);
}

function baseName() {
  const name = page.image ? page.image.filename : "image";
  return name.replace(/\.[^.]*$/, "") || "image";
}

// ---- the hints document (the format of tinct.guidance.hints_file) ---------------------------

function hintsDocument(excludeId = null) {
  return {
    version: 1,
    points: page.hints
      .filter((h) => h.id !== excludeId)
      .map((h) => ({ x: round1(h.x), y: round1(h.y), color: h.color, radius: h.radius })),
    strokes: [],
    boundaries: page.boundaries.map((b) => ({
      points: b.points.map(([x, y]) => [round1(x), round1(y)]),
      width: b.width,
    })),
  };
}

// ---- opening a photo -----------------------------------------------------------------------

async function openFile(file) {
  if (!file) return;
  setStatus(`Uploading ${file.name}…`);
  const form = new FormData();
  form.append("image", file, file.name);
  let response;
  try {
    response = await fetch("/api/images", { method: "POST", body: form });
  } catch (error) {
    setStatus(`Upload failed: ${error.message}`, true);
    return;
  }
  if (!response.ok) {
    setStatus(`Cannot open ${file.name}: ${await errorText(response)}`, true);
    return;
  }
  page.image = await response.json();
  page.hints = [];
  page.boundaries = [];
  page.selected = null;
  showOriginal(file);
  $("workspace").hidden = false;
  $("open-panel").classList.add("compact");
  $("overlay").setAttribute("viewBox", `0 0 ${page.image.width} ${page.image.height}`);
  $("hint-radius").max = String(Math.max(40, defaultRadius() * 8));
  renderAll();
  changed(0); // the automatic result, at once
}

function showOriginal(file) {
  if (page.originalUrl) URL.revokeObjectURL(page.originalUrl);
  page.originalUrl = URL.createObjectURL(file);
  $("original").src = page.originalUrl;
}

// ---- updating the result -------------------------------------------------------------------

function changed(delay = UPDATE_DELAY_MS) {
  page.generation += 1;
  $("result").dataset.state = "stale";
  clearTimeout(page.pending);
  page.pending = setTimeout(updateResult, delay);
}

async function updateResult() {
  if (!page.image) return;
  if (page.inFlight) page.inFlight.abort();
  const controller = new AbortController();
  page.inFlight = controller;
  const generation = page.generation;
  const url = `/api/images/${page.image.id}/preview`;
  try {
    const response = await postJson(url, { hints: hintsDocument() }, controller.signal);
    if (!response.ok) {
      setStatus(`Update failed: ${await errorText(response)}`, true);
      if (response.status === 404) setStatus("The photo expired on the server; open it again.", true);
      $("result").dataset.state = "error";
      return;
    }
    const blob = await response.blob();
    if (generation !== page.generation) return; // a newer update is on its way
    showResult(blob, generation);
  } catch (error) {
    if (error.name !== "AbortError") setStatus(`Update failed: ${error.message}`, true);
  } finally {
    if (page.inFlight === controller) page.inFlight = null;
  }
}

function showResult(blob, generation) {
  const result = $("result");
  const previous = page.resultUrl;
  page.resultUrl = URL.createObjectURL(blob);
  result.onload = () => {
    if (previous) URL.revokeObjectURL(previous);
    page.shownGeneration = generation;
    result.dataset.generation = String(generation);
    result.dataset.state = generation === page.generation ? "current" : "stale";
    renderOverlay();
    const n = page.hints.length;
    setStatus(n ? `Updated with ${n} hint${n === 1 ? "" : "s"}.` : "Automatic result.");
  };
  result.src = page.resultUrl;
}

// ---- pointer interaction on the photo ------------------------------------------------------

function imagePoint(event) {
  const box = $("overlay").getBoundingClientRect();
  const x = ((event.clientX - box.left) / box.width) * page.image.width;
  const y = ((event.clientY - box.top) / box.height) * page.image.height;
  return [
    Math.min(Math.max(x, 0), page.image.width - 0.01),
    Math.min(Math.max(y, 0), page.image.height - 0.01),
  ];
}

function imageUnitsPerScreenPixel() {
  const box = $("overlay").getBoundingClientRect();
  return page.image.width / Math.max(1, box.width);
}

function resultColourAt(x, y) {
  // The colour the result shows at (x, y): a new hint starts from it, so that placing it alone
  // changes little until a colour is chosen.
  const img = $("result");
  if (!img.naturalWidth) return "#808080";
  const canvas = document.createElement("canvas");
  canvas.width = 1;
  canvas.height = 1;
  const context = canvas.getContext("2d");
  const sx = (x / page.image.width) * img.naturalWidth;
  const sy = (y / page.image.height) * img.naturalHeight;
  context.drawImage(img, Math.floor(sx), Math.floor(sy), 1, 1, 0, 0, 1, 1);
  const [r, g, b] = context.getImageData(0, 0, 1, 1).data;
  return "#" + [r, g, b].map((v) => v.toString(16).padStart(2, "0")).join("");
}

let drag = null; // {kind: "move", id} | {kind: "boundary", boundary, last: [sx, sy]}

function onPointerDown(event) {
  if (!page.image || event.button !== 0) return;
  event.preventDefault();
  const overlay = $("overlay");
  overlay.setPointerCapture(event.pointerId);
  const [x, y] = imagePoint(event);
  const markerId = event.target.dataset ? event.target.dataset.hintId : undefined;
  if (markerId) {
    select(Number(markerId));
    drag = { kind: "move", id: Number(markerId), moved: false };
  } else if (page.mode === "boundary") {
    const boundary = { id: page.nextId++, points: [[x, y]], width: 2 };
    page.boundaries.push(boundary);
    drag = { kind: "boundary", boundary, last: [event.clientX, event.clientY] };
  } else {
    addHint(x, y);
  }
  renderAll();
}

function onPointerMove(event) {
  if (!drag) return;
  const [x, y] = imagePoint(event);
  if (drag.kind === "move") {
    const hint = page.hints.find((h) => h.id === drag.id);
    if (!hint) return;
    hint.x = x;
    hint.y = y;
    drag.moved = true;
    renderOverlay();
  } else {
    const [lx, ly] = drag.last;
    if (Math.hypot(event.clientX - lx, event.clientY - ly) < MIN_BOUNDARY_STEP) return;
    drag.boundary.points.push([x, y]);
    drag.last = [event.clientX, event.clientY];
    renderOverlay();
  }
}

function onPointerUp() {
  if (!drag) return;
  const finished = drag;
  drag = null;
  if (finished.kind === "move" && finished.moved) {
    changed();
    fetchSuggestions();
    renderAll();
  } else if (finished.kind === "boundary") {
    if (finished.boundary.points.length < 2) {
      page.boundaries = page.boundaries.filter((b) => b !== finished.boundary);
    } else {
      changed();
    }
    renderAll();
  }
}

// ---- hints ---------------------------------------------------------------------------------

function addHint(x, y) {
  const hint = { id: page.nextId++, x, y, color: resultColourAt(x, y), radius: defaultRadius() };
  page.hints.push(hint);
  select(hint.id);
  changed();
}

function selectedHint() {
  return page.hints.find((h) => h.id === page.selected) || null;
}

function select(id) {
  page.selected = id;
  renderInspector();
  fetchSuggestions();
}

function deleteHint(id) {
  page.hints = page.hints.filter((h) => h.id !== id);
  if (page.selected === id) page.selected = null;
  renderAll();
  changed();
}

function setHintColour(colour) {
  const hint = selectedHint();
  if (!hint) return;
  hint.color = colour.toLowerCase();
  $("colour-picker").value = hint.color;
  renderOverlay();
  renderLists();
  changed();
}

async function fetchSuggestions() {
  const hint = selectedHint();
  const swatches = $("swatches");
  if (!hint) return;
  if (page.suggestFor) page.suggestFor.abort();
  const controller = new AbortController();
  page.suggestFor = controller;
  swatches.setAttribute("aria-busy", "true");
  const body = { x: hint.x, y: hint.y, hints: hintsDocument(hint.id), count: SUGGESTION_COUNT };
  try {
    const response = await postJson(`/api/images/${page.image.id}/suggest`, body, controller.signal);
    if (!response.ok) {
      setStatus(`No suggestions: ${await errorText(response)}`, true);
      return;
    }
    const { colors } = await response.json();
    if (page.selected === hint.id) renderSwatches(colors);
  } catch (error) {
    if (error.name !== "AbortError") setStatus(`No suggestions: ${error.message}`, true);
  } finally {
    if (page.suggestFor === controller) {
      page.suggestFor = null;
      swatches.removeAttribute("aria-busy");
    }
  }
}

// ---- rendering -----------------------------------------------------------------------------

function renderAll() {
  renderOverlay();
  renderInspector();
  renderLists();
}

function svgElement(name, attributes) {
  const element = document.createElementNS(SVG_NS, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, value);
  return element;
}

function renderOverlay() {
  const overlay = $("overlay");
  if (!page.image) return;
  const unit = imageUnitsPerScreenPixel();
  overlay.replaceChildren();
  for (const boundary of page.boundaries) {
    const points = boundary.points.map(([x, y]) => `${x},${y}`).join(" ");
    overlay.append(
      svgElement("polyline", { points, class: "boundary", "stroke-width": String(3 * unit) }),
    );
  }
  for (const hint of page.hints) {
    const marker = svgElement("circle", {
      cx: hint.x,
      cy: hint.y,
      r: MARKER_SCREEN_RADIUS * unit,
      fill: hint.color,
      class: hint.id === page.selected ? "marker selected" : "marker",
      "stroke-width": String((hint.id === page.selected ? 3 : 2) * unit),
      "data-hint-id": String(hint.id),
    });
    overlay.append(marker);
  }
}

function renderInspector() {
  const hint = selectedHint();
  $("no-selection").hidden = Boolean(hint);
  $("hint-editor").hidden = !hint;
  if (!hint) return;
  $("colour-picker").value = hint.color;
  $("hint-radius").value = String(hint.radius);
  $("hint-radius-value").textContent = String(hint.radius);
}

function renderSwatches(colors) {
  const swatches = $("swatches");
  swatches.replaceChildren();
  for (const colour of colors) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "swatch";
    button.style.background = colour.hex;
    const percent = Math.round(colour.probability * 100);
    button.title = `${colour.hex} (${percent}%)`;
    button.setAttribute("aria-label", `Use suggested colour ${colour.hex}, ${percent} percent`);
    button.dataset.colour = colour.hex;
    button.addEventListener("click", () => setHintColour(colour.hex));
    swatches.append(button);
  }
}

function listItem(label, colour, onSelect, onDelete) {
  const item = document.createElement("li");
  const pick = document.createElement("button");
  pick.type = "button";
  pick.className = "list-pick";
  if (colour) {
    const chip = document.createElement("span");
    chip.className = "chip";
    chip.style.background = colour;
    pick.append(chip);
  }
  pick.append(label);
  if (onSelect) pick.addEventListener("click", onSelect);
  else pick.disabled = true;
  const remove = document.createElement("button");
  remove.type = "button";
  remove.className = "list-delete";
  remove.textContent = "×";
  remove.setAttribute("aria-label", `Delete ${label}`);
  remove.addEventListener("click", onDelete);
  item.append(pick, remove);
  return item;
}

function renderLists() {
  const hints = page.hints.map((h, i) => {
    const label = `hint ${i + 1} at (${Math.round(h.x)}, ${Math.round(h.y)})`;
    const item = listItem(label, h.color, () => select(h.id), () => deleteHint(h.id));
    if (h.id === page.selected) item.classList.add("selected");
    return item;
  });
  $("hint-list").replaceChildren(...hints);
  const boundaries = page.boundaries.map((b, i) =>
    listItem(`boundary ${i + 1} (${b.points.length} points)`, null, null, () => {
      page.boundaries = page.boundaries.filter((other) => other !== b);
      renderAll();
      changed();
    }),
  );
  $("boundary-list").replaceChildren(...boundaries);
}

// ---- toolbar -------------------------------------------------------------------------------

function setMode(mode) {
  page.mode = mode;
  $("mode-hint").setAttribute("aria-pressed", String(mode === "hint"));
  $("mode-boundary").setAttribute("aria-pressed", String(mode === "boundary"));
  $("stage").classList.toggle("drawing", mode === "boundary");
}

async function downloadResult() {
  if (!page.image) return;
  setStatus("Colorizing at full resolution…");
  const url = `/api/images/${page.image.id}/colorize`;
  const response = await postJson(url, { hints: hintsDocument() });
  if (!response.ok) {
    setStatus(`Download failed: ${await errorText(response)}`, true);
    return;
  }
  saveBlob(await response.blob(), `${baseName()}.colorized.png`);
  setStatus(`Saved ${baseName()}.colorized.png (${page.image.width}×${page.image.height}).`);
}

function downloadHints() {
  const text = JSON.stringify(hintsDocument(), null, 2) + "\n";
  saveBlob(new Blob([text], { type: "application/json" }), `${baseName()}.hints.json`);
}

async function showModel() {
  try {
    const response = await fetch("/api/health");
    const health = await response.json();
    const trained = health.trained ? "" : " (untrained: colours are not meaningful)";
    const hints = health.takes_hints ? "" : " – this model ignores hints";
    $("model-info").textContent = `model ${health.model}${trained}${hints} · tinct ${health.version}`;
  } catch (_) {
    $("model-info").textContent = "the server does not answer";
  }
}

// ---- wiring --------------------------------------------------------------------------------

function wire() {
  $("file-input").addEventListener("change", (event) => openFile(event.target.files[0]));
  const target = $("drop-target");
  target.addEventListener("dragover", (event) => {
    event.preventDefault();
    target.classList.add("dragging");
  });
  target.addEventListener("dragleave", () => target.classList.remove("dragging"));
  target.addEventListener("drop", (event) => {
    event.preventDefault();
    target.classList.remove("dragging");
    openFile(event.dataTransfer.files[0]);
  });
  const overlay = $("overlay");
  overlay.addEventListener("pointerdown", onPointerDown);
  overlay.addEventListener("pointermove", onPointerMove);
  overlay.addEventListener("pointerup", onPointerUp);
  overlay.addEventListener("pointercancel", onPointerUp);
  $("colour-picker").addEventListener("input", (event) => setHintColour(event.target.value));
  $("hint-radius").addEventListener("input", (event) => {
    const hint = selectedHint();
    if (!hint) return;
    hint.radius = Number(event.target.value);
    $("hint-radius-value").textContent = event.target.value;
    changed();
  });
  $("delete-hint").addEventListener("click", () => deleteHint(page.selected));
  $("clear-hints").addEventListener("click", () => {
    page.hints = [];
    page.boundaries = [];
    page.selected = null;
    renderAll();
    changed();
  });
  $("mode-hint").addEventListener("click", () => setMode("hint"));
  $("mode-boundary").addEventListener("click", () => setMode("boundary"));
  $("show-original").addEventListener("change", (event) => {
    $("original").hidden = !event.target.checked;
    $("result").classList.toggle("under", event.target.checked);
  });
  $("download-result").addEventListener("click", downloadResult);
  $("download-hints").addEventListener("click", downloadHints);
  document.addEventListener("keydown", (event) => {
    const typing = event.target.closest && event.target.closest("input, textarea");
    if (!typing && page.selected !== null && (event.key === "Delete" || event.key === "Backspace")) {
      deleteHint(page.selected);
    }
  });
  window.addEventListener("resize", renderOverlay);
  showModel();
}

wire();
