// Corrections with the words that report them: what moved where, what an undo undid, and the
// warning when a person now shows twice in one photo (with that photo).
import * as api from "./api.js";
import { el, say } from "./dom.js";
import { loadPersons, persons } from "./state.js";
import { count, label } from "./words.js";

/** The photos of ``faceIds`` where ``personId`` now shows more than once (the warning's subject). */
async function photosTwice(personId, faceIds) {
  const page = await api.person(personId, 0, 2000);
  const moved = new Set(faceIds);
  const mine = new Set(page.faces.filter((f) => moved.has(f.id)).map((f) => f.photo));
  const seen = new Map();
  for (const f of page.faces) if (mine.has(f.photo)) seen.set(f.photo, (seen.get(f.photo) || 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([photo]) => photo);
}

/** Move faces to ``target`` ({id} or {name}) in one correction, and say so. */
export async function assignFaces(faceIds, target) {
  const r = await api.assign(faceIds, target);
  const name = label({ id: r.person, name: r.name, label: r.label });
  const moved = `${count(r.faces.length, "face")} moved to ${name}${r.created ? " (a new person)" : ""}.`;
  // a key is no way back on a touch screen: the Undo button beside the line is
  const back = matchMedia("(hover: none) and (pointer: coarse)").matches ? " Undo takes it back." : " Undo (u) takes it back.";
  if (!r.warnings.length) {
    say(moved + back);
    return r;
  }
  const twice = await photosTwice(r.person, r.faces).catch(() => []);
  if (!twice.length) {
    say(`${moved} Note: ${r.warnings.join(" ")}${back}`, "warn");
    return r;
  }
  const where = twice.length === 1 ? "this photo" : count(twice.length, "photo");
  say(`${moved} ${name} now shows twice in ${where}: one of those faces may be someone else.${back}`, "warn",
    ...twice.slice(0, 4).map((pid) => el("a", { href: `#/photo/${pid}`, class: "warn-photo", "aria-label": `open photo ${pid}` },
      el("img", { src: api.photoUrl(pid), alt: "", height: 56 }))));
  return r;
}

/** What an undo undid, in words: each person as the persons read again after it call them (the
 * undo may have brought one back); one it took away (a person the correction made) as
 * ``correction``, the entry as it read before the undo, called them. */
function undoneWords(op, args, correction) {
  const faces = args.faces ? count(args.faces.length, "face") : "";
  const called = new Map(((correction && correction.persons) || []).map((p) => [p.id, p.label]));
  const who = (id) => (persons.has(id) ? label(persons.get(id)) : called.get(id) || label({ id }));
  switch (op) {
    case "assign": return `moving ${faces} to ${who(args.person)}`;
    case "reject": return `${faces} marked as not ${who(args.person)}`;
    case "merge": return `the merge of ${(args.persons || []).map(who).join(", ")} into ${who(args.into)}`;
    case "split": return `splitting ${faces} from ${who(args.person)} into a new person`;
    case "rename": return args.name ? `renaming ${who(args.person)} to ${args.name}` : `removing the name of ${who(args.person)}`;
    case "hide": return `hiding ${who(args.person)}`;
    case "born": return args.born ? `the birth date of ${who(args.person)}` : `removing the birth date of ${who(args.person)}`;
    case "unhide": return `showing ${who(args.person)} again`;
    case "ignore": return `ignoring ${faces}`;
    case "unignore": return `taking back ${faces}`;
    case "mark_face": return `marking face ${(args.faces || [])[0]} by hand`;
    default: return op.replace(/_/g, " ");
  }
}

export async function undoLast() {
  const r = await api.undo();
  await loadPersons();
  // the person shown may be one the undone correction made, and the undo took away: the
  // redraw that follows shows the people instead (no hashchange: it would clear what undo says)
  const shown = /^#\/person\/(\d+)/.exec(location.hash);
  if (shown && ((r.correction && r.correction.created) || []).includes(Number(shown[1]))) history.replaceState(null, "", "#/");
  say(`Undone: ${undoneWords(r.undone, r.args || {}, r.correction)}.`);
}
