// ClusterIdentities web page: plain DOM and ES modules served as they are; nothing is fetched
// from the internet. Every drag has a keyboard and a tap alternative: select faces (click, tap
// or space), then "Move to…" (a), a person in the "Move to" list (t), or a person's "Merge with…" (m).
import * as api from "./api.js";
import { undoLast } from "./actions.js";
import { showHelp } from "./dialogs.js";
import { act, dialog, el, say, sleep, view } from "./dom.js";
import { follow } from "./events.js";
import { ignoredView } from "./ignored.js";
import { listenToKeys } from "./keys.js";
import { peopleView } from "./people.js";
import { personView } from "./person.js";
import { searchPhoto, searchView } from "./search.js";
import { leave, setRouter } from "./state.js";
import { suggestionsView } from "./suggestions.js";
import { unknownView } from "./unknown.js";
import { uploadFiles } from "./uploads.js";
import { photoView } from "./viewer.js";

const banner = document.getElementById("banner");
const header = document.querySelector("header");
const moreButton = document.getElementById("more");

// -- the daemon gone: a banner that goes by itself once it is back ---------------------------------
let daemonDown = false;
api.whenDown(async () => {
  if (daemonDown) return;
  daemonDown = true;
  banner.hidden = false;
  banner.textContent = "The ClusterIdentities daemon is not answering: start it again with 'clusterids ui' " +
    "(or 'clusterids watch' if you run it yourself). This page reconnects by itself.";
  while (!(await api.alive())) await sleep(1500);
  daemonDown = false;
  banner.hidden = true;
  say("The daemon is back.");
  route(true);
});

// -- the router: only the latest navigation may draw (an older one still waiting must not) ----------
let routeSeq = 0;
let keepStatus = false;

// Where each visit was scrolled to: a new view opens at its top, Back and Forward return to the
// place left (the browser's own restoration runs before the view is drawn, so it is ours).
history.scrollRestoration = "manual";
const scrolled = new Map();
let visit = null;
let visits = Date.now();
let aim = 0;
let settled = true;
window.addEventListener("scroll", () => { if (visit !== null) scrolled.set(visit, window.scrollY); }, { passive: true });

// What had the focus in each visit, found again when Back returns to it (the photo that opened the
// viewer, say), and the view each visit was opened from inside the page (its "opener": the viewer's
// Close goes back there). A photo stepped to keeps its opener (viewer.js replaces the entry with it).
const focused = new Map();
let shownHash = null;

function arrive(hash) {
  const st = history.state;
  const known = st && typeof st.visit === "number" ? st.visit : null;
  if (known === null) {
    const opener = st && "opener" in st ? st.opener : shownHash;
    history.replaceState({ ...(st || {}), visit: ++visits, opener }, "");
  }
  visit = history.state.visit;
  shownHash = hash;
  return known;
}

// What has the focus in the view, as a selector to find it again once the view is drawn anew:
// a redraw must not drop a keyboard user to <body>.
function focusKey(e) {
  if (!e || e === view || !view.contains(e)) return null;
  if (e.id) return `#${CSS.escape(e.id)}`;
  const o = e.closest("[data-face], [data-person]");
  if (!o) return null;
  const at = o.dataset.face ? `[data-face="${o.dataset.face}"]` : `[data-person="${o.dataset.person}"]`;
  return o === e ? `${e.tagName}${at}` : `${at} ${e.tagName}${e.classList[0] ? "." + CSS.escape(e.classList[0]) : ""}`;
}

let lastFocus = null;  // the view's element focused last: a view drawn while the user moved on finds that one
view.addEventListener("focusin", (e) => {
  lastFocus = focusKey(e.target);
  if (lastFocus && visit !== null) focused.set(visit, lastFocus);
});

/** ``stop()``: true when the view, read again, must not be drawn after all (the user began something). */
async function route(keep = false, stop = null) {
  const mine = ++routeSeq;
  let held = false;  // stop() said so when the view asked whether to draw: the old view stays
  const alive = () => mine === routeSeq && !(held = held || Boolean(stop && stop()));
  const [hash, query] = (location.hash || "#/").split("?");
  const params = new URLSearchParams(query || "");
  const refocus = keep && focusKey(document.activeElement);
  if (!keep && !keepStatus) say("");
  keepStatus = false;
  leave();
  document.body.classList.remove("selecting");
  // a re-read while a view is still being drawn aims where that view was going, not at the old one's place
  const back = keep ? null : arrive(location.hash || "#/");  // the visit returned to (Back, Forward), else null
  const scroll = keep ? (settled ? window.scrollY : aim) : back !== null ? (scrolled.get(back) || 0) : 0;
  aim = scroll;
  settled = false;
  try {
    if (hash === "#/login-expired") {
      say("That login link was used already or has expired: run 'clusterids ui' again if this page asks you to log in.", "warn");
      history.replaceState(null, "", "#/");
      keepStatus = true;
      return route();
    }
    if (params.get("error") === "no-album") {
      say("This person has no album to download: hidden people have none; unhide them first.", "error");
      params.delete("error");  // said once: the redraw after a later success must not say it again
      history.replaceState(history.state, "", String(params) ? `${hash}?${params}` : hash);
    }
    if (hash.startsWith("#/person/")) await personView(decodeURIComponent(hash.slice(9)), alive);
    else if (hash === "#/unknown") await unknownView(alive);
    else if (hash === "#/ignored") await ignoredView(alive);
    else if (hash.startsWith("#/photo/")) await photoView(decodeURIComponent(hash.slice(8)), alive, params);
    else if (hash === "#/suggestions") await suggestionsView(null, alive);
    else if (hash.startsWith("#/suggestions/")) await suggestionsView(hash.slice(14), alive);
    else if (hash.startsWith("#/search/")) searchView(hash.slice(9), alive);
    else await peopleView(alive);
    if (mine !== routeSeq) return;
    settled = true;
    if (held) return;
    window.scrollTo(0, scroll);
    if (refocus && !view.contains(document.activeElement) && !dialog.open) {
      ((lastFocus && view.querySelector(lastFocus)) || view).focus({ preventScroll: true });
    }
    const again = back !== null && !dialog.open && focused.get(back);
    const target = again && view.querySelector(again);
    if (target) target.focus({ preventScroll: true });
    if (!keep && !view.contains(document.activeElement)) view.focus({ preventScroll: true });
  } catch (e) {
    if (!alive()) return;
    settled = true;
    const text = e instanceof api.ApiError ? e.message : `Something went wrong: ${e.message}`;
    document.title = "Error · ClusterIdentities";
    view.replaceChildren(el("h1", { text: "This page cannot be shown" }), el("p", { class: "error", id: "view-error", text }),
      el("p", {}, el("a", { href: "#/", id: "back-home", class: "textlink", text: "Back to the people" })));
  }
}
setRouter(route);

// -- the header: on a phone the tools sit behind "More", a row of their own under the views --------
function closeMore() {
  header.classList.remove("open");
  moreButton.setAttribute("aria-expanded", "false");
}
moreButton.addEventListener("click", () => {
  const open = header.classList.toggle("open");
  moreButton.setAttribute("aria-expanded", String(open));
});
document.getElementById("tools").addEventListener("click", (e) => { if (e.target.closest("button, a")) closeMore(); });
document.addEventListener("keydown", (e) => { if (e.key === "Escape" && header.classList.contains("open")) closeMore(); });
document.addEventListener("click", (e) => { if (!header.contains(e.target)) closeMore(); });
document.getElementById("download-all").href = api.albumsZipUrl();
document.getElementById("upload").addEventListener("change", (e) => {
  closeMore();
  uploadFiles(e.target.files);
  e.target.value = "";  // the same file chosen again is a new choice
});
document.getElementById("search").addEventListener("change", (e) => {
  const file = e.target.files[0];
  closeMore();
  e.target.value = "";
  if (file) act(() => searchPhoto(file));
});
document.getElementById("undo").addEventListener("click", () => act(async () => {
  await undoLast();
  await route(true);  // keeps the status line: it says what was undone
}));
document.getElementById("help").addEventListener("click", showHelp);

// -- photos dropped anywhere go to the inbox --------------------------------------------------------
const hint = document.getElementById("drop-hint");
window.addEventListener("dragover", (e) => {
  if (e.dataTransfer.types.includes("Files")) { e.preventDefault(); hint.hidden = false; }
});
window.addEventListener("dragleave", (e) => { if (!e.relatedTarget) hint.hidden = true; });
window.addEventListener("drop", (e) => {
  hint.hidden = true;
  if (e.dataTransfer.files.length) { e.preventDefault(); uploadFiles(e.dataTransfer.files); }
});

listenToKeys();
// Back (or any step to another view) while a dialog is open: the dialog was about the view left
window.addEventListener("hashchange", () => { closeMore(); if (dialog.open) dialog.close("cancel"); route(); });
route();
follow();
