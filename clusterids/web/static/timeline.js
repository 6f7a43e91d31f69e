// A person's photos by date taken, a heading per month.
import * as api from "./api.js";
import { dayText, monthText } from "./dates.js";
import { el } from "./dom.js";
import { remember } from "./lists.js";
import { count, label } from "./words.js";

export function timeline(data) {
  const box = el("section", { id: "timeline", "aria-labelledby": "timeline-title" },
    el("h2", { id: "timeline-title", text: `Photos (${data.total_photos})` }));
  let group = null, current = null;
  for (const ph of data.photos) {
    const key = monthText(ph.taken, ph.taken_estimated);
    if (key !== current) {
      current = key;
      box.append(el("h3", { text: key }));
      group = el("ul", { class: "photos" });
      box.append(group);
    }
    const when = dayText(ph.taken, ph.taken_estimated);
    group.append(el("li", {}, el("a", { href: `#/photo/${ph.id}?from=person/${data.id}`, class: "photo-link", id: `photo-link-${ph.id}` },
      el("img", { src: api.photoUrl(ph.id), loading: "lazy", alt: `photo of ${label(data)}${when ? ", " + when : ""}` }))));
  }
  remember(`person/${data.id}`, data.photos.map((p) => p.id));
  if (data.total_photos > data.photos.length) {
    box.append(el("p", { class: "meta", text: `The newest ${count(data.photos.length, "photo")} are shown.` }));
  }
  return box;
}
