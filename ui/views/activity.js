// Activity: the audit log as a tool. Which entries: administrators' actions (the default),
// sign-ins, or both; narrowed by who acted, to whom, which action and a date range, all
// applied by the server (keyset pages stay exact under a filter). Times are the admin's
// local time with the date, to the second, the full timestamp in a tooltip. New entries
// matching the filter appear at the top as the admin event stream announces them. Export
// writes every matching entry (not only the loaded rows) to the Downloads folder.
// The words for each action and refused sign-in come from the Rust side (`state.contract`).

import { $, el, showMessage, withButton } from "../lib/dom.js";
import { localTime, numbers, plural, relativeTime, zoneLabel } from "../lib/format.js";
import { call } from "../lib/ipc.js";
import { state } from "../lib/state.js";

/** Of the actions on several users (the entry names them, `target_usernames`), those, the ones whose `reason` is only the names in words (the User cell says it). */
const REASON_IS_NAMES = new Set(["logout_selected", "deactivate_selected"]);
/** Sign-ins and refused sign-ins: the actor is the user, and no session ends. */
const SIGN_INS = new Set(["sign_in", "sign_in_failed"]);
/** At most this many new entries are put on top at once; past it the list loads afresh. */
const FRESH_MAX = 100;

const exact = new Intl.DateTimeFormat(undefined, {
  weekday: "short", year: "numeric", month: "short", day: "numeric",
  hour: "2-digit", minute: "2-digit", second: "2-digit",
});

/** "2026-12-01 17:06:38.125 (UTC+01:00, Europe/Paris) · 16:06:38.125 UTC": to the
 *  millisecond, in local time and in UTC, for the tooltip. */
function fullTimestamp(iso) {
  const d = new Date(iso);
  const pad = (n, w = 2) => String(n).padStart(w, "0");
  const minutes = -d.getTimezoneOffset();
  const offset = `UTC${minutes >= 0 ? "+" : "-"}${pad(Math.floor(Math.abs(minutes) / 60))}:${pad(Math.abs(minutes) % 60)}`;
  const local = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}.${pad(d.getMilliseconds(), 3)}`;
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  return `${local} (${offset}, ${zone}) · ${d.toISOString().slice(11, 23)} UTC`;
}

export async function reloadAudit() {
  state.auditCursor = null;
  state.auditGeneration += 1;
  $("audit-body").replaceChildren();
  await loadMoreAudit();
}

/** Where a sign-in came from and, when refused, why: "web · 10.0.0.7 · wrong username or password";
 *  for other entries what changed, when the server says. */
function signInDetail(entry) {
  const parts = [];
  if (entry.client) parts.push(entry.client === "app" ? "app" : "web");
  if (entry.address) parts.push(entry.address);
  if (entry.reason && entry.action === "sign_in_failed") {
    parts.push(state.contract.sign_in_refusals[entry.reason] ?? entry.reason.replaceAll("_", " "));
  } else if (entry.reason && REASON_IS_NAMES.has(entry.action) && entry.target_usernames?.length) {
    // The names in words: the User cell already says them.
  } else if (entry.reason && !SIGN_INS.has(entry.action)) {
    // What changed, in words the server wrote: "role member → admin", "deprovisioned by Okta".
    parts.push(entry.reason);
  }
  return parts.join(" · ");
}

function auditRow(entry) {
  const when = el("td", { class: "when" },
    el("time", { dateTime: entry.at, text: exact.format(new Date(entry.at)) }),
    el("span", { class: "ago", text: relativeTime(entry.at) }));
  when.title = fullTimestamp(entry.at);
  const action = state.contract.audit_actions[entry.action] ?? entry.action;
  let detail = entry.action === "logout_all" && entry.keep_admins ? `${action} (administrators kept)` : action;
  // Which window a maintenance entry is about, by its start in local time.
  if (entry.window_starts_at) detail += ` (the window of ${localTime(entry.window_starts_at)})`;
  // The User cell in words from the Rust side (curfew's one rule, as the CSV export and the
  // command line say it); when it names only some of several users, its tooltip names all.
  const targetCell = el("td", { class: "target", text: entry.target_words ?? "" });
  if (/ and [\d,]+ more$/.test(entry.target_words ?? "")) targetCell.title = entry.target_usernames.join(", ");
  const row = el("tr", { "data-action": entry.action, "data-id": entry.id, "data-at": entry.at },
    when,
    el("td", { text: entry.actor_kind === "service_token" ? `${entry.actor_username} (service token)` : entry.actor_username }),
    el("td", { class: "action", text: detail }),
    targetCell,
    // A sign-in ends no session: its cell stays empty rather than saying 0.
    el("td", { class: "num", text: SIGN_INS.has(entry.action) ? "" : numbers.format(entry.sessions_revoked) }),
    el("td", { class: "from", text: signInDetail(entry) }),
  );
  return row;
}

/** The filter as the form shows it, for the server: empty fields are absent, local
 *  date-times become instants. */
function readFilter() {
  const filter = {};
  const actor = $("audit-actor").value.trim();
  const target = $("audit-target").value.trim();
  if (actor) filter.actor = actor;
  if (target) filter.target = target;
  if ($("audit-action").value) filter.action = $("audit-action").value;
  // A datetime-local value is local time: the Date constructor reads it so.
  if ($("audit-since").value) filter.since = new Date($("audit-since").value).toISOString();
  if ($("audit-until").value) filter.until = new Date($("audit-until").value).toISOString();
  return filter;
}

function emptyText() {
  const filtered = Object.keys(state.auditFilter).length > 0;
  if (filtered) return "No entry matches this filter. Change or clear the filter.";
  return state.auditCategory === "sign_in" ? "No one has signed in yet." : "Nothing has happened yet.";
}

async function loadMoreAudit() {
  $("audit-status").textContent = "Loading…";
  const generation = state.auditGeneration;
  try {
    const page = await call("audit", { cursor: state.auditCursor, category: state.auditCategory, filter: state.auditFilter });
    if (generation !== state.auditGeneration) return; // another filter was chosen meanwhile
    $("audit-body").append(...page.entries.map(auditRow));
    state.auditCursor = page.next_cursor;
    $("audit-more").hidden = !page.next_cursor;
    $("audit-status").textContent = $("audit-body").rows.length ? "" : emptyText();
  } catch (failure) {
    if (generation === state.auditGeneration) $("audit-status").textContent = failure.message;
  }
}

/** New entries that match the filter, on top, marked for a moment. Runs once at a time;
 *  events meanwhile ask for one more run after it (sign-ins can come in bursts). */
export async function freshAudit() {
  if ($("activity-view").hidden || !state.session) return;
  if (state.auditFresh) {
    state.auditFreshAgain = true;
    return;
  }
  state.auditFresh = (async () => {
    do {
      state.auditFreshAgain = false;
      const generation = state.auditGeneration;
      const top = $("audit-body").rows[0];
      try {
        const page = await call("audit", { cursor: null, category: state.auditCategory, filter: state.auditFilter });
        if (generation !== state.auditGeneration) continue;
        const known = top?.dataset.id;
        const at = top ? Date.parse(top.dataset.at) : -Infinity;
        const index = known ? page.entries.findIndex((e) => e.id === known) : -1;
        const fresh = index >= 0 ? page.entries.slice(0, index)
          : page.entries.filter((e) => Date.parse(e.at) > at);
        if (!top) {
          // The list was empty: the page is the list.
          $("audit-body").append(...page.entries.map(auditRow));
          state.auditCursor = page.next_cursor;
          $("audit-more").hidden = !page.next_cursor;
        } else if (fresh.length >= FRESH_MAX) {
          await reloadAudit();
          continue;
        } else if (fresh.length) {
          const rows = fresh.map(auditRow);
          for (const row of rows) row.classList.add("fresh");
          $("audit-body").prepend(...rows);
        }
        $("audit-status").textContent = $("audit-body").rows.length ? "" : emptyText();
      } catch {
        // The next event, or a reload, tries again; the offline bar says why.
      }
    } while (state.auditFreshAgain);
  })();
  try {
    await state.auditFresh;
  } finally {
    state.auditFresh = null;
  }
}

/** An empty date field says what it means ("The first entry", "Now") instead of a grey
 *  date that looks like a value, until the admin focuses it. */
function showEmptyDates() {
  for (const id of ["audit-since", "audit-until"]) {
    const input = $(id);
    $(`${id}-field`).classList.toggle("is-empty", !input.value && document.activeElement !== input);
  }
}

function applyFilter() {
  const filter = readFilter();
  const error = $("audit-filter-error");
  if (filter.since && filter.until && filter.since >= filter.until) {
    error.textContent = "The date range ends before it starts: choose a To after the From.";
    error.hidden = false;
    return;
  }
  error.hidden = true;
  if (JSON.stringify(filter) === JSON.stringify(state.auditFilter)) return;
  state.auditFilter = filter;
  reloadAudit();
}

async function exportAudit(format, button) {
  applyFilter();
  if (!$("audit-filter-error").hidden) return;
  try {
    const done = await withButton(button, () => call("export_audit", { format, category: state.auditCategory, filter: state.auditFilter }));
    showMessage("success", `Exported ${plural(done.entries, "entry", "entries")} to ${done.path}`);
  } catch (failure) {
    showMessage("error", `The audit was not exported: ${failure.message}`);
  }
}

export function wireActivity() {
  $("audit-more").addEventListener("click", loadMoreAudit);
  $("audit-zone").textContent = `Times are local ${zoneLabel()}; hover over a time for the exact moment.`;
  const actions = $("audit-action");
  for (const [code, label] of Object.entries(state.contract.audit_actions)) {
    actions.append(el("option", { value: code, text: `${label[0].toUpperCase()}${label.slice(1)}` }));
  }
  for (const chip of document.querySelectorAll(".audit-chip")) {
    chip.addEventListener("click", () => {
      for (const other of document.querySelectorAll(".audit-chip")) other.setAttribute("aria-pressed", String(other === chip));
      state.auditCategory = chip.dataset.category;
      // Who acted: on sign-ins it is the user who signed in.
      const who = state.auditCategory === "admin" ? "Administrator" : "Who";
      $("audit-actor-head").textContent = who;
      $("audit-actor-label").textContent = who;
      reloadAudit();
    });
  }
  // Text filters apply after a pause in typing (or Enter); the others at once.
  let typing = 0;
  for (const id of ["audit-actor", "audit-target"]) {
    $(id).addEventListener("input", () => {
      clearTimeout(typing);
      typing = setTimeout(applyFilter, 300);
    });
  }
  for (const id of ["audit-action", "audit-since", "audit-until"]) $(id).addEventListener("change", applyFilter);
  $("audit-filter").addEventListener("submit", (event) => {
    event.preventDefault();
    clearTimeout(typing);
    applyFilter();
  });
  $("audit-clear").addEventListener("click", () => {
    for (const id of ["audit-actor", "audit-target", "audit-action", "audit-since", "audit-until"]) $(id).value = "";
    showEmptyDates();
    applyFilter();
  });
  for (const id of ["audit-since", "audit-until"]) {
    for (const type of ["input", "change", "focus", "blur"]) $(id).addEventListener(type, showEmptyDates);
  }
  showEmptyDates();
  $("audit-export-csv").addEventListener("click", () => exportAudit("csv", $("audit-export-csv")));
  $("audit-export-jsonl").addEventListener("click", () => exportAudit("jsonl", $("audit-export-jsonl")));
}
