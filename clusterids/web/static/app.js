// ClusterIdentities web page: plain DOM, no framework, nothing fetched from the internet.
// Every text from the library goes in through textContent, never as HTML.
// Every drag has a keyboard and tap alternative: select faces (click, tap or space), then
// "Move to…" (a) or a person in the side list; a person's "Merge with…" (m) stands for dragging cards.
"use strict";

const view = document.getElementById("view");
const statusLine = document.getElementById("status");
const banner = document.getElementById("banner");
const dialog = document.getElementById("dialog");
const PAGE = 200;
const FACE_PAGE = 120;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c !== null && c !== undefined && c !== false) node.append(c);
  return node;
}

function say(text, kind = "") {
  statusLine.textContent = text;
  statusLine.className = kind;
}

// -- the API: every failure becomes one sentence --------------------------------------------------
class ApiError extends Error {}

let daemonDown = false;
async function watchDaemon() {
  if (daemonDown) return;
  daemonDown = true;
  banner.hidden = false;
  banner.textContent = "The ClusterIdentities daemon is not answering: start it again with 'clusterids watch'. " +
    "This page reconnects by itself.";
  while (daemonDown) {
    await new Promise((r) => setTimeout(r, 1500));
    try {
      const resp = await fetch("/api/v1/health", { credentials: "same-origin" });
      if (resp.status < 500) daemonDown = false;
    } catch (e) { /* still down */ }
  }
  banner.hidden = true;
  say("The daemon is back.");
  route(true);
}

function sentence(body, fallback) {
  if (body && body.error) return `${body.error}${body.hint ? ": " + body.hint : ""}.`;
  return fallback;
}

async function api(path, options = {}) {
  let resp;
  try {
    resp = await fetch(path, { credentials: "same-origin", ...options });
  } catch (e) {
    watchDaemon();
    throw new ApiError("The daemon is not answering, so nothing was changed: try again once it is back.");
  }
  if (resp.status === 401) throw new ApiError("You are not logged in: open the link that 'clusterids ui' prints.");
  const body = await resp.json().catch(() => null);
  if (resp.status >= 502 && resp.status <= 504) { watchDaemon(); throw new ApiError("The daemon is not answering."); }
  if (!resp.ok) throw new ApiError(sentence(body, `The daemon refused this (HTTP ${resp.status}).`));
  return body;
}

const op = (name, args = {}) =>
  api(`/api/v1/${name}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(args) });
const correct = (action, args) => op(`people/${action}`, args);
const label = (p) => p.name || `Person_${p.id}`;
const faceImg = (id, alt) => el("img", { src: `/api/v1/faces/${id}.jpg`, loading: "lazy", alt, draggable: "false",
  width: 160, height: 160 });

// Runs an action from a click or key: its error goes to the status line, never to the console only.
async function act(fn) {
  try { await fn(); } catch (e) { say(e instanceof ApiError ? e.message : `Something went wrong: ${e.message}`, "error"); }
}

// The persons by id, for names, covers, autocomplete and merge dialogs (refreshed per view).
let persons = new Map();
async function loadPersons() {
  const page = await api("/api/v1/people/page?hidden=true&limit=1000");
  persons = new Map(page.people.map((p) => [p.id, p]));
  return page;
}

// -- dialogs -------------------------------------------------------------------------------------
function openDialog(title, ...body) {
  dialog.replaceChildren(el("h2", { id: "dialog-title", text: title }), ...body);
  dialog.showModal();
  const first = dialog.querySelector("input:not([type=radio]), input:checked, button.primary");
  if (first) first.focus();
  return new Promise((resolve) => {
    dialog.onclose = () => resolve(dialog.returnValue);
  });
}
const closeWith = (value) => () => dialog.close(value);
const buttons = (...b) => el("div", { class: "dialog-buttons" }, ...b);

function personChoice(p) {
  return el("figure", { class: "choice" },
    p.cover ? faceImg(p.cover, label(p)) : el("div", { class: "nocover", text: "no face" }),
    el("figcaption", { text: `${label(p)} · ${p.photos} photo${p.photos === 1 ? "" : "s"}` }));
}

// Resolves what was typed into a person id (exact name or Person_ID) or keeps it as a new name.
function resolvePerson(text) {
  const t = text.trim();
  const m = /^Person_(\d+)$/.exec(t);
  if (m && persons.has(Number(m[1]))) return { id: Number(m[1]) };
  for (const p of persons.values()) if (p.name === t) return { id: p.id };
  return { name: t };
}

function nameInput(id, labelText, except = null) {
  const list = el("datalist", { id: `${id}-list` });
  for (const p of persons.values()) if (p.id !== except) list.append(el("option", { value: label(p) }));
  const input = el("input", { id, type: "text", list: `${id}-list`, autocomplete: "off", required: true });
  return { input, node: el("label", { class: "field" }, el("span", { text: labelText }), input, list) };
}

// Merge two persons after a confirmation showing both; the one name is kept, two names: the user picks.
async function confirmMerge(keepId, otherId) {
  const keep = persons.get(keepId), other = persons.get(otherId);
  if (!keep || !other) throw new ApiError("One of these persons is gone: reload the page.");
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
  const name = both ? dialog.querySelector("input[name=keep-name]:checked").value : null;
  const r = await correct("merge", { persons: [String(keep.id), String(other.id)], name });
  say(`${label(other)} merged into ${r.name || label(keep)}. Undo reverts it.`);
  return r;
}

// Pick a person by name (autocomplete) or type a new name: the faces go there in one correction.
async function askAssign(faceIds, except) {
  const { input, node } = nameInput("assign-name", "Name (an existing person, or a new name)", except);
  const note = el("p", { class: "meta", id: "assign-note" });
  input.addEventListener("input", () => {
    const r = resolvePerson(input.value);
    note.textContent = input.value.trim() && r.name ? `Creates a new person named ${r.name}.` : "";
  });
  const form = el("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); if (input.value.trim()) dialog.close("ok"); } },
    node, note, buttons(el("button", { type: "button", onclick: closeWith("cancel"), text: "Cancel" }),
      el("button", { type: "submit", class: "primary", text: "Move" })));
  const answer = await openDialog(`Who ${faceIds.length === 1 ? "is this face" : `are these ${faceIds.length} faces`}?`, form);
  if (answer !== "ok") return null;
  return assignFaces(faceIds, resolvePerson(input.value));
}

async function assignFaces(faceIds, target) {
  const r = await correct("assign", { face_ids: faceIds, person: target.id !== undefined ? String(target.id) : target.name });
  const who = r.name || `Person_${r.person}`;
  say(`${r.faces.length} face${r.faces.length === 1 ? "" : "s"} moved to ${who}${r.created ? " (a new person)" : ""}.` +
    (r.warnings.length ? ` Note: ${r.warnings.join(" ")}` : ""), r.warnings.length ? "warn" : "");
  return r;
}

function showHelp() {
  const keys = [["?", "this list"], ["g p / g u / g s", "people, unknown faces, suggestions"], ["/", "filter people by name"],
    ["Tab, Enter", "move between and open people, faces, photos"], ["space", "select or unselect the focused face"],
    ["a", "move the selected (or focused) faces to a person, or a new name"], ["x", "not this person (the selected faces)"],
    ["s", "split the selected faces into a new person"], ["c", "make the focused face the cover"],
    ["m", "merge the focused (or shown) person with another"], ["u", "undo the last correction"],
    ["y / n / k", "in suggestions: yes, no, skip"], ["Esc", "close a dialog, clear the selection"]];
  openDialog("Keyboard shortcuts", el("dl", { class: "keys" }, ...keys.flatMap(([k, d]) => [el("dt", {}, el("kbd", { text: k })), el("dd", { text: d })])),
    buttons(el("button", { type: "button", class: "primary", onclick: closeWith("ok"), text: "Close" })));
}

// -- drag and drop (the mouse's way; each has a key and tap way as well) ---------------------------
function dropTarget(node, person, onFaces) {
  node.addEventListener("dragover", (e) => {
    if (e.dataTransfer.types.includes("application/x-clusterids")) { e.preventDefault(); node.classList.add("drop"); }
  });
  node.addEventListener("dragleave", () => node.classList.remove("drop"));
  node.addEventListener("drop", (e) => {
    node.classList.remove("drop");
    const raw = e.dataTransfer.getData("application/x-clusterids");
    if (!raw) return;
    e.preventDefault();
    e.stopPropagation();
    const item = JSON.parse(raw);
    act(async () => {
      if (item.faces) await onFaces(item.faces, person);
      else if (item.person !== undefined && item.person !== person.id && await confirmMerge(person.id, item.person)) {
        await route(true);
      }
    });
  });
}

// -- views -------------------------------------------------------------------------------------
const prefs = () => ({ hidden: sessionStorage.getItem("hidden") === "1", unnamed: sessionStorage.getItem("unnamed") !== "0",
  sort: sessionStorage.getItem("sort") || "photos", q: sessionStorage.getItem("q") || "" });

async function peopleView(alive) {
  const pr = prefs();
  const query = `hidden=${pr.hidden}&unnamed=${pr.unnamed}&sort=${pr.sort}&q=${encodeURIComponent(pr.q)}`;
  const [page] = await Promise.all([api(`/api/v1/people/page?${query}&limit=${PAGE}`), loadPersons()]);
  const grid = el("ul", { class: "grid", id: "people", "aria-label": "People" });
  const add = (people) => {
    for (const p of people) {
      const link = el("a", { href: `#/person/${p.id}`, class: "card person" + (p.hidden ? " hidden-person" : ""),
        "data-person": p.id, draggable: "true" },
        p.cover ? faceImg(p.cover, label(p)) : el("span", { class: "nocover", text: "no face" }),
        el("span", { class: "name", text: label(p) }),
        el("span", { class: "meta", text: `${p.photos} photo${p.photos === 1 ? "" : "s"}${p.hidden ? " · hidden" : ""}` }));
      link.addEventListener("dragstart", (e) => {
        e.dataTransfer.setData("application/x-clusterids", JSON.stringify({ person: p.id }));
        e.dataTransfer.effectAllowed = "move";
      });
      dropTarget(link, p, async (faces) => { await assignFaces(faces, { id: p.id }); await route(true); });
      grid.append(el("li", {}, link));
    }
  };
  add(page.people);
  let offset = page.people.length;
  const more = el("button", { type: "button", text: "Show more people", hidden: offset >= page.total, onclick: () => act(async () => {
    const next = await api(`/api/v1/people/page?${query}&offset=${offset}&limit=${PAGE}`);
    add(next.people);
    offset += next.people.length;
    more.hidden = offset >= next.total;
  }) });
  const set = (key, value) => { sessionStorage.setItem(key, value); route(true); };
  const filter = el("input", { type: "search", id: "filter", value: pr.q, placeholder: "Filter by name" });
  let timer = 0;
  filter.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(() => set("q", filter.value), 250); });
  const sort = el("select", { id: "sort", onchange: (e) => set("sort", e.target.value) },
    ...[["photos", "most photos"], ["name", "name"], ["newest", "newest photo"]].map(([v, t]) =>
      el("option", { value: v, text: t, selected: v === pr.sort })));
  const check = (id, key, on, text) => el("label", { class: "check" },
    el("input", { type: "checkbox", id, checked: on, onchange: (e) => set(key, e.target.checked ? "1" : "0") }), ` ${text}`);
  if (!alive()) return;
  document.title = "People · ClusterIdentities";
  view.replaceChildren(
    el("h1", { text: `People (${page.total})` }),
    el("div", { class: "toolbar" },
      el("label", { class: "field inline" }, el("span", { class: "visually-hidden", text: "Filter by name" }), filter),
      el("label", { class: "field inline" }, el("span", { text: "Sort by" }), sort),
      check("show-hidden", "hidden", pr.hidden, "hidden"), check("show-unnamed", "unnamed", pr.unnamed, "unnamed"),
      el("a", { href: "#/unknown", text: `${page.unknown} unknown faces` })),
    el("p", { class: "meta hint", text: "Drag a person onto another to merge them, or focus one and press m." }),
    page.people.length ? grid : el("p", { class: "empty", text: pr.q ? `Nobody matches "${pr.q}".` : "No people yet: add photos, then recluster." }),
    more);
  const typing = document.activeElement && document.activeElement.id === "filter" ? document.activeElement.value : null;
  if (typing !== null) {  // keep what was typed while this page loaded, and the focus
    filter.value = typing;
    filter.focus();
    filter.setSelectionRange(typing.length, typing.length);
  }
}

async function personView(id, alive) {
  const unknown = id === "unknown";
  const source = `/api/v1/people/person?person=${unknown ? "unknown" : encodeURIComponent(id)}`;
  const [data] = await Promise.all([api(`${source}&limit=${FACE_PAGE}`), loadPersons()]);
  const me = unknown ? null : (persons.get(data.id) || { id: data.id, name: data.name, photos: 0 });
  const selected = new Set();
  let total = data.total_faces;
  const faces = el("ul", { class: "faces", id: "faces", "aria-label": unknown ? "Unknown faces" : `Faces of ${label(data)}` });
  const title = el("h1", {});
  const countLine = el("p", { class: "meta", id: "face-count" });
  const selBar = el("div", { class: "selbar", id: "selbar", hidden: true });
  const selCount = el("span", { id: "sel-count" });
  const refresh = () => {
    countLine.textContent = `${total} face${total === 1 ? "" : "s"}` + (unknown ? "" : ` in ${data.total_photos} photos`);
    selBar.hidden = selected.size === 0;
    selCount.textContent = `${selected.size} selected`;
  };
  const toggle = (fid, box, on = !selected.has(fid)) => {
    on ? selected.add(fid) : selected.delete(fid);
    box.classList.toggle("selected", on);
    box.querySelector(".pick").setAttribute("aria-pressed", String(on));
    refresh();
  };
  // A correction done here removes the faces in place: no redraw, the scroll stays where it was.
  const removeFaces = (ids) => {
    for (const fid of ids) {
      const box = faces.querySelector(`[data-face='${fid}']`);
      if (box) box.parentElement.remove();
      selected.delete(fid);
      total -= 1;
    }
    refresh();
  };
  const chosen = (fallback) => (selected.size ? [...selected] : fallback !== undefined ? [fallback] : []);
  const moveTo = async (ids, target) => {
    if (!ids.length) return say("Select faces first (click, tap or space).", "error");
    const r = target ? await assignFaces(ids, target) : await askAssign(ids, me && me.id);
    if (r && r.person !== (me && me.id)) removeFaces(r.faces);
  };
  const reject = async (ids) => {
    if (!ids.length) return say("Select faces first (click, tap or space).", "error");
    await correct("reject", { face_ids: ids, person: String(data.id) });  // one correction, one undo
    removeFaces(ids);
    say(`${ids.length} face${ids.length === 1 ? "" : "s"} marked as not ${label(data)}.`);
  };
  const split = async () => {
    if (!selected.size) return say("Select faces first (click, tap or space).", "error");
    const ids = [...selected];
    const r = await correct("split", { person: String(data.id), face_ids: ids, photos: [] });
    removeFaces(ids);
    say(`${ids.length} face${ids.length === 1 ? "" : "s"} split into the new Person_${r.new}.`);
  };
  const setCover = async (fid) => {
    await correct("cover", { person: String(data.id), face: fid });
    faces.querySelectorAll(".face.cover").forEach((n) => n.classList.remove("cover"));
    const box = faces.querySelector(`[data-face='${fid}']`);
    if (box) box.classList.add("cover");
    say(`Face ${fid} is now ${label(data)}'s cover.`);
  };
  const faceBox = (f) => {
    const alt = unknown ? `unknown face ${f.id}` : `${label(data)}, face ${f.id}`;
    const pick = el("button", { type: "button", class: "pick", "aria-pressed": "false", "aria-label": `select ${alt}` },
      faceImg(f.id, ""));
    const box = el("div", { class: "face" + (f.id === data.cover ? " cover" : ""), "data-face": f.id, draggable: "true" }, pick);
    pick.addEventListener("click", () => toggle(f.id, box));
    pick.addEventListener("keydown", (e) => {
      if (e.key === "a") { e.preventDefault(); act(() => moveTo(chosen(f.id))); }
      else if (e.key === "x" && !unknown) { e.preventDefault(); act(() => reject(chosen(f.id))); }
      else if (e.key === "c" && !unknown) { e.preventDefault(); act(() => setCover(f.id)); }
    });
    box.addEventListener("dragstart", (e) => {
      e.dataTransfer.setData("application/x-clusterids", JSON.stringify({ faces: selected.has(f.id) ? [...selected] : [f.id] }));
    });
    const tools = el("div", { class: "actions" },
      el("a", { href: `#/photo/${f.photo}`, class: "small", text: "Photo", "aria-label": `the photo of face ${f.id}` }));
    if (!unknown) {
      tools.append(el("button", { type: "button", class: "danger not-this small", text: "Not them",
        "aria-label": `face ${f.id} is not ${label(data)}`, onclick: () => act(() => reject([f.id])) }));
    }
    box.append(tools);
    return el("li", {}, box);
  };
  data.faces.forEach((f) => faces.append(faceBox(f)));
  let shown = data.faces.length;
  const loadMore = () => act(async () => {
    if (moreFaces.hidden || moreFaces.disabled) return;
    moreFaces.disabled = true;
    const next = await api(`${source}&offset=${shown}&limit=${FACE_PAGE}`);
    next.faces.forEach((f) => faces.append(faceBox(f)));
    shown += next.faces.length;
    moreFaces.hidden = shown >= next.total_faces;
    moreFaces.disabled = false;
  });
  const moreFaces = el("button", { type: "button", id: "more-faces", text: "Show more faces", hidden: shown >= total, onclick: loadMore });
  new IntersectionObserver((es) => { if (es.some((e) => e.isIntersecting)) loadMore(); }, { rootMargin: "600px" }).observe(moreFaces);

  selBar.append(...[selCount,
    el("button", { type: "button", id: "move-selected", text: "Move to…", onclick: () => act(() => moveTo(chosen())) }),
    unknown ? null : el("button", { type: "button", id: "split", text: "Split into a new person", onclick: () => act(split) }),
    unknown ? null : el("button", { type: "button", id: "cover-selected", text: "Use as cover", onclick: () => act(async () => {
      if (selected.size !== 1) return say("Select exactly one face to use as the cover.", "error");
      await setCover([...selected][0]);
    }) }),
    unknown ? null : el("button", { type: "button", id: "reject-selected", class: "danger", text: "Not them", onclick: () => act(() => reject(chosen())) }),
    el("button", { type: "button", text: "Clear", onclick: () => {
      for (const fid of [...selected]) toggle(fid, faces.querySelector(`[data-face='${fid}']`), false);
    } })].filter((c) => c !== null));  // append() would write a null as the text "null"

  let download = null;
  if (unknown) {
    title.append(`Unknown faces (${data.total_faces})`);
  } else {
    const name = el("input", { class: "rename", id: "rename", value: data.name || "", placeholder: `Person_${data.id}` });
    name.addEventListener("keydown", (e) => {
      // Enter's own key events must not reach the dialog that the rename may open
      if (e.key === "Enter") { e.preventDefault(); setTimeout(() => name.blur(), 0); }
      if (e.key === "Escape") { name.value = data.name || ""; name.blur(); }
    });
    name.addEventListener("change", () => act(() => renameTo(data, name)));
    title.append(el("label", { class: "visually-hidden", for: "rename", text: "Name" }), name);
    download = data.has_album
      ? el("a", { class: "button", id: "download-person", href: `/api/v1/albums.zip?person=${data.id}`, text: "Download album" })
      : el("span", { class: "meta", id: "no-album", text: "Hidden people have no album: unhide to download it." });
  }
  const toolbar = el("div", { class: "toolbar" },
    unknown ? null : el("button", { type: "button", id: "hide", text: data.hidden ? "Unhide" : "Hide", onclick: () => act(async () => {
      await correct(data.hidden ? "unhide" : "hide", { person: String(data.id) });
      say(data.hidden ? `${label(data)} is shown again.` : `${label(data)} is hidden.`);
      await route(true);
    }) }),
    unknown ? null : el("button", { type: "button", id: "merge-with", text: "Merge with…", onclick: () => act(() => askMerge(data.id)) }),
    unknown ? null : el("a", { class: "button", href: `#/suggestions/${data.id}`, id: "suggest-person", text: "Suggestions" }),
    download);
  const side = el("aside", { "aria-label": "Move selected faces to" }, el("h2", { text: "Move to" }),
    el("p", { class: "meta", text: "Drop faces here, or select faces and choose a person." }));
  for (const p of persons.values()) {
    if (me && p.id === me.id) continue;
    if (p.hidden) continue;
    const t = el("button", { type: "button", class: "target", "data-person": p.id, text: `${label(p)} (${p.photos})`,
      onclick: () => act(() => moveTo(chosen(), { id: p.id })) });
    dropTarget(t, p, (ids) => moveTo(ids, { id: p.id }));
    side.append(t);
  }
  const photos = unknown ? null : timeline(data);
  if (!alive()) return;
  document.title = `${unknown ? "Unknown faces" : label(data)} · ClusterIdentities`;
  refresh();
  view.replaceChildren(el("div", { class: "layout" },
    el("div", { class: "main" }, title, toolbar, countLine, selBar, faces, moreFaces, photos), side));
}

async function renameTo(data, input) {
  const value = input.value.trim();
  if (value === (data.name || "")) return;
  const clash = [...persons.values()].find((p) => p.name === value && p.id !== data.id);
  if (clash) {
    // the name is someone else's: the same person, most likely, so offer the merge
    const r = await confirmMerge(clash.id, data.id);
    if (r) location.hash = `#/person/${clash.id}`;
    else input.value = data.name || "";
    return;
  }
  const r = await correct("rename", { person: String(data.id), name: value });
  data.name = r.name;
  persons.set(data.id, { ...persons.get(data.id), name: r.name });
  say(r.name ? `Renamed to ${r.name}.` : `The name is removed: this is Person_${data.id} again.`);
  document.title = `${label(data)} · ClusterIdentities`;
}

async function askMerge(id) {
  const { input, node } = nameInput("merge-name", "Merge with (a person's name)", id);
  const form = el("form", { method: "dialog", onsubmit: (e) => { e.preventDefault(); dialog.close("ok"); } }, node,
    buttons(el("button", { type: "button", onclick: closeWith("cancel"), text: "Cancel" }),
      el("button", { type: "submit", class: "primary", text: "Next" })));
  if (await openDialog(`Merge ${label(persons.get(id) || { id })} with…`, form) !== "ok") return;
  const other = resolvePerson(input.value);
  if (other.id === undefined) return say(`There is no person named ${other.name}.`, "error");
  if (await confirmMerge(id, other.id)) await route(true);
}

function timeline(data) {
  const box = el("section", { id: "timeline", "aria-label": "Photos by date taken" }, el("h2", { text: `Photos (${data.total_photos})` }));
  let group = null, current = null;
  for (const ph of data.photos) {
    const key = ph.taken ? ph.taken.slice(0, 7).replace(":", "-") : "Date unknown";
    if (key !== current) {
      current = key;
      box.append(el("h3", { text: key === "Date unknown" ? key : monthName(key) }));
      group = el("ul", { class: "photos" });
      box.append(group);
    }
    group.append(el("li", {}, el("a", { href: `#/photo/${ph.id}`, class: "photo-link" },
      el("img", { src: `/api/v1/photos/${ph.id}.jpg`, loading: "lazy", alt: `photo of ${label(data)}${ph.taken ? ", " + ph.taken : ""}` }))));
  }
  if (data.total_photos > data.photos.length) box.append(el("p", { class: "meta", text: `The newest ${data.photos.length} are shown.` }));
  return box;
}

function monthName(key) {
  const [y, m] = key.split("-").map(Number);
  if (!y || !m) return key;
  return new Date(Date.UTC(y, m - 1, 1)).toLocaleDateString("en", { year: "numeric", month: "long", timeZone: "UTC" });
}

async function photoView(id, alive) {
  const [data] = await Promise.all([api(`/api/v1/photos/view?photo=${encodeURIComponent(id)}`), loadPersons()]);
  const frame = el("div", { class: "viewer", id: "viewer" },
    el("img", { src: `/api/v1/photos/${data.id}.jpg?size=large`, alt: `${data.name}, ${data.faces.length} faces` }));
  for (const f of data.faces) {
    const [x1, y1, x2, y2] = f.bbox;
    const who = f.name || "unknown";
    const b = el("button", { type: "button", class: "box" + (f.person ? "" : " unknown"), "data-face": f.id,
      style: `left:${(100 * x1) / data.width}%;top:${(100 * y1) / data.height}%;width:${(100 * (x2 - x1)) / data.width}%;height:${(100 * (y2 - y1)) / data.height}%`,
      "aria-label": `${who}: choose who this face is`, onclick: () => act(async () => {
        if (await askAssign([f.id], f.person)) await route(true);
      }) }, el("span", { class: "tag", text: who }));
    frame.append(b);
  }
  if (!alive()) return;
  document.title = `${data.name} · ClusterIdentities`;
  view.replaceChildren(el("h1", { text: data.name }),
    el("p", { class: "meta", text: `${data.taken ? "Taken " + data.taken + " · " : ""}${data.faces.length} faces. Choose a box to say who it is.` }),
    frame,
    el("ul", { class: "who" }, ...data.faces.map((f) => el("li", {}, f.person
      ? el("a", { href: `#/person/${f.person}`, text: f.name }) : el("span", { text: `unknown face ${f.id}` })))));
}

// The suggestions queue: one question at a time, one key per answer.
async function suggestionsView(personId, alive) {
  const q = personId ? { person: String(personId) } : {};
  const [data] = await Promise.all([op("people/suggest", q), loadPersons()]);
  const skipped = new Set(JSON.parse(sessionStorage.getItem("skipped") || "[]"));
  const questions = [
    ...data.faces.map((f) => ({ key: `f${f.face}-${f.person}`, face: f })),
    ...data.merges.map((m) => ({ key: `m${m.persons.join("-")}`, merge: m })),
  ].filter((x) => !skipped.has(x.key));
  const box = el("section", { id: "queue", "aria-live": "polite" });
  const skip = (item) => { skipped.add(item.key); sessionStorage.setItem("skipped", JSON.stringify([...skipped])); };
  const show = () => {
    const item = questions.shift();
    if (!item) {
      box.replaceChildren(el("p", { class: "empty", id: "queue-done", text: "No more questions for now." }));
      return;
    }
    const answer = async (kind) => {
      if (item.face) {
        const f = item.face;
        if (kind === "yes") await assignFaces([f.face], { id: f.person });
        else if (kind === "no") { await correct("reject", { face_ids: [f.face], person: String(f.person) }); say(`Face ${f.face} is not ${f.name || "Person_" + f.person}.`); }
        else skip(item);
      } else {
        const [a, b] = item.merge.persons;
        if (kind === "yes") { if (!(await confirmMerge(a, b))) return; }
        else if (kind === "no") { await correct("keep_apart", { persons: [String(a), String(b)] }); say("Kept apart: this pair is not asked again."); }
        else skip(item);
      }
      show();
    };
    const btn = (kind, text, key) => el("button", { type: "button", class: kind === "yes" ? "primary" : "", id: `answer-${kind}`,
      onclick: () => act(() => answer(kind)) }, text, el("kbd", { text: key }));
    let question;
    if (item.face) {
      const f = item.face;
      const p = persons.get(f.person) || { id: f.person, name: f.name };
      question = el("div", { class: "question", "data-face": f.face },
        el("h2", { text: `Is this ${label(p)}?` }),
        el("div", { class: "pair" }, el("figure", { class: "choice" }, faceImg(f.face, `unknown face ${f.face}`),
          el("figcaption", { text: "this face" })), personChoice(p)),
        el("div", { class: "dialog-buttons" }, btn("yes", "Yes ", "y"), btn("no", "No ", "n"), btn("skip", "Skip ", "k")));
    } else {
      const [a, b] = item.merge.persons.map((pid) => persons.get(pid) || { id: pid, photos: 0 });
      question = el("div", { class: "question", "data-pair": item.merge.persons.join("-") },
        el("h2", { text: `Are ${label(a)} and ${label(b)} the same person?` }),
        el("div", { class: "pair" }, personChoice(a), personChoice(b)),
        el("div", { class: "dialog-buttons" }, btn("yes", "Same, merge ", "y"), btn("no", "Keep apart ", "n"), btn("skip", "Skip ", "k")));
    }
    question.addEventListener("keydown", (e) => {
      const kind = { y: "yes", n: "no", k: "skip" }[e.key];
      if (kind && !dialog.open) { e.preventDefault(); act(() => answer(kind)); }
    });
    box.replaceChildren(question);
    question.tabIndex = -1;
    question.focus();
  };
  if (!alive()) return;
  const who = personId ? persons.get(Number(personId)) : null;
  document.title = "Suggestions · ClusterIdentities";
  view.replaceChildren(el("h1", { text: who ? `Suggestions for ${label(who)}` : "Suggestions" }),
    el("p", { class: "meta", text: who ? "Unknown faces that may be this person, then persons that may be one. Answer with y, n or k."
      : "Persons whose faces are alike. Open a person's page for faces that may be them. Answer with y, n or k." }),
    box);
  show();
}

function searchView(n) {
  const saved = JSON.parse(sessionStorage.getItem(`search-${n}`) || "null");
  if (!saved) throw new ApiError("These search results are gone: search by the photo again.");
  const list = el("div", { class: "results", id: "search-results" }, el("h1", { text: `Who is in ${saved.name}` }));
  if (!saved.faces.length) list.append(el("p", { class: "empty", text: "No face found in this photo." }));
  saved.faces.forEach((f, i) => {
    const who = f.matches.length
      ? f.matches.map((m) => el("div", { class: "match" }, el("a", { href: `#/person/${m.person}`, text: m.name || `Person_${m.person}` }),
          ` (similarity ${m.similarity.toFixed(2)})`))
      : [el("div", { class: "match", text: "nobody known" })];
    list.append(el("h2", { text: `Face ${i + 1}` }), ...who);
  });
  document.title = `Search: ${saved.name} · ClusterIdentities`;
  view.replaceChildren(list);
}

// Only the latest navigation may draw: an older one still waiting on the API must not.
let routeSeq = 0;
let keepStatus = false;

async function route(keep = false) {
  const mine = ++routeSeq;
  const alive = () => mine === routeSeq;
  const [hash, query] = (location.hash || "#/").split("?");
  if (!keep && !keepStatus) say("");
  keepStatus = false;
  const scroll = keep ? window.scrollY : 0;
  try {
    if (hash === "#/login-expired") {
      say("That login link was used already or has expired: run 'clusterids ui' again if this page asks you to log in.", "warn");
      history.replaceState(null, "", "#/");
      keepStatus = true;
      return route();
    }
    if (query === "error=no-album") say("This person has no album to download: hidden people have none; unhide them first.", "error");
    if (hash.startsWith("#/person/")) await personView(decodeURIComponent(hash.slice(9)), alive);
    else if (hash === "#/unknown") await personView("unknown", alive);
    else if (hash.startsWith("#/photo/")) await photoView(hash.slice(8), alive);
    else if (hash === "#/suggestions") await suggestionsView(null, alive);
    else if (hash.startsWith("#/suggestions/")) await suggestionsView(hash.slice(14), alive);
    else if (hash.startsWith("#/search/")) searchView(hash.slice(9));
    else await peopleView(alive);
    if (alive() && keep) window.scrollTo(0, scroll);
    if (alive() && !keep && !view.contains(document.activeElement)) view.focus({ preventScroll: true });
  } catch (e) {
    if (!alive()) return;
    const text = e instanceof ApiError ? e.message : `Something went wrong: ${e.message}`;
    document.title = "Error · ClusterIdentities";
    view.replaceChildren(el("h1", { text: "This page cannot be shown" }), el("p", { class: "error", id: "view-error", text }),
      el("p", {}, el("a", { href: "#/", id: "back-home", text: "Back to the people" })));
  }
}

// -- upload, search, undo ---------------------------------------------------------------------
function uploadFiles(files) {
  const list = [...files];
  if (!list.length) return;
  const bar = document.getElementById("progress");
  const form = new FormData();
  for (const f of list) form.append("files", f, f.name);
  const xhr = new XMLHttpRequest();
  xhr.open("POST", "/api/v1/upload");
  bar.hidden = false;
  say("");
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) {
      bar.querySelector(".bar").style.width = `${(100 * e.loaded) / e.total}%`;
      bar.querySelector(".label").textContent = `uploading ${list.length} photo(s): ${Math.round((100 * e.loaded) / e.total)}%`;
    }
  };
  xhr.onerror = () => { bar.hidden = true; say("The upload did not reach the daemon: nothing was added.", "error"); watchDaemon(); };
  xhr.onload = () => act(async () => {
    if (xhr.status !== 200) {
      bar.hidden = true;
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      throw new ApiError(`Nothing was added. ${sentence(body, `The upload was refused (HTTP ${xhr.status}).`)}`);
    }
    const saved = JSON.parse(xhr.responseText).saved;
    bar.querySelector(".label").textContent = "indexing…";
    const states = await waitIndexed(saved);
    bar.hidden = true;
    const failed = states.filter((s) => s.state === "failed");
    const ok = states.filter((s) => s.state === "ok");
    const waiting = states.filter((s) => s.state === "waiting");
    const parts = [];
    if (ok.length) parts.push(`${ok.length} photo${ok.length === 1 ? "" : "s"} added (${ok.reduce((n, s) => n + s.faces, 0)} faces).`);
    for (const f of failed) parts.push(`${f.name} could not be indexed: ${f.reason || "unreadable"}.`);
    if (waiting.length) parts.push(`${waiting.length} still waiting to be indexed.`);
    say(parts.join(" "), failed.length ? "error" : "");
    keepStatus = true;
    await route(true);
  });
  xhr.send(form);
}

async function waitIndexed(names) {
  const query = names.map((n) => `names=${encodeURIComponent(n)}`).join("&");
  let states = [];
  for (let i = 0; i < 600; i++) {
    states = await api(`/api/v1/photos/uploads?${query}`);
    if (!states.some((s) => s.state === "waiting")) return states;
    await new Promise((r) => setTimeout(r, 500));
  }
  return states;
}

async function searchPhoto(file) {
  const form = new FormData();
  form.append("file", file, file.name);
  say(`Looking for the faces in ${file.name}…`);
  const faces = await api("/api/v1/search", { method: "POST", body: form }).catch((e) => {
    throw new ApiError(`The search found nothing. ${e.message}`);
  });
  const n = Number(sessionStorage.getItem("searches") || "0") + 1;
  sessionStorage.setItem("searches", String(n));
  sessionStorage.setItem(`search-${n}`, JSON.stringify({ name: file.name, faces }));
  say("");
  location.hash = `#/search/${n}`;  // in history: Back returns here, People leaves
}

async function undo() {
  const r = await correct("undo", {});
  say(`Undone: ${r.undone}.`);
  keepStatus = true;
  await route(true);
}

document.getElementById("upload").addEventListener("change", (e) => {
  uploadFiles(e.target.files);
  e.target.value = "";  // the same file chosen again is a new choice
});
document.getElementById("search").addEventListener("change", (e) => {
  const file = e.target.files[0];
  e.target.value = "";
  if (file) act(() => searchPhoto(file));
});
document.getElementById("undo").addEventListener("click", () => act(undo));
document.getElementById("help").addEventListener("click", showHelp);
// On a phone the tools sit behind "More", so that the header stays one row.
const moreButton = document.getElementById("more");
moreButton.addEventListener("click", () => {
  const open = document.querySelector("header").classList.toggle("open");
  moreButton.setAttribute("aria-expanded", String(open));
});
document.getElementById("tools").addEventListener("click", () => {
  document.querySelector("header").classList.remove("open");
  moreButton.setAttribute("aria-expanded", "false");
});
const hint = document.getElementById("drop-hint");
window.addEventListener("dragover", (e) => {
  if (e.dataTransfer.types.includes("Files")) { e.preventDefault(); hint.hidden = false; }
});
window.addEventListener("dragleave", (e) => { if (!e.relatedTarget) hint.hidden = true; });
window.addEventListener("drop", (e) => {
  hint.hidden = true;
  if (e.dataTransfer.files.length) { e.preventDefault(); uploadFiles(e.dataTransfer.files); }
});

// Global keys; a key typed into a field stays the field's.
let pendingG = false;
document.addEventListener("keydown", (e) => {
  if (dialog.open || e.defaultPrevented || e.ctrlKey || e.metaKey || e.altKey) return;
  const t = e.target;
  if (t.closest && t.closest("input, textarea, select")) return;
  if (pendingG) {
    pendingG = false;
    const to = { p: "#/", u: "#/unknown", s: "#/suggestions" }[e.key];
    if (to) { e.preventDefault(); location.hash = to; }
    return;
  }
  if (e.key === "?") { e.preventDefault(); showHelp(); }
  else if (e.key === "g") pendingG = true;
  else if (e.key === "u") { e.preventDefault(); act(undo); }
  else if (e.key === "/") { const f = document.getElementById("filter"); if (f) { e.preventDefault(); f.focus(); } }
  else if (e.key === "m") {
    const card = t.closest && t.closest(".card.person");
    const here = /^#\/person\/(\d+)/.exec(location.hash);
    const id = card ? Number(card.dataset.person) : here ? Number(here[1]) : null;
    if (id !== null) { e.preventDefault(); act(() => askMerge(id)); }
  } else if (e.key === "s" && document.getElementById("split") && !document.getElementById("selbar").hidden) {
    e.preventDefault(); document.getElementById("split").click();
  } else if (e.key === "a" && document.getElementById("move-selected") && !document.getElementById("selbar").hidden) {
    e.preventDefault(); document.getElementById("move-selected").click();
  } else if (e.key === "Escape") {
    const clear = document.querySelector("#selbar button:last-child");
    if (clear) clear.click();
  }
});
window.addEventListener("hashchange", () => route());
route();
