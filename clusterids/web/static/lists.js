// The lists of photos a viewer can be opened from (a person's timeline or face grid, the unknown
// faces), so
// that previous and next walk the list the user was looking at. Kept for the tab's session, so
// a reload keeps them; a list not seen yet is read from the daemon.
import * as api from "./api.js";

const lists = new Map();

export function remember(key, photoIds) {
  lists.set(key, [...photoIds]);
  try { sessionStorage.setItem(`list:${key}`, JSON.stringify(photoIds)); } catch (e) { /* full: memory only */ }
}

async function load(key) {
  if (lists.has(key)) return lists.get(key);
  const saved = sessionStorage.getItem(`list:${key}`);
  if (saved) return JSON.parse(saved);
  const m = /^person\/(\d+)$/.exec(key);
  if (m) return (await api.person(m[1], 0, 120)).photos.map((p) => p.id);
  const f = /^faces\/(\d+)$/.exec(key);  // a person's face grid: its photos in the grid's order
  if (f) return [...new Set((await api.person(f[1], 0, 120)).faces.map((x) => x.photo))];
  if (key === "unknown") return [...new Set((await api.person("unknown", 0, 120)).faces.map((f) => f.photo))];
  return [];
}

/** Where ``photoId`` sits in the list ``key``: {index, total, prev, next} (ids or null). */
export async function around(key, photoId) {
  const ids = key ? await load(key).catch(() => []) : [];
  const i = ids.indexOf(photoId);
  if (i < 0) return { index: -1, total: ids.length, prev: null, next: null };
  return { index: i, total: ids.length, prev: i > 0 ? ids[i - 1] : null, next: i + 1 < ids.length ? ids[i + 1] : null };
}
