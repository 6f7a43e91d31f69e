// The dialogs: who is this face, merge two persons (confirmed, showing both, unless the user
// said so already), the keys. Each that asks for a person offers them to tap too.
import * as api from "./api.js";
import { assignFaces } from "./actions.js";
import { dialog, el, faceImg, say } from "./dom.js";
import { persons } from "./state.js";
import { count, label, nameKey } from "./words.js";

export function openDialog(title, ...body) {
  dialog.replaceChildren(el("h2", { id: "dialog-title", text: title }), ...body);
  dialog.showModal();
  let first = dialog.querySelector("input:not([type=radio]), input:checked, button.primary");
  // on a touch screen a name field focused opens the keyboard over the persons to tap: the
  // dialog itself has the focus instead (its title is read), the field is one tap away
  if (first && first.matches("input[type=text]") && dialog.querySelector(".pick-grid") && matchMedia("(pointer: coarse)").matches) {
    dialog.tabIndex = -1;
    first = dialog;
  } else dialog.removeAttribute("tabindex");
  // focused where the answer is, yet opened at its title: a long dialog on a phone would
  // otherwise open scrolled to its last button (showModal's own focus scrolls it too)
  if (first) first.focus({ preventScroll: true });
  dialog.scrollTop = 0;
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue);
  });
}
export const closeWith = (value) => () => dialog.close(value);
export const buttons = (...b) => el("div", { class: "dialog-buttons" }, ...b);

export function personChoice(p) {
  return el("figure", { class: "choice" },
    p.cover ? faceImg(p.cover, label(p)) : el("div", { class: "nocover", text: "no face" }),
    el("figcaption", { text: `${label(p)} · ${count(p.photos || 0, "photo")}` }));
}

/** The faces a dialog is about, as crops (a phone shows them too: naming blind is guessing). */
function faceRow(faceIds, most = 12) {
  const shown = faceIds.slice(0, most);
  return el("div", { class: "naming", id: "naming-faces" }, ...shown.map((id) => faceImg(id, `face ${id}`, 64)),
    faceIds.length > most ? el("span", { class: "meta", text: `and ${faceIds.length - most} more` }) : null);
}

/** What was typed, as a person id (exact name, any case, or Person_ID), else a new name. */
export function resolvePerson(text) {
  const t = text.trim();
  const m = /^Person_(\d+)$/.exec(t);
  if (m && persons.has(Number(m[1]))) return { id: Number(m[1]) };
  for (const p of persons.values()) if (p.name === t || label(p) === t) return { id: p.id };
  const key = nameKey(t);
  for (const p of persons.values()) if (p.name && nameKey(p.name) === key) return { id: p.id };
  return { name: t };
}

/** A person tapped is the answer: as if typed and sent. */
const tapped = (input) => (p) => { input.value = label(p); dialog.close("ok"); };

function nameInput(id, labelText, except = null) {
  const list = el("datalist", { id: `${id}-list` });
  for (const p of persons.values()) if (p.id !== except) list.append(el("option", { value: label(p) }));
  const input = el("input", { id, type: "text", list: `${id}-list`, autocomplete: "off", required: true });
  return { input, node: el("label", { class: "field" }, el("span", { text: labelText }), input, list) };
}

/** Merge two persons after a confirmation showing both; the one name is kept, two names: the user picks. */
export async function confirmMerge(keepId, otherId) {
  const keep = persons.get(keepId), other = persons.get(otherId);
  if (!keep || !other) throw new api.ApiError("One of these persons is gone: reload the page.");
  const both = keep.name && other.name && keep.name !== other.name;
  const choose = both ? el("fieldset", {}, el("legend", { text: "Which name is kept?" }),
    ...[keep.name, other.name].map((n, i) => el("label", { class: "radio" },
      el("input", { type: "radio", name: "keep-name", value: n, checked: i === 0 }), ` ${n}`))) : null;
  const kept = keep.name || other.name;
  const answer = await openDialog(`Merge ${label(other)} into ${label(keep)}?`,
    el("div", { class: "pair" }, personChoice(other), el("span", { "aria-hidden": "true", text: "→" }), personChoice(keep)),
    choose || el("p", { text: kept ? `The merged person is named ${kept}.` : "The merged person stays unnamed." }),
    buttons(el("button", { type: "button", onclick: closeWith("cancel"), text: "Cancel" }),
      el("button", { type: "button", class: "primary", id: "confirm-merge", onclick: () => dialog.close("merge"), text: "Merge" })));
  if (answer !== "merge") return null;
  return mergeNow(keepId, otherId, both ? dialog.querySelector("input[name=keep-name]:checked").value : null);
}

/** Merge without asking (the user said so already), and say what was merged. */
export async function mergeNow(keepId, otherId, name = null) {
  const keep = persons.get(keepId), other = persons.get(otherId);
  if (!keep || !other) throw new api.ApiError("One of these persons is gone: reload the page.");
  // the labels as they were: after the merge the kept person may carry the other's name
  const before = { other: label(other), keep: label(keep) };
  const r = await api.merge(keep.id, other.id, name);
  const named = r.name && r.name !== keep.name ? `, now named ${r.name}` : "";
  say(`${before.other} merged into ${before.keep}${named}. Undo reverts it.`);
  return r;
}

/** Two persons with different names: a merge must ask which name is kept. */
export const twoNames = (a, b) => {
  const p = persons.get(a), q = persons.get(b);
  return Boolean(p && q && p.name && q.name && nameKey(p.name) !== nameKey(q.name));
};

/** Pick a person by name (autocomplete) or type a new name: the faces go there in one correction. */
export async function askAssign(faceIds, except) {
  const { input, node } = nameInput("assign-name", "Name (an existing person, or a new name)", except);
  const note = el("p", { class: "meta", id: "assign-note" });
  input.addEventListener("input", () => {
    const r = resolvePerson(input.value);
    note.textContent = input.value.trim() && r.name ? `Creates a new person named ${r.name}.` : "";
  });
  const form = el("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) dialog.close("ok"); } },
    faceRow(faceIds), node, note, personChoices("assign-choices", except, input, tapped(input), () => likelyOwners(faceIds, except)),
    buttons(el("button", { type: "button", onclick: closeWith("cancel"), text: "Cancel" }),
      el("button", { type: "submit", class: "primary", text: "Move" })));
  const answer = await openDialog(`Who ${faceIds.length === 1 ? "is this face" : `are these ${faceIds.length} faces`}?`, form);
  if (answer !== "ok") return null;
  return assignFaces(faceIds, resolvePerson(input.value));
}

/** Who a face marked by hand is (``crop``: the box drawn, shown): a person, a new name, or nobody
 * yet ("" : an unknown face, which the library may place). null: cancelled, nothing is marked. */
export async function askMarked(crop = null) {
  const { input, node } = nameInput("mark-name", "Name (an existing person, a new name, or leave it empty)");
  input.required = false;
  const form = el("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); dialog.close("ok"); } },
    crop ? el("div", { class: "naming", id: "naming-faces" }, crop) : null,  // the box drawn, as the naming shows a face
    el("p", { class: "meta", text: "The box you drew becomes a face of this photo. Undo takes it away." }), node,
    personChoices("mark-choices", null, input, tapped(input)),
    buttons(el("button", { type: "button", onclick: closeWith("cancel"), text: "Cancel" }),
      el("button", { type: "submit", class: "primary", id: "mark-ok", text: "Mark the face" })));
  if (await openDialog("Who is this face?", form) !== "ok") return null;
  if (!input.value.trim()) return "";
  const who = resolvePerson(input.value);
  return who.id !== undefined ? String(who.id) : who.name;
}

/** The persons that the suggestions pair with ``personId`` (likely the same): id -> their words. */
async function lookalikes(personId) {
  const s = await api.suggestions(personId);
  const likely = new Map();
  for (const m of s.merges || []) {
    const [a, b] = m.persons;
    if (a === personId || b === personId) likely.set(a === personId ? b : a, `${m.likelihood} the same`);
  }
  return likely;
}

/** Who ``faceIds`` likely are, by the suggestions the page can ask for: faces of a person
 * (``owner``), the persons that look like that one; unknown faces, the persons they are
 * suggested for. id -> the words said on the choice. */
async function likelyOwners(faceIds, owner) {
  if (owner !== null && owner !== undefined && owner !== "unknown") return lookalikes(owner);
  const s = await api.suggestions(null, Math.max(100, faceIds.length));
  const mine = new Set(faceIds);
  const hits = new Map();  // person id -> [how many of the faces, the best likelihood]
  for (const f of s.faces || []) {
    if (!mine.has(f.face)) continue;
    const [n, best] = hits.get(f.person) || [0, "likely"];
    hits.set(f.person, [n + 1, best === "very likely" || f.likelihood === "very likely" ? "very likely" : "likely"]);
  }
  return new Map([...hits].map(([pid, [n, best]]) =>
    [pid, faceIds.length > 1 ? `${best} (${n} of ${faceIds.length} faces)` : best]));
}

/** The persons to tap instead of typing a name (``except`` aside, hidden ones only by name):
 * those that ``likelyOf()`` (a promise of id -> words) says are likely first, labelled so; then
 * by photos. The typed text filters them. */
function personChoices(id, except, input, pick, likelyOf = null, most = 24) {
  const grid = el("div", { class: "pick-grid", id });
  let likely = new Map();  // person id -> the suggestion's words
  const draw = () => {
    const key = nameKey(input.value);
    const shown = [...persons.values()].filter((p) => p.id !== except && !p.hidden && (!key || nameKey(label(p)).includes(key)))
      .sort((a, b) => (likely.has(b.id) - likely.has(a.id)) || ((b.photos || 0) - (a.photos || 0)));
    // a choice focused keeps the focus when the likely ones move up
    const focused = grid.contains(document.activeElement) ? document.activeElement.dataset.person : null;
    grid.replaceChildren(...shown.slice(0, most).map((p) => el("button", {
      type: "button", class: "pick-person", "data-person": p.id, onclick: () => pick(p),  // named by its caption
    }, personChoice(p), likely.has(p.id) ? el("span", { class: "meta likely", text: likely.get(p.id) }) : null)));
    if (focused) grid.querySelector(`[data-person='${focused}']`)?.focus();
  };
  input.addEventListener("input", draw);
  draw();
  if (likelyOf) likelyOf().then((found) => {  // the list is there at once; the likely ones move up when known
    likely = new Map([...found].filter(([pid]) => pid !== except && persons.has(pid)));
    if (likely.size && grid.isConnected) draw();
  }).catch(() => {});
  return grid;
}

/** The order in which to merge ``a`` and ``b``, the one kept first: a named person over an
 * unnamed one, else the one with more faces (a named person's page and album must not vanish). */
export function keptFirst(a, b) {
  const p = persons.get(a), q = persons.get(b);
  if (!p || !q) return [a, b];
  if (Boolean(p.name) !== Boolean(q.name)) return p.name ? [a, b] : [b, a];
  return (q.faces || 0) > (p.faces || 0) ? [b, a] : [a, b];
}

/** "Merge with…": a person by name or by a tap, then the confirmation. True when merged; the
 * page of a person merged away is then the kept one's (replaced: Back must not go to a person gone). */
export async function askMerge(id) {
  const { input, node } = nameInput("merge-name", "Merge with (a person's name, or tap one)", id);
  const choices = personChoices("merge-choices", id, input, tapped(input), () => lookalikes(id));
  const form = el("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); dialog.close("ok"); } }, node, choices,
    buttons(el("button", { type: "button", onclick: closeWith("cancel"), text: "Cancel" }),
      el("button", { type: "submit", class: "primary", text: "Next" })));
  if (await openDialog(`Merge ${label(persons.get(id) || { id })} with…`, form) !== "ok") return false;
  const other = resolvePerson(input.value);
  if (other.id === undefined) { say(`There is no person named ${other.name}.`, "error"); return false; }
  const [keep, gone] = keptFirst(id, other.id);
  if (!(await confirmMerge(keep, gone))) return false;
  if (location.hash === `#/person/${gone}`) history.replaceState(history.state, "", `#/person/${keep}`);
  return true;
}

const KEYS = [["?", "this list"], ["g p / g u / g i / g s", "people, unknown faces, ignored faces, suggestions"], ["/", "filter people by name"],
  ["Tab, Enter", "move between and open people, faces, photos"], ["space", "select or unselect the focused face"],
  ["a", "move the selected (or focused) faces to a person, or a new name"],
  ["t", "go to the \"Move to\" list of persons (Tab moves in it, Enter moves the faces)"],
  ["x", "not this person (the selected faces)"], ["i", "ignore the selected (or focused) faces"], ["s", "split the selected faces into a new person"],
  ["c", "make the focused face the cover"], ["m", "merge the focused (or shown) person with another"],
  ["u", "undo the last correction"], ["y / n / k", "in suggestions: yes, no, skip"],
  ["← / →", "in the photo viewer: the previous or next photo"], ["+ / − / 0", "in the photo viewer: zoom in, out, fit"],
  ["Esc", "close a dialog or the photo viewer, clear the selection"]];

export function showHelp() {
  openDialog("Keyboard shortcuts",
    el("dl", { class: "keys" }, ...KEYS.flatMap(([k, d]) => [el("dt", {}, el("kbd", { text: k })), el("dd", { text: d })])),
    buttons(el("button", { type: "button", class: "primary", onclick: closeWith("ok"), text: "Close" })));
}
