// The people grid: a card per person (cover, name, photo count), sorted, filtered, paginated.
import * as api from "./api.js";
import { assignFaces } from "./actions.js";
import { act, el, faceImg, say, view } from "./dom.js";
import { dragItem, dropTarget } from "./drag.js";
import { loadPersons, prefs, redraw } from "./state.js";
import { count, label } from "./words.js";

const PAGE = 200;

function card(p) {
  const link = el("a", { href: `#/person/${p.id}`, class: "card person" + (p.hidden ? " hidden-person" : ""),
    "data-person": p.id, draggable: "true" },
    p.cover ? faceImg(p.cover, label(p)) : el("span", { class: "nocover", text: "no face" }),
    el("span", { class: "name", text: label(p) }),
    el("span", { class: "meta", text: `${count(p.photos, "photo")}${p.hidden ? " · hidden" : ""}` }));
  dragItem(link, { person: p.id });
  dropTarget(link, p, async (faces) => { await assignFaces(faces, { id: p.id }); await redraw(); });
  return el("li", {}, link);
}

export async function peopleView(alive) {
  const pr = prefs();
  const params = { hidden: pr.hidden, unnamed: pr.unnamed, sort: pr.sort, q: pr.q };
  const [page] = await Promise.all([api.people({ ...params, limit: PAGE }), loadPersons()]);
  // nobody shown matches: do hidden persons? (a person hidden is still found by name)
  const hiddenMatches = !page.people.length && pr.q.trim() && !pr.hidden
    ? (await api.people({ ...params, hidden: true, limit: 1 })).total : 0;
  const grid = el("ul", { class: "grid", id: "people", "aria-label": "People" }, ...page.people.map(card));
  let offset = page.people.length;
  const more = el("button", { type: "button", text: "Show more people", hidden: offset >= page.total, onclick: () => act(async () => {
    const next = await api.people({ ...params, offset, limit: PAGE });
    grid.append(...next.people.map(card));
    offset += next.people.length;
    more.hidden = offset >= next.total;
  }) });
  const set = (key, value) => { sessionStorage.setItem(key, value); redraw(); };
  const filter = el("input", { type: "search", id: "filter", value: pr.q, placeholder: "Filter by name" });
  let timer = 0;
  filter.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => set("q", filter.value), 250); });
  // Enter opens the one match (or the first, in the order shown), read for what is typed now
  filter.addEventListener("keydown", (e) => {
    if (e.key !== "Enter" || e.isComposing) return;
    e.preventDefault();
    clearTimeout(timer);
    const q = filter.value;
    act(async () => {
      sessionStorage.setItem("q", q);  // Back finds the people filtered as they were left
      const found = await api.people({ ...params, q, offset: 0, limit: 1 });
      if (found.people.length) location.hash = `#/person/${found.people[0].id}`;
      else { say(`Nobody matches "${q}".`, "error"); redraw(); }
    });
  });
  const sort = el("select", { id: "sort", onchange: (e) => set("sort", e.target.value) },
    ...[["photos", "most photos"], ["name", "name"], ["newest", "newest photo"]].map(([v, t]) =>
      el("option", { value: v, text: t, selected: v === pr.sort })));
  const check = (id, key, on, text) => el("label", { class: "check" },
    el("input", { type: "checkbox", id, checked: on, onchange: (e) => set(key, e.target.checked ? "1" : "0") }), ` ${text}`);
  if (!alive()) return;
  // what is typed in the field now, read before the view is replaced (a field taken out of the
  // page has the focus no more): the keys typed while this page loaded, and the selection they replace
  const was = document.activeElement && document.activeElement.id === "filter" ? document.activeElement : null;
  const typing = was && { value: was.value, start: was.selectionStart, end: was.selectionEnd, dir: was.selectionDirection };
  document.title = "People · ClusterIdentities";
  view.replaceChildren(
    el("h1", { text: `People (${page.total})` }),
    el("div", { class: "toolbar" },
      el("label", { class: "field inline" }, el("span", { class: "visually-hidden", text: "Filter by name" }), filter),
      el("label", { class: "field inline" }, el("span", { text: "Sort by" }), sort),
      check("show-hidden", "hidden", pr.hidden, "show hidden"), check("show-unnamed", "unnamed", pr.unnamed, "show unnamed"),
      el("a", { href: "#/unknown", class: "textlink", text: `${count(page.unknown, "unknown face")}` })),
    el("p", { class: "meta hint keys-hint", text: "Drag a person onto another to merge them, or focus one and press m." }),
    el("p", { class: "meta hint touch-hint", text: "To merge two persons, open one and choose \u201cMerge with…\u201d." }),
    page.people.length ? grid : hiddenMatches ? el("p", { class: "empty", id: "hidden-matches" },
      `Nobody shown matches "${pr.q}", but ${count(hiddenMatches, "hidden person")} ${hiddenMatches === 1 ? "does" : "do"}: `,
      el("button", { type: "button", id: "show-hidden-matches", text: "Show hidden", onclick: () => set("hidden", "1") }))
      : el("p", { class: "empty", text: pr.q ? `Nobody matches "${pr.q}".` : "No people yet: add photos, then recluster." }),
    more);
  if (typing) {  // keep what was typed while this page loaded, its selection, and the focus
    filter.value = typing.value;
    filter.focus();
    filter.setSelectionRange(typing.start, typing.end, typing.dir);
  }
}
