// The suggestions queue: one question at a time, one key per answer (y, n, k).
import * as api from "./api.js";
import { assignFaces } from "./actions.js";
import { confirmMerge, keptFirst, mergeNow, personChoice, twoNames } from "./dialogs.js";
import { act, dialog, el, faceImg, say, view } from "./dom.js";
import { loadPersons, persons } from "./state.js";
import { label } from "./words.js";

const cap = (s) => (s ? s[0].toUpperCase() + s.slice(1) : "");

function skipped() {
  return new Set(JSON.parse(sessionStorage.getItem("skipped") || "[]"));
}

function question(item, answer) {
  // a merge is the answer that is hard to see through afterwards: no button is the default there
  const btn = (kind, text, key) => el("button", { type: "button", class: kind === "yes" && item.face ? "primary" : "", id: `answer-${kind}`,
    onclick: () => act(() => answer(kind)) }, text, el("kbd", { text: key }));
  let q;
  if (item.face) {
    const f = item.face;
    const p = persons.get(f.person) || { id: f.person, name: f.name };
    q = el("div", { class: "question", "data-face": f.face },
      el("h2", { text: `Is this ${label(p)}?` }),
      el("p", { class: "meta likelihood", text: `${cap(f.likelihood)} by the faces.` }),
      el("div", { class: "pair" }, el("figure", { class: "choice" }, faceImg(f.face, `unknown face ${f.face}`),
        el("figcaption", { text: "this face" })), personChoice(p)),
      el("div", { class: "dialog-buttons" }, btn("yes", "Yes ", "y"), btn("no", "No ", "n"), btn("skip", "Skip ", "k")));
  } else {
    const [a, b] = item.merge.persons.map((pid) => persons.get(pid) || { id: pid, photos: 0 });
    q = el("div", { class: "question", "data-pair": item.merge.persons.join("-") },
      el("h2", { text: `Are ${label(a)} and ${label(b)} the same person?` }),
      el("p", { class: "meta likelihood", text: `${cap(item.merge.likelihood)} by their faces.` }),
      el("div", { class: "pair" }, personChoice(a), personChoice(b)),
      el("div", { class: "dialog-buttons" }, btn("yes", "Same, merge ", "y"), btn("no", "Keep apart ", "n"), btn("skip", "Skip ", "k")));
  }
  q.addEventListener("keydown", (e) => {
    const kind = { y: "yes", n: "no", k: "skip" }[e.key];
    if (kind && !dialog.open) { e.preventDefault(); act(() => answer(kind)); }
  });
  q.tabIndex = -1;
  return q;
}

export async function suggestionsView(personId, alive) {
  const [data] = await Promise.all([api.suggestions(personId), loadPersons()]);
  const skip = skipped();
  const queue = [
    ...data.faces.map((f) => ({ key: `f${f.face}-${f.person}`, face: f })),
    ...data.merges.map((m) => ({ key: `m${m.persons.join("-")}`, merge: m })),
  ].filter((x) => !skip.has(x.key));
  const box = el("section", { id: "queue", "aria-live": "polite" });
  const later = (item) => { skip.add(item.key); sessionStorage.setItem("skipped", JSON.stringify([...skip])); };
  let asked = 0;
  const show = () => {
    const item = queue.shift();
    asked += item ? 1 : 0;
    if (!item) {
      box.replaceChildren(el("p", { class: "empty", id: "queue-done", text: asked ? "No more questions for now." : "Nothing to ask: no suggestion is likely enough to be right." }));
      return;
    }
    const answer = async (kind) => {
      if (item.face) {
        const f = item.face;
        if (kind === "yes") await assignFaces([f.face], { id: f.person });
        else if (kind === "no") {
          await api.reject([f.face], f.person);
          say(`This face is not ${label(persons.get(f.person) || { id: f.person, name: f.name })}. Undo reverts it.`);
        } else later(item);
      } else {
        const [a, b] = item.merge.persons;
        // "Same, merge" is the answer: done at once (Undo takes it back); only two names need a choice
        if (kind === "yes") {
          if (!(await (twoNames(a, b) ? confirmMerge : mergeNow)(...keptFirst(a, b)))) return;
        } else if (kind === "no") { await api.keepApart(a, b); say("Kept apart: this pair is not asked again."); }
        else later(item);
      }
      show();
    };
    const q = question(item, answer);
    box.replaceChildren(q);
    q.focus();
  };
  if (!alive()) return;
  const who = personId ? persons.get(Number(personId)) : null;
  document.title = "Suggestions · ClusterIdentities";
  const what = who ? "Unknown faces that are likely this person, then persons that are likely one."
    : "Unknown faces that are likely someone, then persons that are likely one. Only likely questions are asked.";
  view.replaceChildren(el("h1", { text: who ? `Suggestions for ${label(who)}` : "Suggestions" }),
    el("p", { class: "meta" }, what, el("span", { class: "keys-hint", text: " Answer with y, n or k." })), box);
  show();
}
