// Search by a photo: who is in it. The photo stays in the browser (a reduced copy in the tab's
// session, for Back and reload): each face is shown as its crop and as its box on the photo.
import * as api from "./api.js";
import { el, say, view } from "./dom.js";
import { photoStage } from "./stage.js";
import { onLeave } from "./state.js";
import { count, label, likeness } from "./words.js";

const KEEP_PX = 1600;  // the longest side of the copy kept for the results
const photos = new Map();  // search number -> the reduced photo, when the session could not hold it

/** The photo as the browser shows it (EXIF orientation applied), reduced; null if it cannot decode it (HEIC). */
async function reduced(file) {
  const bitmap = await createImageBitmap(file, { imageOrientation: "from-image" }).catch(() => null);
  if (!bitmap) return null;
  const f = Math.min(1, KEEP_PX / Math.max(bitmap.width, bitmap.height));
  const c = el("canvas", { width: Math.round(bitmap.width * f), height: Math.round(bitmap.height * f) });
  c.getContext("2d").drawImage(bitmap, 0, 0, c.width, c.height);
  return { src: c.toDataURL("image/jpeg", 0.85), width: bitmap.width, height: bitmap.height };
}

export async function searchPhoto(file) {
  say(`Looking for the faces in ${file.name}…`);
  const [faces, photo] = await Promise.all([
    api.search(file).catch((e) => { throw new api.ApiError(`The search found nothing. ${e.message}`); }),
    reduced(file)]);
  const n = Number(sessionStorage.getItem("searches") || "0") + 1;
  sessionStorage.setItem("searches", String(n));
  const saved = { name: file.name, faces };
  try {
    sessionStorage.setItem(`search-${n}`, JSON.stringify({ ...saved, photo }));
  } catch (e) {  // the session's storage is full: the photo stays in memory, for this tab's life
    sessionStorage.setItem(`search-${n}`, JSON.stringify(saved));
    photos.set(n, photo);
  }
  say("");
  location.hash = `#/search/${n}`;  // in history: Back returns here, People leaves
}

/** A square crop around ``bbox`` (the photo's pixels) from the reduced copy. */
function crop(img, photo, bbox, side = 64) {
  const f = img.naturalWidth / photo.width;
  const [x1, y1, x2, y2] = bbox.map((v) => v * f);
  const size = 1.3 * Math.max(x2 - x1, y2 - y1);
  const c = el("canvas", { width: side * 2, height: side * 2, class: "crop", role: "img" });
  c.getContext("2d").drawImage(img, (x1 + x2) / 2 - size / 2, (y1 + y2) / 2 - size / 2, size, size, 0, 0, side * 2, side * 2);
  return c;
}

export function searchView(n, alive) {
  const saved = JSON.parse(sessionStorage.getItem(`search-${n}`) || "null");
  if (!saved) throw new api.ApiError("These search results are gone: search by the photo again.");
  const photo = saved.photo || photos.get(Number(n)) || null;
  const best = (f) => (f.matches.length ? label({ id: f.matches[0].person, name: f.matches[0].name, label: f.matches[0].label }) : "nobody known");
  const list = el("ol", { class: "results", id: "search-results", "aria-label": "Faces found" });
  const stage = photo ? photoStage({ src: photo.src, width: photo.width, height: photo.height, alt: saved.name,
    faces: saved.faces.map((f, i) => ({ id: i + 1, bbox: f.bbox, text: `${i + 1}: ${best(f)}`, known: f.matches.length > 0 })),
    onActive: (i) => list.querySelectorAll(".result").forEach((li) => li.classList.toggle("active", Number(li.dataset.face) === i)) })
    : null;
  const items = saved.faces.map((f, i) => {
    const who = f.matches.length
      ? f.matches.map((m) => el("div", { class: "match" }, el("a", { href: `#/person/${m.person}`, text: label({ id: m.person, name: m.name, label: m.label }) }),
        ` (${likeness(m.similarity)})`))
      : [el("div", { class: "match", text: "nobody known" })];
    const li = el("li", { class: "result", "data-face": i + 1 }, el("span", { class: "crop-slot" }), el("div", {}, el("h2", { text: `Face ${i + 1}` }), ...who));
    if (stage) {
      li.addEventListener("pointerenter", () => stage.activate(i + 1));
      li.addEventListener("focusin", () => stage.activate(i + 1));
    }
    return li;
  });
  list.append(...items);
  if (stage) {
    const img = stage.node.querySelector("img");
    const cut = () => saved.faces.forEach((f, i) => {
      const slot = items[i].querySelector(".crop-slot");
      slot.replaceChildren(Object.assign(crop(img, photo, f.bbox), { ariaLabel: `face ${i + 1}` }));
    });
    if (img.complete) cut(); else img.addEventListener("load", cut, { once: true });
  }
  if (!alive()) return stage && stage.close();
  if (stage) onLeave(() => stage.close());
  document.title = `Search: ${saved.name} · ClusterIdentities`;
  view.replaceChildren(el("h1", { text: `Who is in ${saved.name}` }),
    el("p", { class: "meta", text: saved.faces.length ? count(saved.faces.length, "face") + " found." : "No face found in this photo." }),
    stage ? stage.node : el("p", { class: "meta", text: "This browser cannot show the photo itself (HEIC, or gone after a reload)." }),
    list);
}
