// The page's keys (? lists them); a key typed into a field stays the field's.
import { undoLast } from "./actions.js";
import { askMerge, showHelp } from "./dialogs.js";
import { act, dialog } from "./dom.js";
import { redraw } from "./state.js";

const click = (id) => {
  const b = document.getElementById(id);
  if (b && !b.closest("[hidden]")) { b.click(); return true; }
  return false;
};

/** A key the page leaves alone: a dialog has it, or it comes with a modifier (the browser's). */
export const notOurs = (e) => dialog.open || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey;
/** A key typed into a field: the field's. */
export const typing = (e) => Boolean(e.target.closest && e.target.closest("input, textarea, select"));

let pendingG = false;

function onKey(e) {
  if (notOurs(e) || typing(e)) return;
  const t = e.target;
  if (pendingG) {
    pendingG = false;
    const to = { p: "#/", u: "#/unknown", i: "#/ignored", s: "#/suggestions" }[e.key];
    if (to) { e.preventDefault(); location.hash = to; }
    return;
  }
  const card = t.closest && t.closest(".card.person");
  const here = /^#\/person\/(\d+)/.exec(location.hash);
  if (e.key === "?") { e.preventDefault(); showHelp(); }
  else if (e.key === "g") pendingG = true;
  else if (e.key === "u") { e.preventDefault(); act(async () => { await undoLast(); await redraw(); }); }
  else if (e.key === "/") { const f = document.getElementById("filter"); if (f) { e.preventDefault(); f.focus(); } }
  else if (e.key === "m" && (card || here)) {
    e.preventDefault();
    const id = Number(card ? card.dataset.person : here[1]);
    act(async () => { if (await askMerge(id)) await redraw(); });
  } else if (e.key === "t") {  // to the "Move to" persons, from any face, in one key
    const first = document.querySelector("#move-to .target");
    if (first) { e.preventDefault(); first.focus(); }
  } else if (e.key === "s") { if (click("split")) e.preventDefault(); }
  else if (e.key === "a") { if (click("move-selected")) e.preventDefault(); }
  else if (e.key === "Escape") click("clear-selection");
}

export function listenToKeys() {
  document.addEventListener("keydown", onKey);
}
