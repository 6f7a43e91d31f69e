// Small DOM helpers. Every text from the library goes in through textContent, never as HTML.
import * as api from "./api.js";
import { ApiError } from "./api.js";

export const view = document.getElementById("view");
export const dialog = document.getElementById("dialog");
const statusLine = document.getElementById("status");

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  // append() would write a null as the text "null"
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

const TOAST_MS = 8000;
let toast = null;
let toastTimer = 0;
let said = 0;  // how many times say() ran: act() tells whether an action said anything

/** The status line: a sentence, and optionally nodes after it (a photo the sentence is about).
 * When the line is scrolled out of sight (an action far down a phone's page), the sentence also
 * shows for a while at the bottom of the screen, where the eye is; a tap puts it away. */
export function say(text, kind = "", ...nodes) {
  said += 1;
  const shown = nodes.filter((n) => n);
  // a message that offers Undo has its button: on a phone the header's sits behind "More"
  const undo = /\bUndo\b/.test(text);
  statusLine.replaceChildren(el("span", { class: "said", text }), ...shown, ...(undo ? [undoButton("status-undo")] : []));
  statusLine.className = kind;
  const header = document.querySelector("header");
  const hidden = statusLine.getBoundingClientRect().bottom <= (header ? header.getBoundingClientRect().bottom : 0);
  if (!text || !hidden) {
    if (toast) toast.hidden = true;
    return;
  }
  if (!toast) {
    // the status line is the one read aloud (aria-live): this copy is for the eye only
    toast = el("div", { id: "toast", "aria-hidden": "true", onclick: () => { toast.hidden = true; } });
    document.body.append(toast);
  }
  // the toast is aria-hidden: its button is for a tap only, out of the tab order
  toast.replaceChildren(el("span", { class: "said", text }), ...shown.map((n) => n.cloneNode(true)),
    ...(undo ? [undoButton("toast-undo", -1)] : []));
  toast.className = kind;
  const bar = document.querySelector(".selbar");  // on a phone it sits at the bottom: above it
  // (a fixed element has no offsetParent: whether it is drawn is whether it has boxes)
  const barTop = bar && getComputedStyle(bar).position === "fixed" && bar.getClientRects().length
    ? bar.getBoundingClientRect().top : innerHeight;
  toast.style.bottom = `${Math.max(8, innerHeight - barTop + 8)}px`;
  toast.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { toast.hidden = true; }, TOAST_MS);
}

/** Runs the header's Undo (main.js): the same undo, and the same redraw after it. */
const undoButton = (id, tabindex) => el("button", { type: "button", class: "say-undo", id, tabindex,
  onclick: () => document.getElementById("undo").click() }, "Undo");

/** Runs an action from a click or key: its error goes to the status line, never to the console only. */
export async function act(fn) {
  const before = said;
  try { await fn(); } catch (e) { say(e instanceof ApiError ? e.message : `Something went wrong: ${e.message}`, "error"); return; }
  // a success that said nothing still ends an earlier error: the red line would tell of a failure no more
  if (said === before && statusLine.className === "error") say("");
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A face's crop, lazy-loaded (``size`` its square side in CSS pixels). */
export const faceImg = (id, alt, size = 160) =>
  el("img", { src: api.faceUrl(id), loading: "lazy", alt, draggable: "false", width: size, height: size });
