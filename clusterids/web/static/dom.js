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

/** The status line: a sentence, and optionally nodes after it (a photo the sentence is about). */
export function say(text, kind = "", ...nodes) {
  statusLine.replaceChildren(text, ...nodes.filter((n) => n));
  statusLine.className = kind;
}

/** Runs an action from a click or key: its error goes to the status line, never to the console only. */
export async function act(fn) {
  try { await fn(); } catch (e) { say(e instanceof ApiError ? e.message : `Something went wrong: ${e.message}`, "error"); }
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A face's crop, lazy-loaded (``size`` its square side in CSS pixels). */
export const faceImg = (id, alt, size = 160) =>
  el("img", { src: api.faceUrl(id), loading: "lazy", alt, draggable: "false", width: size, height: size });
