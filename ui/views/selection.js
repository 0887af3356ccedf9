// Selecting several users and acting on them at once: a checkbox per row, Shift-click for
// a range, the header box for every loaded row, "Select all N matching" for every user
// the search and filters match (loaded or not: the server selects them by the same
// search), then Logout selected or Deactivate selected. And "Sign out sessions idle for
// more than N days". Each asks the server first what it would do (a dry run), names those
// exact counts in the confirmation, then makes the one call.

import { $, el, showMessage, withButton } from "../lib/dom.js";
import { confirmAction } from "../lib/dialog.js";
import { numbers, plural } from "../lib/format.js";
import { call } from "../lib/ipc.js";
import { can, state } from "../lib/state.js";
import { listQuery, matchSentence, narrowed } from "./list-tools.js";
import { allIds, idAt, userCount } from "./user-pages.js";

/** How many users are selected: every matching one, or those picked. */
function selectedCount() {
  return state.selectAll ? (state.counts?.matching ?? 0) : state.selected.size;
}

function isSelected(user) {
  return state.selectAll || state.selected.has(user.id);
}

/** The checkbox cell of a row. */
export function selectCell(user, index) {
  const box = el("input", { type: "checkbox", class: "select-user" });
  box.checked = isSelected(user);
  box.setAttribute("aria-label", `Select ${user.display_name}`);
  box.addEventListener("click", (event) => pick(index, box.checked, event.shiftKey));
  return el("td", { class: "select" }, box);
}

/** A click on row `index`'s box; with Shift, every row from the last clicked one too. */
function pick(index, checked, range) {
  if (state.selectAll) {
    // From "all matching" to the loaded rows, so that one can be left out.
    state.selectAll = false;
    for (const id of allIds()) state.selected.add(id);
  }
  const from = range && state.selectAnchor !== null ? Math.min(state.selectAnchor, index) : index;
  const to = range && state.selectAnchor !== null ? Math.max(state.selectAnchor, index) : index;
  for (let i = from; i <= to; i += 1) {
    const id = idAt(i);
    if (!id) continue;
    if (checked) state.selected.add(id);
    else state.selected.delete(id);
  }
  state.selectAnchor = index;
  showSelection();
}

/** Ticks the boxes in view and updates the bar above the list. */
export function showSelection() {
  for (const row of $("users-body").rows) {
    const user = state.rowUser.get(row);
    const box = row.querySelector("input.select-user");
    if (!user || !box) continue;
    box.checked = isSelected(user);
    row.classList.toggle("selected", box.checked);
  }
  const loaded = userCount();
  const header = $("select-loaded");
  let picked = state.selectAll ? loaded : 0;
  if (!state.selectAll && state.selected.size) for (const id of allIds()) if (state.selected.has(id)) picked += 1;
  header.checked = loaded > 0 && picked === loaded;
  header.indeterminate = picked > 0 && picked < loaded;
  const n = selectedCount();
  $("bulk-bar").hidden = n === 0;
  $("bulk-count").textContent = state.selectAll
    ? `All ${matchSentence(n).replace(/ match(es)? “/, " matching “")} are selected.`
    : `${plural(n, "user", "users")} selected.`;
  const matching = state.counts?.matching ?? 0;
  const all = $("bulk-all");
  all.hidden = state.selectAll || n === 0 || matching <= picked;
  all.textContent = narrowed()
    ? `Select all ${matchSentence(matching).replace(/ match(es)? “/, " matching “")}`
    : `Select all ${plural(matching, "user", "users")}`;
}

/** A new search or filter: "all matching" meant the old one, so it ends; users picked
 *  one by one stay picked. */
export function searchChanged() {
  if (state.selectAll) clearSelection();
}

export function clearSelection() {
  state.selectAll = false;
  state.selectAllQuery = null;
  state.selected.clear();
  state.selectAnchor = null;
  showSelection();
}

/** What the server is asked to act on. */
function selection() {
  return state.selectAll ? { matching: state.selectAllQuery } : { ids: [...state.selected] };
}

async function logoutSelected(done) {
  const button = $("bulk-logout");
  let preview;
  try {
    preview = await withButton(button, () => call("logout_selected", { selection: selection(), dryRun: true }));
  } catch (failure) {
    showMessage("error", `Could not count the sessions of the selected users: ${failure.message}`);
    return;
  }
  if (preview.sessions_revoked === 0) {
    showMessage("warning", `None of the ${plural(preview.selected, "selected user has", "selected users have")} a session to end${preview.own_account_spared ? " (yours stays)" : ""}; nothing was done.`);
    return;
  }
  const ok = await confirmAction({
    title: `Log out ${plural(preview.users_affected, "user", "users")}?`,
    body: `This ends ${plural(preview.sessions_revoked, "session", "sessions")} of ${plural(preview.users_affected, "user", "users")}` +
      (preview.users_affected < preview.selected ? ` (of the ${numbers.format(preview.selected)} selected, the others have no session)` : "") +
      `. They will have to sign in again.${preview.own_account_spared ? " Your own session stays." : ""}`,
    action: "Logout selected",
  });
  if (!ok) return;
  try {
    const result = await withButton(button, () => call("logout_selected", { selection: selection(), dryRun: false }));
    showMessage("success", `Logged out ${plural(result.users_affected, "user", "users")}: ${plural(result.sessions_revoked, "session", "sessions")} ended.`);
    clearSelection();
    done();
  } catch (failure) {
    showMessage("error", `Could not log out the selected users: ${failure.message}`);
  }
}

async function deactivateSelected(done) {
  const button = $("bulk-deactivate");
  let preview;
  try {
    preview = await withButton(button, () => call("deactivate_selected", { selection: selection(), dryRun: true }));
  } catch (failure) {
    showMessage("error", `Could not count the selected users: ${failure.message}`);
    return;
  }
  if (preview.users_affected === 0) {
    showMessage("warning", `Every selected user is already deactivated${preview.own_account_spared ? " (or is you)" : ""}; nothing was done.`);
    return;
  }
  const skipped = preview.selected - preview.users_affected - (preview.own_account_spared ? 1 : 0);
  const ok = await confirmAction({
    title: `Deactivate ${plural(preview.users_affected, "user", "users")}?`,
    body: `${plural(preview.users_affected, "user", "users")} will not be able to sign in, and ` +
      (preview.sessions_revoked ? `${plural(preview.sessions_revoked, "open session", "open sessions")} will end now.` : "they have no open sessions.") +
      (preview.own_account_spared ? " Your own account stays active." : "") +
      (skipped > 0 ? ` ${plural(skipped, "selected user is", "selected users are")} already deactivated.` : ""),
    action: "Deactivate selected",
  });
  if (!ok) return;
  try {
    const result = await withButton(button, () => call("deactivate_selected", { selection: selection(), dryRun: false }));
    showMessage("success", `Deactivated ${plural(result.users_affected, "user", "users")}: ${plural(result.sessions_revoked, "session", "sessions")} ended.`);
    clearSelection();
    done();
  } catch (failure) {
    showMessage("error", `Could not deactivate the selected users: ${failure.message}`);
  }
}

async function logoutIdle(done) {
  const button = $("idle-submit");
  const max = state.contract.limits.idle_days_max;
  const days = Number($("idle-days").value);
  if (!Number.isInteger(days) || days < 1 || days > max) {
    showMessage("error", `Give a whole number of days from 1 to ${max} for idle sessions.`);
    $("idle-days").focus();
    return;
  }
  let preview;
  try {
    preview = await withButton(button, () => call("logout_idle", { days, dryRun: true }));
  } catch (failure) {
    showMessage("error", `Could not count the idle sessions: ${failure.message}`);
    return;
  }
  if (preview.sessions_revoked === 0) {
    showMessage("success", `No session has been idle for more than ${plural(days, "day", "days")}; nothing to sign out.`);
    return;
  }
  const ok = await confirmAction({
    title: `Sign out ${plural(preview.sessions_revoked, "idle session", "idle sessions")}?`,
    body: `${plural(preview.sessions_revoked, "session", "sessions")} of ${plural(preview.users_affected, "user", "users")} ` +
      `${preview.sessions_revoked === 1 ? "has" : "have"} not been used for more than ${plural(days, "day", "days")}. ` +
      "They end now, and their users must sign in again on those devices. Your own session stays.",
    action: "Sign out idle sessions",
  });
  if (!ok) return;
  try {
    const result = await withButton(button, () => call("logout_idle", { days, dryRun: false }));
    showMessage("success", `Signed out ${plural(result.sessions_revoked, "idle session", "idle sessions")} of ${plural(result.users_affected, "user", "users")}.`);
    done();
  } catch (failure) {
    showMessage("error", `Could not sign out the idle sessions: ${failure.message}`);
  }
}

/** What the role allows, on the bar's buttons and the idle form. */
export function enterSelection(session) {
  const logout = $("bulk-logout");
  logout.disabled = !can("force_logout");
  const deactivate = $("bulk-deactivate");
  deactivate.disabled = !can("manage_users");
  deactivate.title = deactivate.disabled ? `Your role (${session.role}) cannot deactivate users.` : "";
  $("idle-submit").disabled = !can("force_logout");
  $("idle-days").max = String(state.contract.limits.idle_days_max);
  clearSelection();
}

/** `done`: refresh the rows and counts after an action. */
export function wireSelection(done) {
  $("select-loaded").addEventListener("click", () => {
    const every = $("select-loaded").checked;
    state.selectAll = false;
    for (const id of allIds()) {
      if (every) state.selected.add(id);
      else state.selected.delete(id);
    }
    showSelection();
  });
  $("bulk-all").addEventListener("click", () => {
    state.selectAll = true;
    state.selectAllQuery = listQuery();
    showSelection();
  });
  $("bulk-clear").addEventListener("click", clearSelection);
  $("bulk-logout").addEventListener("click", () => logoutSelected(done));
  $("bulk-deactivate").addEventListener("click", () => deactivateSelected(done));
  $("idle-form").addEventListener("submit", (event) => {
    event.preventDefault();
    logoutIdle(done);
  });
}
