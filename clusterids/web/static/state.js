// What the views share: the persons by id (names, covers, autocomplete, merge dialogs), the
// people grid's preferences, and the way back to the router (set by main.js, so that no view
// imports the router that imports the views).
import * as api from "./api.js";

export let persons = new Map();

export async function loadPersons() {
  const page = await api.people({ hidden: true, limit: 1000 });
  persons = new Map(page.people.map((p) => [p.id, p]));
  return page;
}

export const prefs = () => ({
  hidden: sessionStorage.getItem("hidden") === "1", unnamed: sessionStorage.getItem("unnamed") !== "0",
  sort: sessionStorage.getItem("sort") || "photos", q: sessionStorage.getItem("q") || "",
});

let router = async () => {};
let leaving = [];

export function setRouter(fn) { router = fn; }
/** Draw the current view again; ``keep``: keep the scroll and the status line; ``stop()``: not
 * drawn after all when it turns true while the view is read. */
export const redraw = (keep = true, stop = null) => router(keep, stop);
/** Run ``fn`` when the page leaves the view now drawn (key handlers a view added, for example). */
export function onLeave(fn) { leaving.push(fn); }
export function leave() {
  const fns = leaving;
  leaving = [];
  for (const fn of fns) fn();
}
