// A grid of faces to sort (a person's, or the unknown ones): select by click, tap or space;
// move the selection by drag, by the "Move to" list or by name; corrections remove the faces
// in place (a person's view is then read again, its scroll kept), and the focus goes to the
// next face. Shared by the person and the unknown views.
import * as api from "./api.js";
import { assignFaces } from "./actions.js";
import { askAssign } from "./dialogs.js";
import { act, el, faceImg, say, view } from "./dom.js";
import { dragItem, dropTarget } from "./drag.js";
import { remember } from "./lists.js";
import { loadPersons, persons, redraw } from "./state.js";
import { count, label } from "./words.js";

const FACE_PAGE = 120;

// The "Move to" list's order as last drawn, and for which list: a move redraws the view, and the
// person a face went to (more photos now) must not jump under the finger that moves the next one
let targetOrder = { list: null, ids: [] };
window.addEventListener("hashchange", () => { targetOrder = { list: null, ids: [] }; });  // a new visit: sorted afresh

/** ``data``: the first page of the person's (or the unknown) faces; ``me``: the person or null;
 * ``onTotal(n)``: the count of faces changed (the unknown view's heading follows it);
 * ``opts.load(offset, limit)``: the next page as {faces, total_faces} (the unknown view's single
 * faces); ``opts.countText(n)``: the count line's words. */
export function faceGrid(data, me, onTotal = () => {}, opts = {}) {
  const unknown = me === null;
  // the viewer steps through the photos in the grid's order (the timeline's key is person/ID)
  const listKey = unknown ? "unknown" : `faces/${me.id}`;
  const selected = new Set();
  let total = data.total_faces;
  const faces = el("ul", { class: "faces", id: "faces", "aria-label": unknown ? "Unknown faces" : `Faces of ${label(me)}` });
  const countLine = el("p", { class: "meta", id: "face-count" });
  const selBar = el("div", { class: "selbar", id: "selbar", hidden: true, role: "region", "aria-label": "Selected faces" });
  const selCount = el("span", { id: "sel-count" });
  const refresh = () => {
    countLine.textContent = opts.countText ? opts.countText(total)
      : count(total, "face") + (unknown ? "" : ` in ${count(data.total_photos, "photo")}`);
    selBar.hidden = selected.size === 0;
    document.body.classList.toggle("selecting", selected.size > 0);
    selCount.textContent = `${selected.size} selected`;
    onTotal(total);
  };
  const boxOf = (fid) => faces.querySelector(`[data-face='${fid}']`);
  const toggle = (fid, on = !selected.has(fid)) => {
    const box = boxOf(fid);
    on ? selected.add(fid) : selected.delete(fid);
    box.classList.toggle("selected", on);
    box.querySelector(".pick").setAttribute("aria-pressed", String(on));
    refresh();
  };
  const removeFaces = (ids) => {
    const items = [...faces.children];
    const gone = new Set(ids.map((fid) => boxOf(fid)?.parentElement).filter(Boolean));
    const a = document.activeElement;
    const at = items.findIndex((li) => gone.has(li) && (li.contains(a) || selBar.contains(a)));
    for (const fid of ids) {
      const box = boxOf(fid);
      if (box) box.parentElement.remove();
      selected.delete(fid);
      total -= 1;
    }
    refresh();
    // the focus was on a face removed (or on the bar, hidden now): the next face takes it, so the
    // keys go on from where they were instead of from <body>
    if (at >= 0 && !(selBar.contains(a) && !selBar.hidden)) {
      const next = items.slice(at).find((li) => !gone.has(li)) || items.slice(0, at).reverse().find((li) => !gone.has(li));
      (next ? next.querySelector(".pick") : view).focus();
    }
  };
  // the person's counts, timeline and "Move to" list change too: read again in place
  const reread = () => (unknown || selected.size ? null : redraw(true));
  const chosen = (fallback) => (selected.size ? [...selected] : fallback !== undefined ? [fallback] : []);
  const nothing = () => say("Select faces first (click, tap or space).", "error");
  const moveTo = async (ids, target) => {
    if (!ids.length) return nothing();
    const r = target ? await assignFaces(ids, target) : await askAssign(ids, me && me.id);
    if (r && r.person !== (me && me.id)) {
      removeFaces(r.faces);
      await reread();
      // the unknown faces are not read again (their pages, the scroll): the "Move to" list is,
      // with the person a new name made and the counts the move changed
      if (unknown) { await loadPersons(); drawTargets(); }
    }
  };
  const reject = async (ids) => {
    if (!ids.length) return nothing();
    await api.reject(ids, me.id);  // one correction, one undo
    removeFaces(ids);
    say(`${count(ids.length, "face")} marked as not ${label(me)}: ${ids.length === 1 ? "it is" : "they are"} in Unknown faces now. Undo reverts it.`);
    await reread();
  };
  // Ignored faces leave the grid (and their person): never suggested, never clustered again
  const ignore = async (ids) => {
    if (!ids.length) return nothing();
    const r = await api.ignore(ids);  // one correction, one undo
    removeFaces(r.faces);
    say(`${count(r.faces.length, "face")} ignored: ${r.faces.length === 1 ? "it is" : "they are"} out of the unknown faces` +
      `${unknown ? "" : ` and of ${label(me)}`}. Undo brings ${r.faces.length === 1 ? "it" : "them"} back.`);
    await reread();
  };
  const split = async () => {
    if (!selected.size) return nothing();
    const ids = [...selected];
    const r = await api.split(me.id, ids);
    removeFaces(ids);
    const made = label({ id: r.new });
    say(`${count(ids.length, "face")} split off. Undo reverts it.`, "",  // short: one row with the link and Undo, on a phone too
      el("a", { href: `#/person/${r.new}`, class: "textlink status-link", text: `Open ${made}` }));
    await reread();
  };
  const setCover = async (fid) => {
    await api.cover(me.id, fid);
    faces.querySelectorAll(".face.cover").forEach((n) => n.classList.remove("cover"));
    const box = boxOf(fid);
    if (box) box.classList.add("cover");
    say(`Face ${fid} is now ${label(me)}'s cover.`);
  };
  const faceBox = (f) => {
    const alt = unknown ? `unknown face ${f.id}` : `${label(me)}, face ${f.id}`;
    const pick = el("button", { type: "button", class: "pick", "aria-pressed": "false", "aria-label": `select ${alt}` },
      faceImg(f.id, ""));
    const box = el("div", { class: "face" + (!unknown && f.id === data.cover ? " cover" : ""), "data-face": f.id, draggable: "true" }, pick);
    pick.addEventListener("click", () => toggle(f.id));
    pick.addEventListener("keydown", (e) => {
      if (e.key === "a") { e.preventDefault(); act(() => moveTo(chosen(f.id))); }
      else if (e.key === "x" && !unknown) { e.preventDefault(); act(() => reject(chosen(f.id))); }
      else if (e.key === "i") { e.preventDefault(); act(() => ignore(chosen(f.id))); }
      else if (e.key === "c" && !unknown) { e.preventDefault(); act(() => setCover(f.id)); }
    });
    dragItem(box, () => ({ faces: selected.has(f.id) ? [...selected] : [f.id] }));
    const tools = el("div", { class: "actions" },
      el("a", { href: `#/photo/${f.photo}?from=${listKey}`, class: "small", text: "Photo", "aria-label": `Photo of face ${f.id}` }));
    if (!unknown) {
      tools.append(el("button", { type: "button", class: "danger not-this small", text: "Not them",
        "aria-label": `Not them: face ${f.id} is not ${label(me)}`, onclick: () => act(() => reject([f.id])) }));
    } else {  // on a person's faces the selection bar (and the key i) ignores: the card has room for one button
      tools.append(el("button", { type: "button", class: "ignore small", text: "Ignore",
        "aria-label": `Ignore face ${f.id}`, onclick: () => act(() => ignore([f.id])) }));
    }
    box.append(tools);
    return el("li", {}, box);
  };
  const shownPhotos = [];
  const addFaces = (list) => {
    faces.append(...list.map(faceBox));
    for (const f of list) if (!shownPhotos.includes(f.photo)) shownPhotos.push(f.photo);
    // the viewer's previous and next, opened from here (the unknown view adds its groups' photos first)
    remember(listKey, opts.before ? [...new Set([...opts.before, ...shownPhotos])] : shownPhotos);
  };
  addFaces(data.faces);
  let shown = data.faces.length;
  const moreFaces = el("button", { type: "button", id: "more-faces", text: "Show more faces", hidden: shown >= total });
  const loadMore = () => act(async () => {
    if (moreFaces.hidden || moreFaces.disabled) return;
    moreFaces.disabled = true;
    const next = opts.load ? await opts.load(shown, FACE_PAGE) : await api.person(unknown ? "unknown" : me.id, shown, FACE_PAGE);
    addFaces(next.faces);
    shown += next.faces.length;
    moreFaces.hidden = shown >= next.total_faces;
    moreFaces.disabled = false;
  });
  moreFaces.addEventListener("click", loadMore);
  new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) loadMore(); }, { rootMargin: "600px" }).observe(moreFaces);

  selBar.append(...[selCount,
    el("button", { type: "button", id: "move-selected", class: "primary", text: "Move to…", onclick: () => act(() => moveTo(chosen())) }),
    unknown ? null : el("button", { type: "button", id: "split", text: "Split into a new person", onclick: () => act(split) }),
    unknown ? null : el("button", { type: "button", id: "cover-selected", text: "Use as cover", onclick: () => act(async () => {
      if (selected.size !== 1) return say("Select exactly one face to use as the cover.", "error");
      await setCover([...selected][0]);
    }) }),
    unknown ? null : el("button", { type: "button", id: "reject-selected", class: "danger", text: "Not them", onclick: () => act(() => reject(chosen())) }),
    el("button", { type: "button", id: "ignore-selected", text: "Ignore", onclick: () => act(() => ignore(chosen())) }),
    el("button", { type: "button", id: "clear-selection", text: "Clear", onclick: () => { for (const fid of [...selected]) toggle(fid, false); } }),
  ].filter((c) => c !== null));

  // The persons to move faces to: a landmark, and "t" reaches it from any face (see keys.js).
  const side = el("aside", { id: "move-to", "aria-labelledby": "move-to-title" }, el("h2", { id: "move-to-title", text: "Move to" }),
    el("p", { class: "meta keys-hint", text: "Drop faces here, or select faces and choose a person." }),
    el("p", { class: "meta touch-hint", text: "Tap faces to select them, then tap the person they are." }));
  const targets = el("div", { class: "targets" });
  side.append(targets);
  function drawTargets() {
    const focused = targets.contains(document.activeElement) ? document.activeElement.dataset.person : null;
    targets.replaceChildren();
    const shown = [...persons.values()].filter((p) => !((me && p.id === me.id) || p.hidden));
    if (targetOrder.list === listKey) {  // drawn again after a move: each where it was (new ones last)
      const at = new Map(targetOrder.ids.map((id, i) => [id, i]));
      const place = new Map(shown.map((p, i) => [p.id, at.has(p.id) ? at.get(p.id) : at.size + i]));
      shown.sort((a, b) => place.get(a.id) - place.get(b.id));
    }
    targetOrder = { list: listKey, ids: shown.map((p) => p.id) };
    for (const p of shown) {
      const t = el("button", { type: "button", class: "target", "data-person": p.id, text: `${label(p)} · ${count(p.photos, "photo")}`,
        onclick: () => act(() => moveTo(chosen(), { id: p.id })) });
      dropTarget(t, p, (ids) => moveTo(ids, { id: p.id }));
      targets.append(t);
    }
    if (focused) targets.querySelector(`[data-person='${focused}']`)?.focus();
  }
  drawTargets();
  refresh();
  return { faces, countLine, selBar, moreFaces, side };
}
