// The tinct page: open a photo, place colour hints, see the result update, download.
// Plain JavaScript, no build step. It talks to the API of tinct.server.app:
//   POST /api/images                  -> {id, width, height, ...}   (the photo, kept server-side)
//   POST /api/images/{id}/preview     -> PNG at preview size         (each hint update)
//   POST /api/images/{id}/suggest     -> {colors: [{hex, probability}]}
//   POST /api/images/{id}/colorize    -> full-resolution PNG         (download)
// Hints are kept here in pixels of the original image, in the hints-file format
// (docs/hints.md): the page writes it ("Download hints") and reads it back ("Open hints…").
"use strict";

const UPDATE_DELAY_MS = 150; // debounce: a drag or a colour sweep sends one request per pause
const MARKER_SCREEN_RADIUS = 9; // hint markers keep this size on screen, whatever the zoom
const MIN_LINE_STEP = 3; // screen pixels between recorded stroke and boundary points
const BOUNDARY_WIDTH = 2; // image pixels
const MODES = ["hint", "stroke", "boundary"]; // what a click or drag on the photo does
const SUGGESTION_COUNT = 6;
const SVG_NS = "http://www.w3.org/2000/svg";

const $ = (id) => document.getElementById(id);

const page = {
  image: null, // {id, filename, width, height, preview_width, preview_height}
  file: null, // the File the photo was opened from (uploaded again if the server drops it)
  reuploading: null, // Promise of the running upload-again, shared by the requests that need it
  hints: [], // [{id, x, y, color: "#rrggbb", radius, lab?}]
  strokes: [], // [{id, points: [[x, y], ...], color: "#rrggbb", width, lab?}]
  boundaries: [], // [{id, points: [[x, y], ...], width}]
  // lab: the Lab colour an opened hints file gave (see readColour); color is then its display.
  selected: null, // id of the selected hint
  mode: "hint", // one of MODES
  // A new stroke's colour and width (image pixels). The colour is the one chosen last, in the
  // stroke colour input or for a hint, so a colour picked from a hint's swatches can be painted.
  brush: { color: "#c0392b", width: 8 },
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

// A request about the open photo; when the server has dropped it (expired, or evicted by other
// users' uploads: 404), the photo is uploaded again, once, and the request repeated.
async function postToImage(action, body, signal) {
  const id = page.image.id;
  const response = await postJson(`/api/images/${id}/${action}`, body, signal);
  if (response.status !== 404 || !page.file || !(await uploadAgain(id))) return response;
  return postJson(`/api/images/${page.image.id}/${action}`, body, signal);
}

function uploadAgain(lostId) {
  if (page.image.id !== lostId) return Promise.resolve(true); // another request did it
  if (!page.reuploading) {
    const form = new FormData();
    form.append("image", page.file, page.file.name);
    page.reuploading = fetch("/api/images", { method: "POST", body: form })
      .then(async (response) => {
        if (!response.ok) return false;
        page.image.id = (await response.json()).id;
        return true;
      })
      .catch(() => false)
      .finally(() => {
        page.reuploading = null;
      });
  }
  return page.reuploading;
}

function round1(value) {
  return Math.round(value * 10) / 10;
}

function hexColour(bytes) {
  // "#rrggbb" of three 0..255 integers
  return "#" + bytes.map((v) => v.toString(16).padStart(2, "0")).join("");
}

function roundLine(points) {
  return points.map(([x, y]) => [round1(x), round1(y)]);
}

function plural(count, word, words = `${word}s`) {
  return `${count} ${count === 1 ? word : words}`;
}

function hintsSummary() {
  const parts = [
    [page.hints.length, "hint"],
    [page.strokes.length, "stroke"],
    [page.boundaries.length, "boundary", "boundaries"],
  ].filter(([count]) => count > 0);
  return parts.map((part) => plural(...part)).join(", ");
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
      .map((h) => ({ x: round1(h.x), y: round1(h.y), color: h.lab || h.color, radius: h.radius })),
    strokes: page.strokes.map((s) => ({
      points: roundLine(s.points),
      color: s.lab || s.color,
      width: s.width,
    })),
    boundaries: page.boundaries.map((b) => ({ points: roundLine(b.points), width: b.width })),
  };
}

// ---- reading a hints file (docs/hints.md; the server's reader is tinct.guidance.hints_parsing)

// The page checks the format, naming the bad entry, so that a broken file leaves the current
// hints as they are; whether the hints fit the photo is the server's to say (its 4xx message).
const DEFAULT_POINT_RADIUS = 2; // image pixels, as the format defines them
const DEFAULT_STROKE_WIDTH = 4;
const MAX_COORDINATE = 1e6;
const MAX_SIZE = 4096;
const AB_LIMIT = 128;
const HEX_COLOUR = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i;

class HintsFileError extends Error {}

function fail(where, problem) {
  throw new HintsFileError(where ? `${where}: ${problem}` : problem);
}

function kindOf(value) {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  const kinds = { object: "an object", string: "a string", boolean: "a boolean" };
  return kinds[typeof value] || "a number";
}

function checkObject(value, where, keys) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(where, `expected a JSON object, got ${kindOf(value)}`);
  }
  const unknown = Object.keys(value).find((key) => !keys.includes(key));
  if (unknown !== undefined) fail(where, `unknown key "${unknown}" (expected ${keys.join(", ")})`);
  return value;
}

function checkList(value, where, minimum = 0) {
  if (value === undefined && minimum === 0) return []; // every list is optional
  if (!Array.isArray(value)) fail(where, `expected a list, got ${kindOf(value)}`);
  if (value.length < minimum) fail(where, `needs at least ${plural(minimum, "point")} [x, y]`);
  return value;
}

function checkNumber(value, where, low = -MAX_COORDINATE, high = MAX_COORDINATE) {
  if (typeof value !== "number") fail(where, `expected a number, got ${kindOf(value)}`);
  if (!(value >= low && value <= high)) fail(where, `${value} is out of range [${low}, ${high}]`);
  return value;
}

function checkSize(item, key, fallback, where, zeroAllowed = false) {
  if (!(key in item)) return fallback;
  const size = checkNumber(item[key], `${where}.${key}`, 0, MAX_SIZE);
  if (size === 0 && !zeroAllowed) fail(`${where}.${key}`, "must be > 0 pixels");
  return size;
}

function required(item, key, where) {
  if (!(key in item)) fail(where, `missing "${key}"`);
  return item[key];
}

function checkLine(item, where, minimum) {
  const points = checkList(required(item, "points", where), `${where}.points`, minimum);
  return points.map((pair, i) => {
    const at = `${where}.points[${i}]`;
    if (!Array.isArray(pair) || pair.length !== 2) {
      fail(at, `expected a point [x, y], got ${kindOf(pair)}`);
    }
    return [checkNumber(pair[0], at), checkNumber(pair[1], at)];
  });
}

function readColour(value, where) {
  // {color: "#rrggbb"} for hex; Lab gives {color: nearest sRGB hex, lab: the Lab object}. The page
  // shows the hex and sends the Lab back as given (to the server and in a downloaded file) until
  // a new colour is chosen: Lab chroma outside sRGB would be lost in a round trip through hex.
  if (typeof value === "string") {
    const match = HEX_COLOUR.exec(value.trim());
    if (!match) fail(where, `"${value}" is not a colour (use "#rrggbb" or Lab {a, b})`);
    const digits = match[1].length === 3 ? match[1].replace(/./g, "$&$&") : match[1];
    return { color: `#${digits.toLowerCase()}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail(where, `expected a colour ("#rrggbb" or a Lab object), got ${kindOf(value)}`);
  }
  const lab = checkObject(value, where, ["L", "a", "b"]);
  const lightness = "L" in lab ? checkNumber(lab.L, `${where}.L`, 0, 100) : undefined;
  const a = checkNumber(required(lab, "a", where), `${where}.a`, -AB_LIMIT, AB_LIMIT);
  const b = checkNumber(required(lab, "b", where), `${where}.b`, -AB_LIMIT, AB_LIMIT);
  return { color: labToHex(lightness, a, b), lab: { ...lab } };
}

function readPoint(data, where) {
  const item = checkObject(data, where, ["x", "y", "color", "radius"]);
  return {
    id: page.nextId++,
    x: checkNumber(required(item, "x", where), `${where}.x`),
    y: checkNumber(required(item, "y", where), `${where}.y`),
    ...readColour(required(item, "color", where), `${where}.color`),
    radius: checkSize(item, "radius", DEFAULT_POINT_RADIUS, where, true),
  };
}

function readStroke(data, where) {
  const item = checkObject(data, where, ["points", "color", "width"]);
  return {
    id: page.nextId++,
    points: checkLine(item, where, 1),
    ...readColour(required(item, "color", where), `${where}.color`),
    width: checkSize(item, "width", DEFAULT_STROKE_WIDTH, where),
  };
}

function readBoundary(data, where) {
  const item = checkObject(data, where, ["points", "width"]);
  return {
    id: page.nextId++,
    points: checkLine(item, where, 2),
    width: checkSize(item, "width", BOUNDARY_WIDTH, where),
  };
}

function readHintsDocument(data) {
  // {hints, strokes, boundaries} in the page's form; HintsFileError names a bad entry.
  if (data && typeof data === "object" && "frames" in data) {
    fail("", "this is a video's hints file (frames); the page takes the hints of one photo");
  }
  const document = checkObject(data, "", ["version", "points", "strokes", "boundaries"]);
  if ("version" in document && document.version !== 1) {
    const version = JSON.stringify(document.version);
    fail("version", `version ${version} is not supported (the page reads version 1)`);
  }
  const read = (key, reader) =>
    checkList(document[key], key).map((item, i) => reader(item, `${key}[${i}]`));
  return {
    hints: read("points", readPoint),
    strokes: read("strokes", readStroke),
    boundaries: read("boundaries", readBoundary),
  };
}

async function openHints(file) {
  if (!file || !page.image) return;
  let loaded;
  try {
    loaded = readHintsDocument(JSON.parse(await file.text()));
  } catch (error) {
    const problem = error instanceof SyntaxError ? `not JSON (${error.message})` : error.message;
    setStatus(`Cannot open hints from ${file.name}: ${problem}. The hints are unchanged.`, true);
    return;
  }
  Object.assign(page, loaded, { selected: null });
  renderAll();
  changed(0);
  setStatus(`Opened ${file.name}: ${hintsSummary() || "no hints"}. Updating…`);
}

// ---- Lab -> sRGB (D65), the inverse of tinct.color.lab.rgb_to_lab --------------------------

const LINEAR_RGB_FROM_XYZ = [
  [3.24048134, -1.53715152, -0.49853633],
  [-0.96925495, 1.87599, 0.04155593],
  [0.05564664, -0.20404134, 1.05731107],
];
const D65_WHITE_XYZ = [0.95047, 1.0, 1.08883];
const LAB_SHOWN_LIGHTNESS = 50; // a Lab colour without L (only a, b are used) is shown at L 50
const GAMUT_TOLERANCE = 1e-4;

function labToLinearRgb(lightness, a, b) {
  const fy = (lightness + 16) / 116;
  const f = [fy + a / 500, fy, fy - b / 200];
  const xyz = f.map((t, i) => D65_WHITE_XYZ[i] * (t > 6 / 29 ? t ** 3 : (t - 16 / 116) / 7.787));
  return LINEAR_RGB_FROM_XYZ.map((row) => row.reduce((sum, m, i) => sum + m * xyz[i], 0));
}

function inGamut(rgb) {
  return rgb.every((v) => v >= -GAMUT_TOLERANCE && v <= 1 + GAMUT_TOLERANCE);
}

function labToHex(lightness = LAB_SHOWN_LIGHTNESS, a, b) {
  // The nearest sRGB colour of the same lightness and hue: chroma is reduced (bisection) until
  // the colour fits in sRGB.
  let fits = inGamut(labToLinearRgb(lightness, a, b)) ? 1 : 0;
  for (let step = 0, high = 1; fits < 1 && step < 30; step += 1) {
    const middle = (fits + high) / 2;
    if (inGamut(labToLinearRgb(lightness, a * middle, b * middle))) fits = middle;
    else high = middle;
  }
  const linear = labToLinearRgb(lightness, a * fits, b * fits).map((v) => Math.max(v, 0));
  const srgb = linear.map((v) => (v > 0.0031308 ? 1.055 * v ** (1 / 2.4) - 0.055 : 12.92 * v));
  return hexColour(srgb.map((v) => Math.round(Math.min(v, 1) * 255)));
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
  page.file = file; // kept to upload again if the server drops it
  clearHints();
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
  try {
    const response = await postToImage("preview", { hints: hintsDocument() }, controller.signal);
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
    const summary = hintsSummary();
    setStatus(summary ? `Updated with ${summary}.` : "Automatic result.");
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
  return hexColour([r, g, b]);
}

let drag = null; // {kind: "move", id, moved} | {kind: "stroke" | "boundary", line, last: [sx, sy]}

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
  } else if (page.mode === "hint") {
    addHint(x, y);
  } else {
    drag = { kind: page.mode, line: startLine(x, y), last: [event.clientX, event.clientY] };
  }
  renderAll();
}

function startLine(x, y) {
  // A stroke or boundary begins at (x, y); the drag adds its further points.
  const id = page.nextId++;
  if (page.mode === "boundary") {
    const boundary = { id, points: [[x, y]], width: BOUNDARY_WIDTH };
    page.boundaries.push(boundary);
    return boundary;
  }
  const stroke = { id, points: [[x, y]], color: page.brush.color, width: page.brush.width };
  page.strokes.push(stroke);
  return stroke;
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
    if (Math.hypot(event.clientX - lx, event.clientY - ly) < MIN_LINE_STEP) return;
    drag.line.points.push([x, y]);
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
  } else if (finished.kind === "boundary" && finished.line.points.length < 2) {
    page.boundaries = page.boundaries.filter((b) => b !== finished.line); // a click draws none
    renderAll();
  } else if (finished.kind !== "move") {
    changed(); // a stroke of one point is a dot
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

function deleteLine(list, line) {
  page[list] = page[list].filter((other) => other !== line);
  renderAll();
  changed();
}

function clearHints() {
  page.hints = [];
  page.strokes = [];
  page.boundaries = [];
  page.selected = null;
}

function setBrushColour(colour) {
  page.brush.color = colour.toLowerCase();
  $("stroke-colour").value = page.brush.color;
}

function setHintColour(colour) {
  const hint = selectedHint();
  if (!hint) return;
  hint.color = colour.toLowerCase();
  delete hint.lab; // the chosen colour replaces the file's Lab colour
  $("colour-picker").value = hint.color;
  setBrushColour(hint.color);
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
    const response = await postToImage("suggest", body, controller.signal);
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
  for (const stroke of page.strokes) overlay.append(strokeElement(stroke));
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

function strokeElement(stroke) {
  // Drawn at its width in image pixels (the overlay's units); one point is a dot.
  if (stroke.points.length === 1) {
    const [[cx, cy]] = stroke.points;
    const r = stroke.width / 2;
    return svgElement("circle", { cx, cy, r, fill: stroke.color, class: "stroke" });
  }
  const points = stroke.points.map(([x, y]) => `${x},${y}`).join(" ");
  const attributes = { points, stroke: stroke.color, "stroke-width": stroke.width };
  return svgElement("polyline", { ...attributes, fill: "none", class: "stroke" });
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
  const strokes = page.strokes.map((s, i) => {
    const label = `stroke ${i + 1} (${plural(s.points.length, "point")}, ${s.width} px)`;
    return listItem(label, s.color, null, () => deleteLine("strokes", s));
  });
  $("stroke-list").replaceChildren(...strokes);
  const boundaries = page.boundaries.map((b, i) =>
    listItem(`boundary ${i + 1} (${plural(b.points.length, "point")})`, null, null, () =>
      deleteLine("boundaries", b),
    ),
  );
  $("boundary-list").replaceChildren(...boundaries);
}

// ---- toolbar -------------------------------------------------------------------------------

function setMode(mode) {
  page.mode = mode;
  for (const name of MODES) $(`mode-${name}`).setAttribute("aria-pressed", String(mode === name));
  $("stage").classList.toggle("drawing", mode !== "hint");
  $("stroke-options").hidden = mode !== "stroke";
}

function setBrushWidth(input) {
  const width = Number(input.value);
  if (input.value !== "" && Number.isFinite(width) && width > 0) page.brush.width = width;
}

async function downloadResult() {
  if (!page.image) return;
  setStatus("Colorizing at full resolution…");
  const response = await postToImage("colorize", { hints: hintsDocument() });
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
    const file = event.dataTransfer.files[0];
    if (file && page.image && /\.json$/i.test(file.name)) openHints(file);
    else openFile(file);
  });
  $("hints-input").addEventListener("change", (event) => {
    openHints(event.target.files[0]);
    event.target.value = ""; // the same file can be opened again
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
    clearHints();
    renderAll();
    changed();
  });
  for (const mode of MODES) $(`mode-${mode}`).addEventListener("click", () => setMode(mode));
  $("stroke-colour").value = page.brush.color;
  $("stroke-width").value = String(page.brush.width);
  $("stroke-colour").addEventListener("input", (event) => setBrushColour(event.target.value));
  $("stroke-width").addEventListener("input", (event) => setBrushWidth(event.target));
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
