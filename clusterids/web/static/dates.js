// Dates as people read them: "16 March 2006" in local time, never an ISO string. A date the
// server marks as estimated (taken_estimated: from XMP, the file name or the file's time) reads
// "about March 2006": the day of a copied file's time is rarely the day it was taken.

const DAY = new Intl.DateTimeFormat("en-GB", { day: "numeric", month: "long", year: "numeric" });
const MONTH = new Intl.DateTimeFormat("en-GB", { month: "long", year: "numeric" });

/** A Date from the server's text: a time without a zone is local time already (EXIF's), one
 * with a zone or Z is turned into local time. */
export function parseTaken(text) {
  if (!text) return null;
  const m = /^(\d{4})[-:](\d{2})[-:](\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?(.*)$/.exec(String(text).trim());
  if (!m) return null;
  const [, y, mo, d, h = "0", mi = "0", s = "0", zone] = m;
  const date = zone && /^(\.\d+)?(Z|[+-]\d{2}:?\d{2})$/.test(zone)
    ? new Date(String(text).trim().replace(" ", "T"))
    : new Date(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s));
  return Number.isNaN(date.getTime()) ? null : date;
}

/** "16 March 2006", "about March 2006", or "" without a date. */
export function dayText(taken, estimated = false) {
  const date = parseTaken(taken);
  if (!date) return "";
  return estimated ? `about ${MONTH.format(date)}` : DAY.format(date);
}

/** The heading of a month in a timeline: "March 2006", "about March 2006", "Date unknown". */
export function monthText(taken, estimated = false) {
  const date = parseTaken(taken);
  if (!date) return "Date unknown";
  return `${estimated ? "about " : ""}${MONTH.format(date)}`;
}
