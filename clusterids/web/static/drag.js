// Drag and drop, the mouse's way; each drag has a key and a tap way as well.
import { confirmMerge, keptFirst } from "./dialogs.js";
import { act } from "./dom.js";
import { redraw } from "./state.js";

const TYPE = "application/x-clusterids";

/** What a drag carries: {faces: [ids]} or {person: id}. */
export function dragItem(node, item) {
  node.addEventListener("dragstart", (e) => {
    e.dataTransfer.setData(TYPE, JSON.stringify(typeof item === "function" ? item() : item));
    e.dataTransfer.effectAllowed = "move";
  });
}

/** ``node`` takes faces (``onFaces(ids, person)``) and persons (a merge with ``person``, confirmed; kept as keptFirst says). */
export function dropTarget(node, person, onFaces) {
  node.addEventListener("dragover", (e) => {
    if (e.dataTransfer.types.includes(TYPE)) { e.preventDefault(); node.classList.add("drop"); }
  });
  node.addEventListener("dragleave", () => node.classList.remove("drop"));
  node.addEventListener("drop", (e) => {
    node.classList.remove("drop");
    const raw = e.dataTransfer.getData(TYPE);
    if (!raw) return;
    e.preventDefault();
    e.stopPropagation();
    const item = JSON.parse(raw);
    act(async () => {
      if (item.faces) await onFaces(item.faces, person);
      // whichever way the drag went, the named (else the larger) person is the one kept: its
      // page's address and its album must not vanish into an unnamed one's
      else if (item.person !== undefined && item.person !== person.id && await confirmMerge(...keptFirst(person.id, item.person))) {
        await redraw();
      }
    });
  });
}
