// Photos dropped or chosen go to the library's inbox; the page follows them until they are
// indexed and says who was found in them.
import * as api from "./api.js";
import { act, say, sleep } from "./dom.js";
import { redraw } from "./state.js";
import { count, listed } from "./words.js";

const bar = document.getElementById("progress");
const barLabel = bar.querySelector(".label");

async function indexed(names) {
  let states = [];
  for (let i = 0; i < 600; i++) {
    states = await api.uploads(names);
    if (!states.some((s) => s.state === "waiting")) return states;
    await sleep(500);
  }
  return states;
}

/** "Ann and Bob found, and 1 unknown face" from the photos' faces (when the daemon names the photos). */
async function found(ok) {
  const ids = ok.map((s) => s.photo).filter((id) => id !== undefined).slice(0, 50);
  if (ids.length < ok.length) return `${count(ok.reduce((n, s) => n + s.faces, 0), "face")} found.`;
  const photos = await Promise.all(ids.map((id) => api.photo(id).catch(() => ({ faces: [] }))));
  const names = new Set(), unknown = [];
  for (const p of photos) for (const f of p.faces) (f.person ? names.add(f.label || f.name) : unknown.push(f.id));
  const parts = [...names];
  if (unknown.length) parts.push(count(unknown.length, "unknown face"));
  return parts.length ? `Found: ${listed(parts)}.` : "No face was found in it.";
}

export function uploadFiles(files) {
  const list = [...files];
  if (!list.length) return;
  bar.hidden = false;
  say("");
  const what = count(list.length, "photo");
  act(async () => {
    try {
      const saved = await api.upload(list, (f) => {
        bar.querySelector(".bar").style.width = `${100 * f}%`;
        barLabel.textContent = `uploading ${what}: ${Math.round(100 * f)}%`;
      });
      barLabel.textContent = "indexing…";
      const states = await indexed(saved);
      const ok = states.filter((s) => s.state === "ok");
      const failed = states.filter((s) => s.state === "failed");
      const waiting = states.filter((s) => s.state === "waiting");
      const parts = [];
      if (ok.length) parts.push(`${count(ok.length, "photo")} added. ${await found(ok)}`);
      for (const f of failed) parts.push(`${f.name} could not be indexed: ${f.reason || "unreadable"}.`);
      if (waiting.length) parts.push(`${count(waiting.length, "photo")} still waiting to be indexed.`);
      say(parts.join(" "), failed.length ? "error" : "");
      await redraw();
    } finally {
      bar.hidden = true;
    }
  });
}
