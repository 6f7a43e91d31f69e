// The faces in no person. First the groups of faces that resemble each other (largest first):
// one name names a whole group in one correction (one undo), "Ignore group" puts it aside; then
// the single faces, to select and move to a person or a new name, or to ignore.
import * as api from "./api.js";
import { assignFaces } from "./actions.js";
import { resolvePerson } from "./dialogs.js";
import { act, el, faceImg, say, view } from "./dom.js";
import { faceGrid } from "./faces.js";
import { loadPersons, persons, redraw } from "./state.js";
import { count, label } from "./words.js";

const FACE_PAGE = 120;
const GROUP_FACES = 12; // crops shown per group (its count says how many it has)

function namesList() {
  const list = el("datalist", { id: "group-names" });
  for (const p of persons.values()) if (!p.hidden) list.append(el("option", { value: label(p) }));
  return list;
}

function groupCard(g, n) {
  const ids = g.faces.map((f) => f.id);
  const input = el("input", { id: `group-name-${n}`, type: "text", list: "group-names", autocomplete: "off", required: true,
    class: "group-name" });
  const name = (e) => {
    e.preventDefault();
    const text = input.value.trim();
    if (!text) return say("Type a name first: an existing person, or a new name.", "error");
    act(async () => {
      await assignFaces(ids, resolvePerson(text)); // one correction: one undo brings the group back
      await loadPersons();
      await redraw(true);
    });
  };
  const ignore = () => act(async () => {
    const r = await api.ignore(ids);
    say(`${count(r.faces.length, "face")} of a group ignored. Undo brings them back.`);
    await redraw(true);
  });
  const shown = g.faces.slice(0, GROUP_FACES);
  return el("li", { class: "group", "data-faces": ids.join(",") },
    el("ul", { class: "group-faces", "aria-label": `Group ${n + 1}: ${count(ids.length, "face")}` },
      ...shown.map((f) => el("li", { "data-face": f.id }, el("a", { href: `#/photo/${f.photo}?from=unknown`, class: "photo-link",
        "aria-label": `Photo of face ${f.id}` }, faceImg(f.id, "", 64)))),
      ids.length > shown.length ? el("li", { class: "meta", text: `and ${ids.length - shown.length} more` }) : null),
    el("form", { class: "group-form", onsubmit: name },
      el("label", { class: "field", for: input.id }, el("span", { text: `Who are these ${ids.length} faces?` })), input,
      el("button", { type: "submit", class: "primary name-group", text: "Name this group" }),
      el("button", { type: "button", class: "ignore-group", text: "Ignore group", onclick: ignore })));
}

export async function unknownView(alive) {
  const [data] = await Promise.all([api.unknownGroups(0, FACE_PAGE), loadPersons()]);
  const grouped = data.groups.reduce((n, g) => n + g.faces.length, 0);
  const heading = (n) => `Unknown faces (${grouped + n})`;
  const title = el("h1", { id: "unknown-title", text: heading(data.total_singles) });
  const singles = { faces: data.singles, total_faces: data.total_singles };
  const grid = faceGrid(singles, null, (n) => { title.textContent = heading(n); }, {
    before: data.groups.flatMap((g) => g.faces.map((f) => f.photo)),  // the viewer's previous and next: groups first
    load: async (offset, limit) => {
      const next = await api.unknownGroups(offset, limit);
      return { faces: next.singles, total_faces: next.total_singles };
    },
    countText: (n) => count(grouped + n, "face") + (grouped ? `: ${count(data.groups.length, "group")} of lookalikes, ` +
      `${count(n, "single face")}` : ""),
  });
  const ignoredLink = el("a", { href: "#/ignored", id: "ignored-link", class: "textlink",
    text: data.ignored ? count(data.ignored, "ignored face") : "Ignored faces" });
  const groups = data.groups.length ? el("section", { id: "groups-section", "aria-labelledby": "groups-title" },
    el("h2", { id: "groups-title", text: `Faces that look alike (${count(data.groups.length, "group")})` }),
    el("p", { class: "meta", text: "Each group may be one person: one name names all its faces (Undo reverts it at once)." }),
    namesList(), el("ul", { class: "groups", id: "groups" }, ...data.groups.map(groupCard))) : null;
  const singlesTitle = data.groups.length && data.total_singles
    ? el("h2", { id: "singles-title", text: "Single faces" }) : null;
  // how a face gets its name is not on the face: said once, above them
  const howTo = data.total_singles ? [
    el("p", { class: "meta hint keys-hint", id: "unknown-how",
      text: "Select faces (click them, or space), then drag them onto a person or choose one under \u201cMove to\u201d; a new name makes a new person." }),
    el("p", { class: "meta hint touch-hint", id: "unknown-how-touch",
      text: "Tap faces to select them, then \u201cMove to\u2026\u201d gives them a person, or a new name." })] : [];
  if (!alive()) return;
  document.title = "Unknown faces · ClusterIdentities";
  view.replaceChildren(el("div", { class: "layout" },
    el("div", { class: "main" }, title, grid.countLine, ignoredLink, groups, singlesTitle, ...howTo, grid.selBar,
      grid.faces, grid.moreFaces), grid.side));
}
