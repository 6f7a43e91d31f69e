// The page's words: counts with the right plural, names of persons, lists in a sentence.

const PLURALS = { person: "persons" };

/** "1 photo", "2 photos", "0 photos". */
export function count(n, word, many = PLURALS[word] || `${word}s`) {
  return `${n} ${n === 1 ? word : many}`;
}

/** A person's label: the server's when it sends one, else the name, else Person_ID. */
export const label = (p) => (p && (p.label || p.name)) || `Person_${p && p.id}`;

/** What two names that are the same to a person share, as the server compares them (store/rows.py
 * name_key): case, Unicode forms and spacing aside ("diana  KRALL" is "Diana Krall"). */
export const nameKey = (name) => (name || "").normalize("NFKC").toLowerCase().split(/\s+/).filter(Boolean).join(" ");

/** "Ann", "Ann and Bob", "Ann, Bob and Carl". */
export function listed(items) {
  if (items.length <= 1) return items.join("");
  return `${items.slice(0, -1).join(", ")} and ${items[items.length - 1]}`;
}

/** How alike two faces are, in words (the figure stays for those who want it). */
export function likeness(similarity) {
  const word = similarity >= 0.7 ? "very likely" : similarity >= 0.55 ? "likely" : "maybe";
  return `${word}, similarity ${similarity.toFixed(2)}`;
}
