// A photo with its face boxes, zoomed and panned by wheel, pinch, double tap or double click,
// drag and keys. The boxes carry no text: the one name shown is that of the face under the
// pointer, tapped, or focused in the strip below, so names never collide, even in a crowd.
// While a face is being marked by hand (mark()), one pointer draws a box instead of panning;
// two still pinch, so a small face can be zoomed to first. Without a pointer, an arrow key puts
// a box in the middle of what is seen: arrows move it, Shift+arrows size it, Enter marks it.
import { el } from "./dom.js";

const MAX_ZOOM = 8;
const DOUBLE_TAP_MS = 300;

/**
 * faces: [{id, bbox: [x1, y1, x2, y2] in the photo's pixels, text, known}]
 * onPick(id): the user chose a face (a click, or a second tap on the face shown)
 * onActive(id | null): the face shown changed (to highlight it elsewhere)
 * onSwipe(+1 | -1): a horizontal swipe at fit size (next, previous)
 */
export function photoStage({ src, width, height, alt, faces, onPick = () => {}, onActive = () => {}, onSwipe = () => {} }) {
  const img = el("img", { src, alt, draggable: "false" });
  const canvas = el("div", { class: "canvas" }, img);
  const tag = el("div", { class: "tag", id: "box-label", hidden: true, "aria-hidden": "true" });
  const stage = el("div", { class: "stage", id: "viewer" }, canvas, tag);
  stage.style.setProperty("--ratio", String(width / height));
  const boxes = new Map();
  for (const f of faces) {
    const [x1, y1, x2, y2] = f.bbox;
    const node = el("div", { class: "box" + (f.known ? "" : " unknown"), "data-face": f.id,
      style: `left:${(100 * x1) / width}%;top:${(100 * y1) / height}%;width:${(100 * (x2 - x1)) / width}%;height:${(100 * (y2 - y1)) / height}%` });
    boxes.set(f.id, { node, face: f });
    canvas.append(node);
  }

  // -- the one label ------------------------------------------------------------------------
  let active = null;
  let activeSince = 0;
  function placeTag() {
    if (active === null) return;
    const s = stage.getBoundingClientRect(), r = boxes.get(active).node.getBoundingClientRect();
    const w = tag.offsetWidth, h = tag.offsetHeight;
    const left = Math.max(0, Math.min(s.width - w, r.left - s.left + r.width / 2 - w / 2));
    let top = r.bottom - s.top + 4;
    if (top + h > s.height) top = Math.max(0, r.top - s.top - h - 4);
    tag.style.left = `${left}px`;
    tag.style.top = `${top}px`;
  }
  function activate(id) {
    if (id === active) return;
    if (active !== null) boxes.get(active).node.classList.remove("active");
    active = boxes.has(id) ? id : null;
    activeSince = performance.now();
    tag.hidden = active === null;
    if (active !== null) {
      boxes.get(active).node.classList.add("active");
      tag.textContent = boxes.get(active).face.text;
      placeTag();
    }
    onActive(active);
  }

  // -- zoom and pan: translate, then scale, from the top left corner ---------------------------
  let z = 1, tx = 0, ty = 0;

  // -- a face marked by hand: a box dragged from corner to corner, in the photo's pixels --------
  let marking = null;  // onBox([x1, y1, x2, y2]) while the user marks a face
  let sketch = null;  // the box being drawn: {node, from: [x, y], to: [x, y]} in the photo's pixels
  const onPhoto = ([x, y]) => {  // a stage point in the photo's pixels (the stage has the photo's ratio)
    const f = width / stage.clientWidth;
    return [Math.min(width, Math.max(0, ((x - tx) / z) * f)), Math.min(height, Math.max(0, ((y - ty) / z) * f))];
  };
  const sketched = () => {
    const [a, b] = [sketch.from, sketch.to];
    return [Math.min(a[0], b[0]), Math.min(a[1], b[1]), Math.max(a[0], b[0]), Math.max(a[1], b[1])];
  };
  function drawSketch() {
    const [x1, y1, x2, y2] = sketched();
    Object.assign(sketch.node.style, { left: `${(100 * x1) / width}%`, top: `${(100 * y1) / height}%`,
      width: `${(100 * (x2 - x1)) / width}%`, height: `${(100 * (y2 - y1)) / height}%` });
  }
  function clearSketch() {
    if (sketch) sketch.node.remove();
    sketch = null;
  }
  function mark(onBox) {
    marking = onBox;
    stage.classList.toggle("marking", Boolean(onBox));
    if (!onBox) clearSketch();
  }
  const clamp = (v, lo, hi) => Math.min(hi, Math.max(lo, v));
  const MIN_SIDE = 8;  // photo pixels: the smallest box the keys make
  /** The marking keys (see the top): true when used. */
  function markKey(e) {
    if (!e.key.startsWith("Arrow")) {
      if (e.key !== "Enter" || !sketch) return false;
      marking(sketched().map((v) => Math.round(v * 10) / 10));
      return true;
    }
    if (!sketch) {  // a quarter of the width seen, at its centre
      const [cx, cy] = onPhoto(centre());
      const half = Math.max(MIN_SIDE, Math.min(width, height) / (8 * z));
      sketch = { node: el("div", { class: "box sketch", id: "sketch" }), from: [cx - half, cy - half], to: [cx + half, cy + half] };
      sketch.from = [clamp(sketch.from[0], 0, width - 2 * half), clamp(sketch.from[1], 0, height - 2 * half)];
      sketch.to = [sketch.from[0] + 2 * half, sketch.from[1] + 2 * half];
      canvas.append(sketch.node);
      drawSketch();
      return true;
    }
    const [x1, y1, x2, y2] = sketched();
    const d = Math.max(1, Math.min(x2 - x1, y2 - y1) / 10);
    const dx = { ArrowLeft: -d, ArrowRight: d }[e.key] || 0, dy = { ArrowUp: -d, ArrowDown: d }[e.key] || 0;
    if (e.shiftKey) {  // the bottom right corner moves: right and down grow the box, left and up shrink it
      sketch.from = [x1, y1];
      sketch.to = [clamp(x2 + dx, x1 + MIN_SIDE, width), clamp(y2 + dy, y1 + MIN_SIDE, height)];
    } else {
      const mx = clamp(dx, -x1, width - x2), my = clamp(dy, -y1, height - y2);
      sketch.from = [x1 + mx, y1 + my];
      sketch.to = [x2 + mx, y2 + my];
    }
    drawSketch();
    return true;
  }
  function apply() {
    const W = stage.clientWidth, H = stage.clientHeight;
    z = Math.min(MAX_ZOOM, Math.max(1, z));
    tx = Math.min(0, Math.max(W - W * z, tx));
    ty = Math.min(0, Math.max(H - H * z, ty));
    canvas.style.transform = `translate(${tx}px, ${ty}px) scale(${z})`;
    canvas.style.setProperty("--z", String(z));
    stage.classList.toggle("zoomed", z > 1);
    placeTag();
  }
  /** Zoom to ``nz`` keeping the stage point (px, py) where it is. */
  function zoomTo(nz, px, py) {
    nz = Math.min(MAX_ZOOM, Math.max(1, nz));
    tx = px - ((px - tx) * nz) / z;
    ty = py - ((py - ty) * nz) / z;
    z = nz;
    apply();
  }
  const centre = () => [stage.clientWidth / 2, stage.clientHeight / 2];
  const fit = () => { z = 1; tx = 0; ty = 0; apply(); };
  const local = (e) => { const s = stage.getBoundingClientRect(); return [e.clientX - s.left, e.clientY - s.top]; };
  function toggleZoom(px, py, target) {
    if (z > 1) return fit();
    const box = target && target.closest(".box");
    // a face tapped in a crowd comes out at least 88 px wide
    const wide = box ? box.getBoundingClientRect().width : 0;
    zoomTo(Math.max(2.5, wide ? 88 / wide : 0), px, py);
  }

  stage.addEventListener("wheel", (e) => {
    if (z <= 1 && e.deltaY > 0) return;  // at fit size, scrolling down scrolls the page
    e.preventDefault();
    const [px, py] = local(e);
    zoomTo(z * Math.exp(-e.deltaY * (e.deltaMode ? 0.05 : 0.002)), px, py);
  }, { passive: false });
  let lastPointer = "mouse";
  stage.addEventListener("dblclick", (e) => {
    if (lastPointer !== "mouse") return;  // a double tap is the pointers' (below), not a second zoom
    const [px, py] = local(e);
    toggleZoom(px, py, e.target);
  });

  const gone = new AbortController();  // the window's listeners go with the stage (close())
  const on = { signal: gone.signal };
  // Pointers: one drags (when zoomed) or swipes (at fit size), two pinch; a still one taps.
  const pointers = new Map();
  let start = null;  // the gesture's start: pointers, zoom and translation
  let moved = false;
  let lastTap = { t: 0, x: 0, y: 0 };
  const begin = () => {
    const pts = [...pointers.values()];
    const mid = pts.length === 2 ? [(pts[0].x + pts[1].x) / 2, (pts[0].y + pts[1].y) / 2] : [pts[0].x, pts[0].y];
    const dist = pts.length === 2 ? Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y) : 0;
    start = { mid, dist, z, tx, ty, t: performance.now(), n: pts.length };
  };
  stage.addEventListener("pointerdown", (e) => {
    if (e.pointerType === "mouse" && e.button !== 0) return;
    lastPointer = e.pointerType;
    const [x, y] = local(e);
    pointers.set(e.pointerId, { x, y });
    if (pointers.size === 1) moved = false;
    clearSketch();  // a second finger pinches; a new drag draws anew
    if (marking && pointers.size === 1) {
      e.preventDefault();  // no text selection, no image drag
      sketch = { node: el("div", { class: "box sketch", id: "sketch" }), from: onPhoto([x, y]), to: onPhoto([x, y]) };
      canvas.append(sketch.node);
      drawSketch();
    }
    begin();
  });
  window.addEventListener("pointermove", (e) => {
    if (!pointers.has(e.pointerId)) return;
    const [x, y] = local(e);
    pointers.set(e.pointerId, { x, y });
    const pts = [...pointers.values()];
    if (pts.length === 2 && start.n === 2) {
      const mid = [(pts[0].x + pts[1].x) / 2, (pts[0].y + pts[1].y) / 2];
      const nz = Math.min(MAX_ZOOM, Math.max(1, (start.z * Math.hypot(pts[0].x - pts[1].x, pts[0].y - pts[1].y)) / (start.dist || 1)));
      // the photo point under the fingers' first midpoint stays under their midpoint now
      tx = mid[0] - ((start.mid[0] - start.tx) * nz) / start.z;
      ty = mid[1] - ((start.mid[1] - start.ty) * nz) / start.z;
      z = nz;
      moved = true;
      apply();
    } else if (pts.length === 1 && sketch) {
      sketch.to = onPhoto([x, y]);
      drawSketch();
    } else if (pts.length === 1) {
      const dx = x - start.mid[0], dy = y - start.mid[1];
      if (Math.hypot(dx, dy) > 6) moved = true;
      if (z > 1 && moved) {
        tx = start.tx + dx;
        ty = start.ty + dy;
        apply();
      }
    }
  }, on);
  const end = (e) => {
    if (!pointers.has(e.pointerId)) return;
    const [x, y] = local(e);
    const was = pointers.size;
    pointers.delete(e.pointerId);
    if (e.type === "pointercancel") { clearSketch(); if (pointers.size) begin(); return; }
    if (sketch && marking) {
      sketch.to = onPhoto([x, y]);
      drawSketch();
      const box = sketched();
      // a tap, or a box too small to hold a face on the screen, marks nothing
      if (Math.min(box[2] - box[0], box[3] - box[1]) * (stage.clientWidth / width) * z < 12) clearSketch();
      else marking(box.map((v) => Math.round(v * 10) / 10));
      return;
    }
    if (was === 2 || start.n === 2) { if (pointers.size) begin(); return; }
    const dx = x - start.mid[0], dy = y - start.mid[1];
    if (moved) {
      if (z <= 1 && e.pointerType !== "mouse" && Math.abs(dx) > 50 && Math.abs(dy) < 0.6 * Math.abs(dx)) onSwipe(dx < 0 ? 1 : -1);
      return;
    }
    tap(e, x, y);
  };
  window.addEventListener("pointerup", end, on);
  window.addEventListener("pointercancel", end, on);

  function tap(e, x, y) {
    const box = e.target.closest && e.target.closest(".box");
    const id = box ? Number(box.dataset.face) : null;
    if (e.pointerType === "mouse") {  // double clicks zoom (dblclick); a click chooses
      if (id !== null) onPick(id);
      else activate(null);
      return;
    }
    const now = performance.now();
    if (now - lastTap.t < DOUBLE_TAP_MS && Math.hypot(x - lastTap.x, y - lastTap.y) < 30) {
      lastTap = { t: 0, x: 0, y: 0 };
      toggleZoom(x, y, e.target);
      return;
    }
    lastTap = { t: now, x, y };
    // a tap shows the face's name; a later tap on the face shown chooses it
    if (id !== null && id === active && now - activeSince > DOUBLE_TAP_MS) onPick(id);
    else activate(id);
  }
  stage.addEventListener("pointerover", (e) => {
    const box = e.pointerType === "mouse" && e.target.closest(".box");
    if (box) activate(Number(box.dataset.face));
  });

  /** The viewer's keys: + and - zoom, 0 fits, arrows move a zoomed photo (while marking, the
   * box: markKey). True when used. */
  function key(e) {
    if (marking && markKey(e)) return true;
    const [cx, cy] = centre();
    const step = 0.15;
    if (e.key === "+" || e.key === "=") zoomTo(z * 1.5, cx, cy);
    else if (e.key === "-" || e.key === "_") zoomTo(z / 1.5, cx, cy);
    else if (e.key === "0") fit();
    else if (z > 1 && e.key.startsWith("Arrow")) {
      const [W, H] = [stage.clientWidth, stage.clientHeight];
      if (e.key === "ArrowLeft") tx += W * step;
      if (e.key === "ArrowRight") tx -= W * step;
      if (e.key === "ArrowUp") ty += H * step;
      if (e.key === "ArrowDown") ty -= H * step;
      apply();
    } else return false;
    return true;
  }

  let lastWidth = 0;
  const resized = new ResizeObserver(() => {
    if (stage.clientWidth !== lastWidth) { lastWidth = stage.clientWidth; fit(); }
  });
  resized.observe(stage);

  return {
    node: stage, activate, key, fit, mark, clearSketch,
    close: () => { gone.abort(); resized.disconnect(); },
    zoomIn: () => zoomTo(z * 1.5, ...centre()),
    zoomOut: () => zoomTo(z / 1.5, ...centre()),
    get zoom() { return z; },
  };
}
