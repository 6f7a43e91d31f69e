// ClusterIdentities web page: plain DOM, no framework, nothing fetched from the internet.
// Every text from the library goes in through textContent, never as HTML.
"use strict";

const view = document.getElementById("view");
const statusLine = document.getElementById("status");
const PAGE = 200;
const FACE_PAGE = 300;

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "class") node.className = v;
    else if (k === "text") node.textContent = v;
    else if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? "" : v);
  }
  for (const c of children) if (c) node.append(c);
  return node;
}

function say(text, error = false) {
  statusLine.textContent = text;
  statusLine.className = error ? "error" : "";
}

async function api(path, options = {}) {
  const resp = await fetch(path, { credentials: "same-origin", ...options });
  if (resp.status === 401) {
    say("Not logged in: open the link that 'clusterids ui' prints.", true);
    throw new Error("401");
  }
  const body = await resp.json().catch(() => ({}));
  if (!resp.ok) {
    say(`${body.error || resp.statusText}${body.hint ? ": " + body.hint : ""}`, true);
    throw new Error(body.error || resp.statusText);
  }
  return body;
}

const op = (name, args = {}) =>
  api(`/api/v1/ops/${name}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(args) });
const correct = async (action, args, message) => {
  await op("correct", { action, ...args });
  say(message);
  await route();
};
const label = (p) => p.name || `Person_${p.id}`;
const faceImg = (id) => el("img", { src: `/api/v1/ui/faces/${id}.jpg`, loading: "lazy", alt: `face ${id}`, draggable: "false" });

// -- drag and drop: faces and persons onto persons ---------------------------------------------
function draggable(node, payload) {
  node.setAttribute("draggable", "true");
  node.addEventListener("dragstart", (e) => {
    e.dataTransfer.setData("application/x-clusterids", JSON.stringify(payload));
    e.dataTransfer.effectAllowed = "move";
  });
}

function dropTarget(node, person) {
  node.addEventListener("dragover", (e) => {
    if (e.dataTransfer.types.includes("application/x-clusterids")) { e.preventDefault(); node.classList.add("drop"); }
  });
  node.addEventListener("dragleave", () => node.classList.remove("drop"));
  node.addEventListener("drop", async (e) => {
    node.classList.remove("drop");
    const raw = e.dataTransfer.getData("application/x-clusterids");
    if (!raw) return;
    e.preventDefault();
    e.stopPropagation();
    const item = JSON.parse(raw);
    if (item.face !== undefined) {
      const faces = item.faces || [item.face];
      for (const f of faces) await op("correct", { action: "assign", face_id: f, person: String(person.id) });
      say(`${faces.length} face(s) moved to ${label(person)}`);
      await route();
    } else if (item.person !== undefined && item.person !== person.id) {
      await correct("merge", { persons: [String(person.id), String(item.person)] },
        `Merged person ${item.person} into ${label(person)}`);
    }
  });
}

// -- views ------------------------------------------------------------------------------------
async function peopleView(alive) {
  const showHidden = sessionStorage.getItem("showHidden") === "1";
  const page = await api(`/api/v1/ui/people?hidden=${showHidden}&limit=${PAGE}`);
  const grid = el("div", { class: "grid", id: "people" });
  const add = (people) => {
    for (const p of people) {
      const open = () => { location.hash = `#/person/${p.id}`; };
      const card = el("div", { class: "card person" + (p.hidden ? " hidden-person" : ""), "data-person": p.id,
          tabindex: "0", role: "link", onclick: open, onkeydown: (e) => { if (e.key === "Enter") open(); } },
        p.cover ? faceImg(p.cover) : el("img", { alt: "" }),
        el("div", { class: "name", text: label(p) }),
        el("div", { class: "meta", text: `${p.photos} photo${p.photos === 1 ? "" : "s"}${p.hidden ? " · hidden" : ""}` }));
      draggable(card, { person: p.id });
      dropTarget(card, p);
      grid.append(card);
    }
  };
  add(page.people);
  let offset = page.people.length;
  const more = el("button", { text: "Show more", hidden: offset >= page.total, onclick: async () => {
    const next = await api(`/api/v1/ui/people?hidden=${showHidden}&offset=${offset}&limit=${PAGE}`);
    add(next.people);
    offset += next.people.length;
    more.hidden = offset >= next.total;
  } });
  const toggle = el("label", {}, el("input", { type: "checkbox", id: "show-hidden", checked: showHidden, onchange: (e) => {
    sessionStorage.setItem("showHidden", e.target.checked ? "1" : "0");
    route();
  } }), " show hidden people");
  if (!alive()) return;
  view.replaceChildren(
    el("h1", { text: `People (${page.total})` }),
    el("div", { class: "toolbar" }, toggle, el("a", { href: "#/unknown", text: `${page.unknown} unknown faces` }),
      el("span", { class: "meta", text: "Drag a person onto another to merge them." })),
    page.people.length ? grid : el("p", { class: "empty", text: "No people yet: add photos, then recluster." }),
    more);
}

async function sidebar(current) {
  const page = await api(`/api/v1/ui/people?limit=1000`);
  const aside = el("aside", {}, el("h2", { text: "Drop a face on a person" }));
  for (const p of page.people) {
    if (p.id === current) continue;
    const t = el("div", { class: "target", "data-person": p.id, text: `${label(p)} (${p.photos})` });
    dropTarget(t, p);
    aside.append(t);
  }
  return aside;
}

async function personView(id, alive) {
  const unknown = id === "unknown";
  const source = `/api/v1/ui/person/${unknown ? "unknown" : id}`;
  const data = await api(`${source}?limit=${FACE_PAGE}`);
  const selected = new Set();
  const faces = el("div", { class: "faces", id: "faces" });
  const addFaces = (list) => list.forEach((f) => faces.append(faceBox(f)));
  const faceBox = (f) => {
    const box = el("div", { class: "face", "data-face": f.id }, faceImg(f.id));
    const actions = el("div", { class: "actions" },
      el("label", {}, el("input", { type: "checkbox", class: "pick", onchange: (e) => {
        e.target.checked ? selected.add(f.id) : selected.delete(f.id);
        box.classList.toggle("selected", e.target.checked);
      } })));
    if (!unknown) {
      actions.append(el("button", { class: "danger not-this", title: "Not this person", text: "Not them",
        onclick: () => correct("reject", { face_id: f.id, person: String(data.id) }, `Face ${f.id} is not ${label(data)}`) }));
    }
    box.append(actions);
    box.addEventListener("dragstart", (e) => {
      const ids = selected.has(f.id) ? [...selected] : [f.id];
      e.dataTransfer.setData("application/x-clusterids", JSON.stringify({ face: f.id, faces: ids }));
    });
    box.setAttribute("draggable", "true");
    return box;
  };
  addFaces(data.faces);
  let shown = data.faces.length;
  const moreFaces = el("button", { id: "more-faces", text: "Show more faces", hidden: shown >= data.total_faces,
    onclick: async () => {
      const next = await api(`${source}?offset=${shown}&limit=${FACE_PAGE}`);
      addFaces(next.faces);
      shown += next.faces.length;
      moreFaces.hidden = shown >= next.total_faces;
    } });
  const title = el("h1", {});
  if (unknown) {
    title.append(`Unknown faces (${data.total_faces})`);
  } else {
    const name = el("input", { class: "rename", id: "rename", value: data.name || "", placeholder: `Person_${data.id}` });
    name.addEventListener("keydown", (e) => { if (e.key === "Enter") name.blur(); });
    name.addEventListener("change", () => name.value.trim() &&
      correct("rename", { person: String(data.id), name: name.value.trim() }, `Renamed to ${name.value.trim()}`));
    title.append(name,
      el("button", { id: "hide", text: data.hidden ? "Unhide" : "Hide",
        onclick: () => correct(data.hidden ? "unhide" : "hide", { person: String(data.id) }, data.hidden ? "Shown again" : "Hidden") }),
      el("a", { class: "button", id: "download-person", href: `/api/v1/ui/albums.zip?person=${data.id}`, text: "Download album" }));
  }
  const toolbar = el("div", { class: "toolbar" },
    unknown ? null : el("button", { id: "split", text: "Split selected into a new person", onclick: () => {
      if (!selected.size) return say("Select faces first.", true);
      correct("split", { person: String(data.id), face_ids: [...selected], photos: [] }, `${selected.size} faces split off`);
    } }),
    el("span", { class: "meta", text: "Drag faces (or the selected ones) onto a person on the right." }));
  const photos = el("div", { class: "photos" });
  for (const pid of data.photos) photos.append(el("img", { src: `/api/v1/ui/photos/${pid}.jpg`, loading: "lazy", alt: `photo ${pid}` }));
  const main = el("div", {}, title, toolbar, faces, moreFaces, unknown ? null : el("h2", { text: "Photos" }),
    unknown ? null : photos);
  const side = await sidebar(unknown ? null : data.id);
  if (!alive()) return;
  view.replaceChildren(el("div", { class: "layout" }, main, side));
}

// Only the latest navigation may draw: an older one still waiting on the API must not.
let routeSeq = 0;

async function route() {
  const mine = ++routeSeq;
  const alive = () => mine === routeSeq;
  const hash = location.hash || "#/";
  try {
    if (hash.startsWith("#/person/")) await personView(hash.slice(9), alive);
    else if (hash === "#/unknown") await personView("unknown", alive);
    else await peopleView(alive);
  } catch (e) {
    if (e.message !== "401") console.error(e);
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
  xhr.open("POST", "/api/v1/ui/upload");
  bar.hidden = false;
  xhr.upload.onprogress = (e) => {
    if (e.lengthComputable) {
      bar.querySelector(".bar").style.width = `${(100 * e.loaded) / e.total}%`;
      bar.querySelector(".label").textContent = `uploading ${list.length} photo(s): ${Math.round((100 * e.loaded) / e.total)}%`;
    }
  };
  xhr.onload = async () => {
    if (xhr.status !== 200) { bar.hidden = true; return say(`Upload failed: ${xhr.responseText}`, true); }
    bar.querySelector(".label").textContent = "indexing…";
    await waitIndexed();
    bar.hidden = true;
    say(`${list.length} photo(s) added`);
    route();
  };
  xhr.send(form);
}

async function waitIndexed() {
  for (let i = 0; i < 600; i++) {
    await new Promise((r) => setTimeout(r, 500));
    const s = await op("status");
    if (s.daemon && s.daemon.queue === 0 && i > 2) return;
  }
}

async function searchPhoto(file) {
  const mine = ++routeSeq;  // a navigation still loading must not draw over the results
  const form = new FormData();
  form.append("file", file, file.name);
  const faces = await api("/api/v1/ui/search", { method: "POST", body: form });
  const list = el("div", { class: "results", id: "search-results" }, el("h1", { text: `Who is in ${file.name}` }));
  if (!faces.length) list.append(el("p", { class: "empty", text: "No face found in this photo." }));
  faces.forEach((f, i) => {
    const who = f.matches.length
      ? f.matches.map((m) => el("div", { class: "match" }, el("a", { href: `#/person/${m.person}`, text: m.name || `Person_${m.person}` }),
          ` (similarity ${m.similarity.toFixed(2)})`))
      : [el("div", { class: "match", text: "nobody known" })];
    list.append(el("h2", { text: `Face ${i + 1}` }), ...who);
  });
  if (mine === routeSeq) view.replaceChildren(list);
}

document.getElementById("upload").addEventListener("change", (e) => uploadFiles(e.target.files));
document.getElementById("search").addEventListener("change", (e) => e.target.files[0] && searchPhoto(e.target.files[0]));
document.getElementById("undo").addEventListener("click", async () => {
  const r = await op("correct", { action: "undo" });
  say(`Undone: ${r.undone}`);
  route();
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
window.addEventListener("hashchange", route);
route();
