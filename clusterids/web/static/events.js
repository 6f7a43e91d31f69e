// The page follows the library: the daemon sends an event after each write that changes what a
// page shows (photos indexed, persons made, a correction from the CLI or another tab), and the
// view is read again in place: counts, lists, "Move to", autocomplete and covers. Never in the
// middle of something: while a dialog is open, faces are selected, a field has focus or the
// viewer is open (it keeps its zoom), the re-read waits until that ends. After the daemon comes back, the stream reconnects by itself and
// the view is read again.
import * as api from "./api.js";
import { dialog } from "./dom.js";
import { redraw } from "./state.js";

const QUIET_MS = 300; // changes that come together are read once
const OWN_MS = 1500; // an event this soon after this page's own correction is that correction
let timer = null;

function busy() {
  const a = document.activeElement;
  return dialog.open || document.body.classList.contains("selecting") || location.hash.startsWith("#/photo/")
    || (a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT"));
}

async function reread() {
  timer = null;
  if (busy()) { timer = setTimeout(reread, 1000); return; }
  // begun meanwhile (a face selected, a dialog opened), it stops: the re-read waits again
  await redraw(true, busy);
  if (busy() && !timer) timer = setTimeout(reread, 1000);
}

function changed() {
  if (performance.now() - api.ownChangeAt() < OWN_MS) return;
  if (!timer) timer = setTimeout(reread, QUIET_MS);
}

export function follow() {
  const source = new EventSource(api.eventsUrl);
  let lost = false;
  source.addEventListener("hello", () => { if (lost) changed(); lost = false; });
  source.addEventListener("changed", changed);
  source.onerror = () => { lost = true; };
}
