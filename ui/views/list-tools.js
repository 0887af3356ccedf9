// The users list as a tool: its order (name, last active, sessions), the role filter, the
// count on every filter chip, and the sentence saying how many users match the search and
// the filters, above the list (the summary) and under it. All counts come from the server
// (`user_counts`), so they are of every matching user, not of the rows loaded.

import { $ } from "../lib/dom.js";
import { numbers, plural } from "../lib/format.js";
import { call, isOffline } from "../lib/ipc.js";
import { state } from "../lib/state.js";
import { showSelection } from "./selection.js";
import { userCount } from "./user-pages.js";

/** The search and filters the list shows, as the server takes them. */
export function listQuery() {
  return { q: state.query || null, status: state.filter || null, role: state.role || null };
}

/** Whether the list shows fewer than every user. */
export function narrowed() {
  return Boolean(state.query || state.filter || state.role);
}

const NOUNS = {
  "": ["user", "users"],
  admin: ["administrator", "administrators"],
  support: ["support user", "support users"],
  member: ["member", "members"],
};

/** "1,155 users", "3 online members", "1 deactivated administrator": what the list shows. */
function counted(n) {
  const [one, many] = NOUNS[state.role] ?? NOUNS[""];
  const kind = state.filter ? `${state.filter} ` : "";
  return `${numbers.format(n)} ${kind}${n === 1 ? one : many}`;
}

/** "1,155 users match “an”", or "3 online members" without a search. */
export function matchSentence(n) {
  if (!state.query) return counted(n);
  return `${counted(n)} ${n === 1 ? "matches" : "match"} “${state.query}”`;
}

/** The totals above the list, or how many match when the list is narrowed. */
export async function refreshSummary() {
  if (narrowed()) {
    await refreshCounts();
    return;
  }
  try {
    const s = await call("session_summary");
    $("summary").textContent =
      `${plural(s.users, "user", "users")} · ${numbers.format(s.online_users)} online · ` +
      `${plural(s.app_sessions, "app session", "app sessions")} · ${plural(s.web_sessions, "web session", "web sessions")}` +
      (s.deactivated_users ? ` · ${numbers.format(s.deactivated_users)} deactivated` : "");
  } catch (failure) {
    // Unreachable: the offline bar says so, and the last numbers stay, marked as stale.
    if (!isOffline(failure) || !$("summary").textContent) $("summary").textContent = failure.message;
  }
  refreshCounts();
}

/** Fetches the counts of the search and filters: on the chips, in the summary when the
 *  list is narrowed, and under the list. A newer search's counts win. */
export async function refreshCounts() {
  const asked = JSON.stringify(listQuery());
  let counts;
  try {
    counts = await call("user_counts", listQuery());
  } catch (failure) {
    // The chips keep their last numbers; the offline bar or the list's line says why.
    if (!isOffline(failure) && narrowed()) $("summary").textContent = failure.message;
    return;
  }
  if (asked !== JSON.stringify(listQuery())) return;
  state.counts = counts;
  for (const chip of document.querySelectorAll("#users-view .chip[data-filter]")) {
    const n = { "": counts.all, online: counts.online, deactivated: counts.deactivated }[chip.dataset.filter];
    chip.querySelector(".chip-count").textContent = numbers.format(n);
  }
  for (const chip of document.querySelectorAll("#users-view .chip[data-role]")) {
    const n = { "": counts.all_roles, admin: counts.admin, support: counts.support, member: counts.member }[chip.dataset.role];
    chip.querySelector(".chip-count").textContent = numbers.format(n);
  }
  if (narrowed()) {
    const online = state.filter === "online" ? "" : ` · ${numbers.format(counts.online)} online`;
    $("summary").textContent = `${matchSentence(counts.matching)}${state.filter || state.role ? "" : online}`;
  }
  // The line under the list names the new count too, once its rows are in.
  if (userCount() && !state.fresh && state.loadingFor === null) {
    $("users-status").textContent = listStatus(userCount(), state.done);
  }
  // "Select all N matching" names the new count.
  showSelection();
}

/** The line under the list: how many are shown of how many match, or why none are. */
export function listStatus(shown, done) {
  if (shown === 0) return state.query ? `No users match “${state.query}”.` : "No users to show.";
  const matching = state.counts?.matching;
  if (done) return narrowed() ? `${matchSentence(shown)}, all shown.` : `${plural(shown, "user", "users")} shown.`;
  if (matching === undefined) return "Scroll for more…";
  const of = narrowed() ? matchSentence(matching).replace(/ match(es)? “/, " matching “") : plural(matching, "user", "users");
  return `${numbers.format(shown)} of ${of} shown. Scroll for more…`;
}

/** The sort menu and the role chips; `reload` loads the list again from the top. */
export function wireListTools(reload) {
  $("sort").addEventListener("change", () => {
    state.sort = $("sort").value;
    reload();
  });
  for (const chip of document.querySelectorAll("#users-view .chip[data-role]")) {
    chip.addEventListener("click", () => {
      for (const other of document.querySelectorAll("#users-view .chip[data-role]")) other.setAttribute("aria-pressed", String(other === chip));
      state.role = chip.dataset.role;
      reload();
    });
  }
}
