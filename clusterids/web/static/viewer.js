// The photo viewer: the photo (zoom and pan), previous and next through the list it was opened
// from (arrow keys, swipe, links), and a strip of its faces, each a target of 44 px at least:
// tap to name, open the person, ignore (a stranger in the background) or take back; in a crowd,
// ignore all its small unknown faces at once; and mark by hand a face the detector missed.
import * as api from "./api.js";
import { dayText } from "./dates.js";
import { askAssign, askMarked } from "./dialogs.js";
import { act, el, faceImg, say, view } from "./dom.js";
import { notOurs, typing } from "./keys.js";
import { around } from "./lists.js";
import { photoStage } from "./stage.js";
import { loadPersons, onLeave, redraw } from "./state.js";
import { count, label } from "./words.js";

const who = (f) => (f.person ? label({ id: f.person, name: f.name, label: f.label })
  : f.ignored === "not_a_face" ? "not a face" : f.ignored ? "ignored" : "unknown");

// The small faces of a photo, ignored at once: the unknown ones (never a person's) whose box's
// side is under half the photo's largest face (the background behind the subject), and in a
// crowd (this many faces or more, all of a size) those under the median side too (the smaller
// half: the people in front stay). A photo of one face has none.
export const CROWD = 6;
export function smallFaces(faces) {
  const side = (f) => Math.min(f.bbox[2] - f.bbox[0], f.bbox[3] - f.bbox[1]);
  const sides = faces.map(side).sort((a, b) => a - b);
  if (sides.length < 2) return [];
  const median = sides[Math.floor(sides.length / 2)];
  const bound = Math.max(sides[sides.length - 1] / 2, faces.length >= CROWD ? median : 0);
  return faces.filter((f) => !f.person && !f.ignored && side(f) < bound);
}

function stripItem(f, stage, name) {
  const text = who(f);
  const crop = el("button", { type: "button", class: "crop", "aria-label": `Name this face (${text})`,
    onclick: () => act(() => name(f)) }, faceImg(f.id, "", 64));
  const caption = f.person
    ? el("a", { href: `#/person/${f.person}`, class: "who", text })
    : el("span", { class: "who unknown", text });
  // a stranger in the background is ignored from here; an ignored face is taken back from here too
  const ignore = f.person ? null : el("button", { type: "button", class: "small ignore",
    text: f.ignored ? "Take back" : "Ignore", "aria-label": `${f.ignored ? "Take back" : "Ignore"} face ${f.id}`,
    onclick: () => act(async () => {
      await (f.ignored ? api.unignore([f.id]) : api.ignore([f.id]));
      say(`Face ${f.id} is ${f.ignored ? "an unknown face again" : "ignored"}. Undo reverts it.`);
      await redraw();
    }) });
  const li = el("li", { class: "strip-face", "data-face": f.id }, crop, caption, ignore);
  li.addEventListener("focusin", () => stage.activate(f.id));
  li.addEventListener("pointerenter", () => stage.activate(f.id));
  return li;
}

export async function photoView(id, alive, params) {
  const from = params.get("from");
  // Esc closes the viewer while the photo is still read too (the step before is still shown, its
  // keys gone with it): the photo read late is never drawn then (alive() is false)
  const early = (e) => {
    if (e.key !== "Escape" || notOurs(e) || typing(e) || document.querySelector("header.open")) return;
    e.preventDefault();
    document.removeEventListener("keydown", early);  // once: a second Escape would go back again
    closeViewer(from);
  };
  document.addEventListener("keydown", early);
  onLeave(() => document.removeEventListener("keydown", early));
  const [data, place] = await Promise.all([api.photo(id), around(from, Number(id)), loadPersons()]);
  const go = (step) => {
    const target = step > 0 ? place.next : place.prev;
    if (target === null) return;
    // replaced, with the view it was opened from (main.js arrive): Back and Close leave the viewer for it
    history.replaceState({ opener: history.state ? history.state.opener ?? null : null }, "", `#/photo/${target}?from=${from}`);
    redraw(false);
  };
  const name = async (f) => { if (await askAssign([f.id], f.person)) await redraw(); };
  const byId = new Map(data.faces.map((f) => [f.id, f]));
  const strip = el("ul", { class: "strip", id: "strip", "aria-label": "Faces" });
  const stage = photoStage({
    src: api.photoUrl(data.id, true), width: data.width, height: data.height,
    alt: `${data.name}, ${count(data.faces.length, "face")}`,
    faces: data.faces.map((f) => ({ id: f.id, bbox: f.bbox, text: who(f), known: Boolean(f.person || f.ignored) })),
    onPick: (fid) => act(() => name(byId.get(fid))),
    onActive: (fid) => strip.querySelectorAll(".strip-face").forEach((li) => li.classList.toggle("active", Number(li.dataset.face) === fid)),
    onSwipe: go,
  });
  strip.append(...data.faces.map((f) => stripItem(f, stage, name)));
  const marker = markControl(data, stage);

  const step = (target, rel, text, labelText) => target === null ? null
    : el("a", { class: "button", href: `#/photo/${target}?from=${from}`, rel, id: `photo-${rel}`, "aria-label": labelText, text,
      onclick: (e) => { e.preventDefault(); go(rel === "next" ? 1 : -1); } });
  const closer = el("button", { type: "button", id: "photo-close", title: "Close the photo (Esc)", text: "Close",
    onclick: () => closeViewer(from) });
  const bar = el("div", { class: "viewer-bar" }, closer,
    step(place.prev, "prev", "←", "Previous photo"),
    place.index >= 0 ? el("span", { class: "meta", id: "photo-place", text: `${place.index + 1} of ${place.total}` }) : null,
    step(place.next, "next", "→", "Next photo"),
    el("span", { class: "zoom" },
      el("button", { type: "button", id: "zoom-out", "aria-label": "Zoom out", text: "−", onclick: () => stage.zoomOut() }),
      el("button", { type: "button", id: "zoom-fit", text: "Fit", onclick: () => stage.fit() }),
      el("button", { type: "button", id: "zoom-in", "aria-label": "Zoom in", text: "+", onclick: () => stage.zoomIn() })),
    marker.toggle);

  const onKey = (e) => {
    if (notOurs(e)) return;
    if (e.key === "Escape" && marker.on()) { e.preventDefault(); marker.stop(); return; }
    if (typing(e)) return;
    if (e.key === "Escape" && !document.querySelector("header.open")) { e.preventDefault(); closeViewer(from); return; }
    if (stage.key(e)) e.preventDefault();
    else if (e.key === "ArrowRight" || e.key === "ArrowLeft") { e.preventDefault(); go(e.key === "ArrowRight" ? 1 : -1); }
  };
  if (!alive()) return stage.close();
  document.removeEventListener("keydown", early);
  document.addEventListener("keydown", onKey);
  onLeave(() => { document.removeEventListener("keydown", onKey); stage.close(); });
  for (const n of [place.prev, place.next]) if (n !== null) new Image().src = api.photoUrl(n, true);  // the next step is instant

  const small = smallFaces(data.faces);
  const crowd = small.length ? el("p", { class: "crowd" },
    el("button", { type: "button", id: "ignore-small", text: `Ignore the ${count(small.length, "small face")}`,
      onclick: () => act(async () => {
        const r = await api.ignore(small.map((f) => f.id));  // one correction: one undo brings them all back
        say(`${count(r.faces.length, "small face")} of this photo ignored. Undo brings them back.`);
        await redraw();
      }) }),
    el("span", { class: "meta", text: data.faces.length >= CROWD ? " the unknown faces of the smaller half of this crowd"
      : " the unknown faces in the background, under half the size of the largest" })) : null;

  const when = dayText(data.taken, data.taken_estimated);
  document.title = `${data.name} · ClusterIdentities`;
  view.replaceChildren(el("h1", { text: data.name }),
    el("p", { class: "meta", id: "photo-meta", text: `${when ? when + " · " : ""}${count(data.faces.length, "face")}` }),
    bar, marker.hint, el("div", { class: "viewer-body" }, stage.node, el("section", { class: "faces-panel", "aria-labelledby": "strip-title" },
      el("h2", { id: "strip-title", text: data.faces.length ? "Who is in this photo" : "No face was found in this photo" }),
      data.faces.length ? el("p", { class: "meta", text: "Choose a face to say who it is." }) : null,
      crowd, strip)));
}

/** Back to the view the viewer was opened from, at the place left and with the focus on what opened
 * it (main.js keeps both per visit); a viewer opened from outside the page (a link, a bookmark)
 * goes to the view its list belongs to, in the viewer's place in the history. */
function closeViewer(from) {
  if (history.state && history.state.opener) { history.back(); return; }
  const m = /^(?:person|faces)\/(\d+)$/.exec(from || "");
  // in place of the viewer's entry: Back must not bring the viewer back
  location.replace(m ? `#/person/${m[1]}` : from === "unknown" ? "#/unknown" : "#/");
}

// How much of the smaller of two boxes the other covers (core/marks.py covered): a loose box
// drawn around a face that has one already is that face.
function covered(a, b) {
  const w = Math.max(0, Math.min(a[2], b[2]) - Math.max(a[0], b[0]));
  const h = Math.max(0, Math.min(a[3], b[3]) - Math.max(a[1], b[1]));
  const smaller = Math.min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]));
  return smaller > 0 ? (w * h) / smaller : 0;
}

/** The box drawn, cut from the photo the viewer shows (its own scale: the photo may be shown
 * smaller than its pixels), as a canvas of 96 px at most: the dialog that names it shows it. */
const CROP = 96;
function drawnCrop(img, box, data) {
  if (!img || !img.complete || !img.naturalWidth) return null;
  const [x1, y1, x2, y2] = box;
  const f = img.naturalWidth / data.width;
  const w = x2 - x1, h = y2 - y1;
  const k = CROP / Math.max(w, h);
  const canvas = el("canvas", { id: "mark-crop", class: "mark-crop", role: "img", "aria-label": "the box you drew",
    width: Math.max(1, Math.round(w * k)), height: Math.max(1, Math.round(h * k)) });
  try {
    canvas.getContext("2d").drawImage(img, x1 * f, y1 * f, w * f, h * f, 0, 0, canvas.width, canvas.height);
  } catch (e) { return null; }  // a photo the canvas may not read: the dialog goes without it
  return canvas;
}

/** "Mark a missed face" (beside the zoom, above the photo): while on, a drag on the photo draws
 * the face's box (zoom first for a small one), then the face is named, or left unknown, in one
 * correction. A box over a face that has one is that face: it is chosen instead, before any name. */
function markControl(data, stage) {
  const hint = el("p", { class: "meta mark-hint", id: "mark-hint", "aria-live": "polite" });
  const toggle = el("button", { type: "button", id: "mark-face", "aria-pressed": "false",
    text: "Mark a missed face", onclick: () => (on() ? stop() : start()) });
  const on = () => toggle.getAttribute("aria-pressed") === "true";
  const stop = () => {
    stage.mark(null);
    toggle.setAttribute("aria-pressed", "false");
    hint.textContent = "";
  };
  const drawn = (box) => act(async () => {
    const there = data.faces.find((f) => covered(box, f.bbox) >= 0.5);
    if (there) {
      stage.clearSketch();
      stage.activate(there.id);
      say(`This face has a box already (${who(there)}): choose it to say who it is.`, "error");
      return;
    }
    const person = await askMarked(drawnCrop(stage.node.querySelector(".canvas img"), box, data));
    if (person === null) { stage.clearSketch(); return; }
    const r = await api.markFace(data.id, box, person || null);
    stop();
    const how = r.found ? "" : " (no eyes or mouth were found in it: check that it holds the face)";
    const twice = (r.warnings || []).length ? ` Careful: ${r.warnings[0]}.` : "";
    say(`Face ${r.face} marked${r.label ? ` as ${r.label}` : " as an unknown face"}${how}. Undo takes it away.${twice}`,
      twice ? "warn" : "");
    await redraw();
  });
  function start() {
    stage.mark(drawn);
    toggle.setAttribute("aria-pressed", "true");
    hint.textContent = matchMedia("(pointer: coarse)").matches
      ? "Drag a finger around the face, corner to corner; pinch to zoom to a small one first."
      : "Drag around the face, corner to corner, or use the keys: an arrow puts a box on the photo, arrows move it, "
        + "Shift+arrows size it, Enter marks it. Zoom to a small face first. Esc stops.";
  }
  return { toggle, hint, on, stop };
}
