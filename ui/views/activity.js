// Activity: the audit log, who did what to whom and when. The words for each action come
// from the Rust side (`state.contract.audit_actions`), so every action reads as a phrase,
// never as its code.

import { $, el } from "../lib/dom.js";
import { localTime, numbers, plural, relativeTime } from "../lib/format.js";
import { call } from "../lib/ipc.js";
import { state } from "../lib/state.js";

/** Everyone-at-once actions: their "User" cell counts the users instead of naming one. */
const ON_EVERYONE = new Set(["logout_all", "maintenance_logout"]);

export async function reloadAudit() {
  state.auditCursor = null;
  $("audit-body").replaceChildren();
  await loadMoreAudit();
}

function auditRow(entry) {
  const when = el("td", { text: relativeTime(entry.at) });
  when.title = localTime(entry.at);
  const action = state.contract.audit_actions[entry.action] ?? entry.action;
  const detail = entry.action === "logout_all" && entry.keep_admins ? `${action} (administrators kept)` : action;
  const target = entry.target_username
    ?? (ON_EVERYONE.has(entry.action) ? plural(entry.users_affected, "user", "users") : "");
  return el("tr", { "data-action": entry.action },
    when,
    el("td", { text: entry.actor_username }),
    el("td", { class: "action", text: detail }),
    el("td", { text: target }),
    el("td", { class: "num", text: numbers.format(entry.sessions_revoked) }),
  );
}

async function loadMoreAudit() {
  $("audit-status").textContent = "Loading…";
  try {
    const page = await call("audit", { cursor: state.auditCursor });
    $("audit-body").append(...page.entries.map(auditRow));
    state.auditCursor = page.next_cursor;
    $("audit-more").hidden = !page.next_cursor;
    $("audit-status").textContent = $("audit-body").rows.length ? "" : "Nothing has happened yet.";
  } catch (failure) {
    $("audit-status").textContent = failure.message;
  }
}

export function wireActivity() {
  $("audit-more").addEventListener("click", loadMoreAudit);
}
