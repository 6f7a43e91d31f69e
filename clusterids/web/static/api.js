// The daemon's API: the only module that names a URL or sends a request. When the routes
// change, this file changes and nothing else. Every failure becomes one sentence (ApiError).

export class ApiError extends Error {}

const BASE = "/api/v1";
let onDown = () => {};

/** Called (once per outage) when the daemon stops answering; the page shows its banner. */
export function whenDown(fn) { onDown = fn; }

function sentence(body, fallback) {
  if (body && body.error) return `${body.error}${body.hint ? ": " + body.hint : ""}.`;
  return fallback;
}

async function request(path, options = {}) {
  let resp;
  try {
    resp = await fetch(BASE + path, { credentials: "same-origin", ...options });
  } catch (e) {
    onDown();
    throw new ApiError("The daemon is not answering, so nothing was changed: try again once it is back.");
  }
  if (resp.status === 401) throw new ApiError("You are not logged in: open the link that 'clusterids ui' prints.");
  const body = await resp.json().catch(() => null);
  if (resp.status >= 502 && resp.status <= 504) { onDown(); throw new ApiError("The daemon is not answering."); }
  if (!resp.ok) throw new ApiError(sentence(body, `The daemon refused this (HTTP ${resp.status}).`));
  return body;
}

const query = (params) => new URLSearchParams(Object.entries(params).filter(([, v]) => v !== undefined)).toString();

/** True when the daemon answers (any status below 500). */
export async function alive() {
  try {
    return (await fetch(`${BASE}/health`, { credentials: "same-origin" })).status < 500;
  } catch (e) {
    return false;
  }
}

// -- reads ---------------------------------------------------------------------------------------
export const people = ({ hidden, unnamed, sort, q, offset, limit }) =>
  request(`/people/page?${query({ hidden, unnamed, sort, q, offset, limit })}`);
/** A person's faces and photos by date (``id`` "unknown": the faces in no person). */
export const person = (id, offset = 0, limit) => request(`/people/person?${query({ person: String(id), offset, limit })}`);
/** The unknown faces: groups of lookalikes (largest first), then single faces from ``offset``. */
export const unknownGroups = (offset = 0, limit) => request(`/unknown/groups?${query({ offset, limit })}`);
/** The faces put aside (ignored, not a face), the newest faces first. */
export const ignoredFaces = (offset = 0, limit) => request(`/unknown/ignored?${query({ offset, limit })}`);
export const photo = (id) => request(`/photos/view?${query({ photo: String(id) })}`);
/** The questions likely answered yes (``limit`` of each kind at most, the daemon's own when left out). */
export const suggestions = (personId, limit) =>
  op("people/suggest", { ...(personId ? { person: String(personId) } : {}), ...(limit ? { limit } : {}) });
export const uploads = (names) => request(`/photos/uploads?${names.map((n) => `names=${encodeURIComponent(n)}`).join("&")}`);
export const history = (limit = 20) => request(`/people/history?${query({ limit })}`);

export const eventsUrl = `${BASE}/events`;
export const faceUrl = (id) => `${BASE}/faces/${id}.jpg`;
export const photoUrl = (id, large = false) => `${BASE}/photos/${id}.jpg${large ? "?size=large" : ""}`;
export const albumsZipUrl = (personId) => `${BASE}/albums.zip${personId === undefined ? "" : `?person=${personId}`}`;

/** Who is in a photo the user chose: per face, its box and the persons it may be. */
export const search = (file) => {
  const form = new FormData();
  form.append("file", file, file.name);
  return request("/search", { method: "POST", body: form });
};

/** Upload photos into the inbox; ``progress(fraction)`` while sending. Resolves to the saved names. */
export function upload(files, progress) {
  const form = new FormData();
  for (const f of files) form.append("files", f, f.name);
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();  // fetch() cannot report upload progress
    xhr.open("POST", `${BASE}/upload`);
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) progress(e.loaded / e.total); };
    xhr.onerror = () => {
      onDown();
      reject(new ApiError("The upload did not reach the daemon: nothing was added."));
    };
    xhr.onload = () => {
      let body = null;
      try { body = JSON.parse(xhr.responseText); } catch (e) { /* not JSON */ }
      if (xhr.status !== 200) {
        reject(new ApiError(`Nothing was added. ${sentence(body, `The upload was refused (HTTP ${xhr.status}).`)}`));
      } else resolve(body.saved);
    };
    xhr.send(form);
  });
}

// -- corrections: each is one journal entry, undone at once ----------------------------------------
// Every operation that changes something is a POST of its parameters to /api/v1/<controller>/<name>.
function op(name, args = {}) {
  return request(`/${name}`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(args) });
}
let lastCorrection = -Infinity;
/** When this page last made a correction (performance.now()): the page redraws after its own. */
export const ownChangeAt = () => lastCorrection;
const correct = (action, args = {}) =>
  op(`people/${action}`, args).finally(() => { lastCorrection = performance.now(); });

/** ``to`` is {id} of a person, or {name}: an existing name or a new person. */
export const assign = (faceIds, to) =>
  correct("assign", { face_ids: faceIds, person: to.id !== undefined ? String(to.id) : to.name });
export const reject = (faceIds, personId) => correct("reject", { face_ids: faceIds, person: String(personId) });
export const merge = (keepId, otherId, name = null) =>
  correct("merge", { persons: [String(keepId), String(otherId)], name });
export const split = (personId, faceIds) => correct("split", { person: String(personId), face_ids: faceIds, photos: [] });
export const cover = (personId, faceId) => correct("cover", { person: String(personId), face: faceId });
export const rename = (personId, name) => correct("rename", { person: String(personId), name });
/** ``date`` "YYYY-MM-DD", or "" for none: photos taken before it are not the person's. */
export const born = (personId, date) => correct("born", { person: String(personId), date });
export const hide = (personId, hidden) => correct(hidden ? "hide" : "unhide", { person: String(personId) });
export const keepApart = (a, b) => correct("keep_apart", { persons: [String(a), String(b)] });
export const undo = () => correct("undo");
/** A face the detector missed, marked by hand: ``box`` [x1, y1, x2, y2] in the photo's pixels as
 * shown; ``person`` an id (as a string) or a name, or null for an unknown face. One correction. */
export const markFace = (photoId, box, person) => correct("mark_face", { photo: String(photoId), box, person });
/** Put faces aside (a stranger, a crowd; ``notAFace``: no face at all), one correction. */
export const ignore = (faceIds, notAFace = false) => correct("ignore", { face_ids: faceIds, not_a_face: notAFace });
export const unignore = (faceIds) => correct("unignore", { face_ids: faceIds });
