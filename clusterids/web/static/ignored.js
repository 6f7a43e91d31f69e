// The faces put aside (ignored, or not a face at all), the newest faces first: each can be taken back
// ("Unignore": an unknown face again, which clustering may place), one by one or all shown at once.
import * as api from "./api.js";
import { act, el, faceImg, say, view } from "./dom.js";
import { count } from "./words.js";

const FACE_PAGE = 120;
const why = (reason) => (reason === "not_a_face" ? "not a face" : "ignored");

export async function ignoredView(alive) {
  const data = await api.ignoredFaces(0, FACE_PAGE);
  let total = data.total;
  const title = el("h1", { id: "ignored-title", text: `Ignored faces (${total})` });
  const faces = el("ul", { class: "faces", id: "ignored-faces", "aria-label": "Ignored faces" });
  const refresh = () => {
    title.textContent = `Ignored faces (${total})`;
    takeAll.hidden = !faces.children.length;
  };
  const gone = (ids) => {
    for (const id of ids) faces.querySelector(`[data-face='${id}']`)?.parentElement.remove();
    total -= ids.length;
    refresh();
  };
  const unignore = async (ids) => {
    const r = await api.unignore(ids); // one correction: one undo ignores them again
    gone(r.faces);
    say(`${count(r.faces.length, "face")} taken back: unknown again. Undo ignores ${r.faces.length === 1 ? "it" : "them"} again.`);
  };
  const card = (f) => el("li", {}, el("div", { class: "face", "data-face": f.id },
    el("a", { href: `#/photo/${f.photo}`, class: "photo-link", "aria-label": `Photo of face ${f.id} (${why(f.reason)})` },
      faceImg(f.id, "")),
    el("p", { class: "meta reason", text: why(f.reason) }),
    el("div", { class: "actions" }, el("button", { type: "button", class: "small unignore", text: "Unignore",
      "aria-label": `Unignore face ${f.id}`, onclick: () => act(() => unignore([f.id])) }))));
  const takeAll = el("button", { type: "button", id: "unignore-shown", text: "Unignore all shown",
    onclick: () => act(() => unignore([...faces.querySelectorAll(".face")].map((n) => Number(n.dataset.face)))) });
  faces.append(...data.faces.map(card));
  const more = el("button", { type: "button", id: "more-ignored", text: "Show more faces", hidden: data.faces.length >= total,
    onclick: () => act(async () => {
      const next = await api.ignoredFaces(faces.children.length, FACE_PAGE);
      faces.append(...next.faces.map(card));
      more.hidden = faces.children.length >= next.total;
    }) });
  if (!alive()) return;
  document.title = "Ignored faces · ClusterIdentities";
  refresh();
  view.replaceChildren(title,
    el("p", { class: "meta", text: "Faces put aside: never suggested, never in a person. Unignore makes a face unknown again." }),
    el("p", {}, el("a", { href: "#/unknown", class: "textlink", id: "back-unknown", text: "Back to the unknown faces" })),
    total ? el("div", { class: "toolbar" }, takeAll) : el("p", { class: "empty", id: "no-ignored", text: "No face is ignored." }),
    faces, more);
}
