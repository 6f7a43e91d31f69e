// A person's page: the name (renamed in place), the birth date, hide, merge, suggestions, the
// album; the faces to sort and the photos by date.
import * as api from "./api.js";
import { askMerge, confirmMerge } from "./dialogs.js";
import { act, dialog, el, say, view } from "./dom.js";
import { faceGrid } from "./faces.js";
import { loadPersons, persons, redraw } from "./state.js";
import { timeline } from "./timeline.js";
import { dayText } from "./dates.js";
import { count, label, nameKey } from "./words.js";

const FACE_PAGE = 120;

async function renameTo(data, input) {
  const value = input.value.trim();
  if (value === (data.name || "")) return;
  // the server refuses a name another person has in any case or spacing: the same test here
  const key = nameKey(value);
  const clash = [...persons.values()].find((p) => p.name && nameKey(p.name) === key && p.id !== data.id);
  if (clash) {
    // the name is someone else's: the same person, most likely, so offer the merge
    const r = await confirmMerge(clash.id, data.id);
    if (r) location.hash = `#/person/${clash.id}`;
    else { input.value = data.name || ""; input.focus(); }
    return;
  }
  let r;
  try {
    r = await api.rename(data.id, value);
  } catch (e) {
    input.value = data.name || "";  // not renamed: the field must not say it was
    throw e;
  }
  data.name = r.name;
  persons.set(data.id, { ...persons.get(data.id), name: r.name });
  say(`${r.name ? `Renamed to ${r.name}.` : `The name is removed: this is ${label({ id: data.id, label: r.label })} again.`} Undo reverts it.`);
  // the field left for another view (a link clicked): that view may have been read before the
  // rename, and the page's own change wakes no re-read: read it again, with the name
  if ((/^#\/person\/([^?]+)/.exec(location.hash) || [])[1] !== String(data.id)) await redraw();
  else document.title = `${label(data)} · ClusterIdentities`;
}

function nameField(data) {
  const name = el("input", { class: "rename", id: "rename", value: data.name || "", placeholder: label({ id: data.id }) });
  name.addEventListener("keydown", (e) => {
    // Enter's own key events must not reach the dialog that the rename may open; the blur sends
    // the change, and the focus comes back (not to <body>) unless that dialog has it
    if (e.key === "Enter") { e.preventDefault(); setTimeout(() => { name.blur(); if (!dialog.open) name.focus(); }, 0); }
    // Escape cancels the edit: the name as it was, and the focus on the person's heading (the
    // page's keys work from there; a blur alone would drop the focus to <body>)
    if (e.key === "Escape") {
      e.preventDefault();
      name.value = data.name || "";
      const heading = name.closest("h1");
      if (heading) heading.focus(); else name.blur();
    }
  });
  name.addEventListener("change", () => act(() => renameTo(data, name)));
  return [el("label", { class: "visually-hidden", for: "rename", text: "Name" }), name];
}

const FIRST_YEAR = 1826;  // the oldest photograph (clusterids/dates.py): an earlier year is a typing in progress
const TYPED_MS = 500;  // a date typed digit by digit: "1" of a day "15" is already a date ("…-01")
// the field shows its parts in the browser's own order (mm/dd/yyyy…): the hint is written as it shows them
const EXAMPLE = new Intl.DateTimeFormat(undefined, { day: "2-digit", month: "2-digit", year: "numeric" }).format(new Date(1990, 2, 14));

/** "Born": a date field; photos taken before it leave the person (unless given by hand). A date
 * picked (or the field left, or Enter) is sent at once; one typed, once the keys pause, never
 * with a year half typed ("0002-05-30", "0020-05-30"…, before the first photograph). */
function bornField(data) {
  const input = el("input", { type: "date", id: "born", value: data.born || "", max: new Date().toISOString().slice(0, 10) });
  let timer = null;
  let keyAt = -Infinity;
  let sent = null;  // the date on its way: a blur right after Enter sends nothing twice
  const commit = (done) => {  // done: Enter, or the field left (else the field changed)
    clearTimeout(timer);
    const value = input.value;
    if (value === (data.born || "") || value === sent) return;
    if (value && Number(value.slice(0, 4)) < FIRST_YEAR) {
      if (done) say(`${value.slice(0, 4)} is before the first photograph (${FIRST_YEAR}): give the year again.`, "error");
      return;
    }
    sent = value;
    act(() => setBorn(data, input, value).finally(() => { sent = null; }));
  };
  input.addEventListener("change", () => {
    clearTimeout(timer);
    if (performance.now() - keyAt > 100) commit(false);
    else timer = setTimeout(() => commit(false), TYPED_MS);
  });
  input.addEventListener("blur", () => commit(true));
  input.addEventListener("keydown", (e) => {
    keyAt = performance.now();
    if (e.key === "Enter") { e.preventDefault(); commit(true); }
  });
  return el("label", { class: "born" }, el("span", { class: "meta", text: `Born (for example ${EXAMPLE})` }), input);
}

async function setBorn(data, input, value) {
  let r;
  try {
    r = await api.born(data.id, value);
  } catch (e) {
    input.value = data.born || "";
    throw e;
  }
  data.born = r.born;
  const left = r.left.length ? ` ${count(r.left.length, "face")} from photos taken before it left ${r.label}.` : "";
  say(r.born ? `${r.label} was born on ${dayText(r.born, false)}.${left} Undo reverts it.`
    : `${r.label} has no birth date now. Undo reverts it.`);
  if (r.left.length) await redraw();
}

export async function personView(id, alive) {
  const [data] = await Promise.all([api.person(id, 0, FACE_PAGE), loadPersons()]);
  const grid = faceGrid(data, data);  // data.name follows a rename made here
  const toolbar = el("div", { class: "toolbar" },
    el("button", { type: "button", id: "hide", text: data.hidden ? "Unhide" : "Hide", onclick: () => act(async () => {
      await api.hide(data.id, !data.hidden);
      // where a hidden person went: out of People, one check away
      say(data.hidden ? `${label(data)} is shown again. Undo reverts it.`
        : `${label(data)} is hidden: “Show hidden” on People shows them again. Undo reverts it.`);
      await redraw();
    }) }),
    el("button", { type: "button", id: "merge-with", text: "Merge with…", onclick: () => act(async () => {
      if (await askMerge(data.id)) await redraw();
    }) }),
    el("a", { class: "button", href: `#/suggestions/${data.id}`, id: "suggest-person", text: "Suggestions" }),
    bornField(data),
    data.has_album
      ? el("a", { class: "button", id: "download-person", href: api.albumsZipUrl(data.id), text: "Download album" })
      : el("span", { class: "meta", id: "no-album", text: "Hidden people have no album: unhide to download it." }));
  const photos = timeline(data);
  if (!alive()) return;
  document.title = `${label(data)} · ClusterIdentities`;
  view.replaceChildren(el("div", { class: "layout" },
    el("div", { class: "main" }, el("h1", { id: "person-title", tabindex: "-1" }, ...nameField(data)), toolbar, grid.countLine, grid.selBar, grid.faces,
      grid.moreFaces, photos), grid.side));
}
