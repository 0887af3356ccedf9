// Activity: the audit log, who did what to whom and when: administrators' actions (the
// default), sign-ins, or both. The words for each action and each refused sign-in's reason
// come from the Rust side (`state.contract`), so every row reads as a phrase, never a code.

import { $, el } from "../lib/dom.js";
import { localTime, numbers, plural, relativeTime } from "../lib/format.js";
import { call } from "../lib/ipc.js";
import { state } from "../lib/state.js";

/** Everyone-at-once actions: their "User" cell counts the users instead of naming one. */
const ON_EVERYONE = new Set(["logout_all", "maintenance_logout"]);
/** Sign-ins and refused sign-ins: the actor is the user, and no session ends. */
const SIGN_INS = new Set(["sign_in", "sign_in_failed"]);

export async function reloadAudit() {
  state.auditCursor = null;
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
  } else if (entry.reason && !SIGN_INS.has(entry.action)) {
    // What changed, in words the server wrote: "role member → admin", "deprovisioned by Okta".
    parts.push(entry.reason);
  }
  return parts.join(" · ");
}

function auditRow(entry) {
  const when = el("td", { text: relativeTime(entry.at) });
  when.title = localTime(entry.at);
  const action = state.contract.audit_actions[entry.action] ?? entry.action;
  let detail = entry.action === "logout_all" && entry.keep_admins ? `${action} (administrators kept)` : action;
  // Which window a maintenance entry is about, by its start in local time.
  if (entry.window_starts_at) detail += ` (the window of ${localTime(entry.window_starts_at)})`;
  const target = entry.target_username
    ?? (ON_EVERYONE.has(entry.action) ? plural(entry.users_affected, "user", "users") : "");
  return el("tr", { "data-action": entry.action },
    when,
    el("td", { text: entry.actor_kind === "service_token" ? `${entry.actor_username} (service token)` : entry.actor_username }),
    el("td", { class: "action", text: detail }),
    el("td", { text: target }),
    // A sign-in ends no session: its cell stays empty rather than saying 0.
    el("td", { class: "num", text: SIGN_INS.has(entry.action) ? "" : numbers.format(entry.sessions_revoked) }),
    el("td", { class: "from", text: signInDetail(entry) }),
  );
}

async function loadMoreAudit() {
  $("audit-status").textContent = "Loading…";
  try {
    const category = state.auditCategory;
    const page = await call("audit", { cursor: state.auditCursor, category });
    if (category !== state.auditCategory) return; // another filter was chosen meanwhile
    $("audit-body").append(...page.entries.map(auditRow));
    state.auditCursor = page.next_cursor;
    $("audit-more").hidden = !page.next_cursor;
    $("audit-status").textContent = $("audit-body").rows.length ? ""
      : state.auditCategory === "sign_in" ? "No one has signed in yet." : "Nothing has happened yet.";
  } catch (failure) {
    $("audit-status").textContent = failure.message;
  }
}

export function wireActivity() {
  $("audit-more").addEventListener("click", loadMoreAudit);
  for (const chip of document.querySelectorAll(".audit-chip")) {
    chip.addEventListener("click", () => {
      for (const other of document.querySelectorAll(".audit-chip")) other.setAttribute("aria-pressed", String(other === chip));
      state.auditCategory = chip.dataset.category;
      // Who acted: on sign-ins it is the user who signed in.
      $("audit-actor-head").textContent = state.auditCategory === "admin" ? "Administrator" : "Who";
      reloadAudit();
    });
  }
}
