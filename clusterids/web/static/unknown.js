// The faces in no person: select them, then move them to a person or a new name.
import * as api from "./api.js";
import { el, view } from "./dom.js";
import { faceGrid } from "./faces.js";
import { loadPersons } from "./state.js";

const FACE_PAGE = 120;

export async function unknownView(alive) {
  const [data] = await Promise.all([api.person("unknown", 0, FACE_PAGE), loadPersons()]);
  const title = el("h1", { id: "unknown-title", text: `Unknown faces (${data.total_faces})` });
  const grid = faceGrid(data, null, (n) => { title.textContent = `Unknown faces (${n})`; });
  if (!alive()) return;
  document.title = "Unknown faces · ClusterIdentities";
  view.replaceChildren(el("div", { class: "layout" },
    el("div", { class: "main" }, title, grid.countLine, grid.selBar,
      grid.faces, grid.moreFaces), grid.side));
}
