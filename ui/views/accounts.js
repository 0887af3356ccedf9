// Accounts in User Settings: Add user, a user's detail (their sessions, End this session,
// Logout, Edit, Reset password, Delete), and the throttled sign-ins panel. What the server
// refuses is shown beside the field it concerns.

import { $, el, showMessage, withButton } from "../lib/dom.js";
import { confirmAction } from "../lib/dialog.js";
import { localTime, plural, relativeTime } from "../lib/format.js";
import { call } from "../lib/ipc.js";
import { can, state } from "../lib/state.js";

/** How often the throttled sign-ins are fetched again while the users view is shown. */
const THROTTLES_MS = 15_000;

/** The field each of the server's validation codes is about; others go under the form. */
const FIELD_OF = {
  invalid_username: "username",
  username_taken: "username",
  invalid_display_name: "display-name",
  invalid_email: "email",
  invalid_password: "password",
  last_admin: "role",
  cannot_change_own_role: "role",
};

const FIELDS = ["username", "display-name", "email", "role", "password"];

/** Hooks into the users list, set by users.js: reload it, or put a changed user in it. */
let listChanged = () => {};

function clearErrors() {
  for (const name of FIELDS) {
    $(`uf-${name}-error`).hidden = true;
    $(`uf-${name}`).removeAttribute("aria-invalid");
  }
  $("uf-error").hidden = true;
}

/** Shows a refusal beside its field (focused), or under the form. */
function showFormError(failure) {
  const field = FIELD_OF[failure.error];
  if (field && !$(`uf-${field}`).closest("[hidden]")) {
    $(`uf-${field}-error`).textContent = failure.message;
    $(`uf-${field}-error`).hidden = false;
    $(`uf-${field}`).setAttribute("aria-invalid", "true");
    $(`uf-${field}`).focus();
  } else {
    $("uf-error").textContent = failure.message;
    $("uf-error").hidden = false;
  }
}

/** The Add user / Edit dialog; resolves when it closes. `user` null: a new account. */
function openUserForm(user) {
  const dialog = $("user-form");
  const adding = !user;
  clearErrors();
  $("uf-title").textContent = adding ? "Add user" : `Edit ${user.display_name}`;
  $("uf-submit").textContent = adding ? "Add user" : "Save changes";
  $("uf-username-field").hidden = !adding;
  $("uf-password-field").hidden = !adding;
  $("uf-username").value = "";
  $("uf-display-name").value = adding ? "" : user.display_name;
  $("uf-email").value = adding ? "" : (user.email ?? "");
  $("uf-role").value = adding ? "member" : user.role;
  $("uf-password").value = "";
  $("uf-password-typed").checked = true;
  $("uf-password").disabled = false;
  const submit = async (event) => {
    event.preventDefault();
    clearErrors();
    const displayName = $("uf-display-name").value.trim();
    const email = $("uf-email").value.trim();
    const role = $("uf-role").value;
    try {
      if (adding) {
        const typed = $("uf-password-typed").checked;
        if (typed && !$("uf-password").value) {
          showFormError({ error: "invalid_password", message: "Type a password, or choose No password." });
          return;
        }
        const created = await withButton($("uf-submit"), () => call("create_user", {
          request: {
            username: $("uf-username").value.trim(),
            display_name: displayName || null,
            email: email || null,
            role,
            password: typed ? $("uf-password").value : null,
          },
        }));
        dialog.close();
        showMessage("success", typed
          ? `${created.display_name} (${created.username}) was added and can sign in with the password you set.`
          : `${created.display_name} (${created.username}) was added without a password: use Reset password to let them sign in.`);
        listChanged();
      } else {
        const update = {};
        if (displayName !== user.display_name) update.display_name = displayName;
        if (email !== (user.email ?? "")) update.email = email || null;
        if (role !== user.role) update.role = role;
        if (!Object.keys(update).length) {
          dialog.close();
          return;
        }
        const changed = await withButton($("uf-submit"), () => call("update_user", { id: user.id, update }));
        dialog.close();
        showMessage("success", `${changed.display_name} (${changed.username}) was changed.`);
        listChanged(changed);
        if ($("user-detail").open && state.detailUser?.id === changed.id) showDetail(changed);
      }
    } catch (failure) {
      showFormError(failure);
    }
  };
  $("uf-form").onsubmit = submit;
  dialog.showModal();
  (adding ? $("uf-username") : $("uf-display-name")).focus();
}

/** Reset password: generated (shown once, with Copy) or typed; signs out everywhere unless
 *  unticked. */
function openReset(user) {
  const dialog = $("reset-form");
  $("rp-title").textContent = `Reset the password of ${user.display_name}`;
  $("rp-ask").hidden = false;
  $("rp-done").hidden = true;
  $("rp-generated").checked = true;
  $("rp-password").value = "";
  $("rp-password").disabled = true;
  $("rp-password-error").hidden = true;
  $("rp-password").removeAttribute("aria-invalid");
  $("rp-error").hidden = true;
  $("rp-sign-out").checked = true;
  const sessions = sessionsOf(user);
  $("rp-sign-out-label").textContent = `Sign out everywhere (ends ${plural(sessions, "session", "sessions")} of ${user.display_name})`;
  $("rp-copied").textContent = "";
  $("rp-form").onsubmit = async (event) => {
    event.preventDefault();
    $("rp-password-error").hidden = true;
    $("rp-error").hidden = true;
    const typed = $("rp-typed").checked;
    try {
      const result = await withButton($("rp-submit"), () => call("reset_password", {
        id: user.id,
        reset: { password: typed ? $("rp-password").value : null, sign_out: $("rp-sign-out").checked },
      }));
      const ended = $("rp-sign-out").checked ? ` ${plural(result.sessions_revoked, "session", "sessions")} ended.` : "";
      $("rp-ask").hidden = true;
      $("rp-done").hidden = false;
      $("rp-generated-box").hidden = !result.generated_password;
      $("rp-generated-password").textContent = result.generated_password ?? "";
      $("rp-done-text").textContent = result.generated_password
        ? `The new password of ${user.display_name} is below. It is shown only now: copy it and give it to them.${ended}`
        : `The password of ${user.display_name} was changed.${ended}`;
      (result.generated_password ? $("rp-copy") : $("rp-close")).focus();
      listChanged();
    } catch (failure) {
      const box = failure.error === "invalid_password" ? "rp-password-error" : "rp-error";
      $(box).textContent = failure.message;
      $(box).hidden = false;
      if (box === "rp-password-error") $("rp-password").setAttribute("aria-invalid", "true");
    }
  };
  dialog.addEventListener("close", () => {
    // The password is shown once: it leaves the page with the dialog.
    $("rp-generated-password").textContent = "";
  }, { once: true });
  dialog.showModal();
  $("rp-generated").focus();
}

async function copyPassword() {
  const text = $("rp-generated-password").textContent;
  // The selection's copy works inside the click in WebKit; the asynchronous clipboard is
  // the second try.
  const range = document.createRange();
  range.selectNodeContents($("rp-generated-password"));
  getSelection().removeAllRanges();
  getSelection().addRange(range);
  let copied = document.execCommand("copy");
  if (!copied) {
    try {
      await navigator.clipboard.writeText(text);
      copied = true;
    } catch {
      copied = false;
    }
  }
  $("rp-copied").textContent = copied
    ? "Copied. Paste it where only the user can read it, then press Done."
    : "Could not copy: the password is selected, press Ctrl+C to copy it.";
}

/** The user's open sessions: as the detail dialog loaded them, else as their row counts. */
function sessionsOf(user) {
  return state.detailUser?.id === user.id && state.detailSessions !== null
    ? state.detailSessions
    : user.app_sessions + user.web_sessions;
}

async function deleteUser(user) {
  const sessions = sessionsOf(user);
  const ok = await confirmAction({
    title: `Delete ${user.display_name}?`,
    body: `This deletes the account ${user.display_name} (${user.username}) and ends ` +
      `${plural(sessions, "open session", "open sessions")} now. It cannot be undone; the audit log keeps the name.`,
    action: "Delete",
  });
  if (!ok) return false;
  try {
    const result = await withButton($("ud-delete"), () => call("delete_user", { id: user.id }));
    showMessage("success", `${user.display_name} (${result.username}) was deleted: ${plural(result.sessions_revoked, "session", "sessions")} ended.`);
    listChanged();
    return true;
  } catch (failure) {
    showMessage("error", `Could not delete ${user.display_name}: ${failure.message}`);
    return false;
  }
}

// The user's detail

function clientWords(kind) {
  return kind === "app" ? "App" : "Web";
}

function sessionRow(user, session) {
  const address = session.last_address && session.last_address !== session.address
    ? `${session.address ?? "unknown"} (last from ${session.last_address})`
    : (session.address ?? "unknown");
  const signedIn = el("td", { text: relativeTime(session.created_at) });
  signedIn.title = localTime(session.created_at);
  const seen = el("td", { text: relativeTime(session.last_seen_at) });
  seen.title = localTime(session.last_seen_at);
  const cell = el("td");
  if (session.current) {
    cell.append(el("span", { class: "no-session current", text: "Your session: Sign out ends it" }));
  } else {
    const end = el("button", { type: "button", class: "secondary end-session", text: "End this session" });
    end.setAttribute("aria-label", `End the session on ${session.device}`);
    end.addEventListener("click", () => endSession(user, session, end));
    cell.append(end);
  }
  return el("tr", { "data-session-id": session.id, "data-current": String(session.current) },
    el("td", { text: clientWords(session.client) }),
    el("td", { class: "device", text: session.device }),
    el("td", { class: "mono address", text: address }),
    signedIn,
    seen,
    cell,
  );
}

async function loadSessions(user) {
  $("ud-status").textContent = "Loading sessions…";
  try {
    const { sessions } = await call("user_sessions", { id: user.id });
    if (state.detailUser?.id !== user.id) return;
    $("ud-sessions").replaceChildren(...sessions.map((s) => sessionRow(user, s)));
    $("ud-status").textContent = sessions.length ? "" : `${user.display_name} is not signed in anywhere.`;
    const others = sessions.filter((s) => !s.current).length;
    $("ud-logout").disabled = !others;
    $("ud-logout").title = others ? "" : "There is no session of theirs to end.";
    state.detailSessions = sessions.length;
  } catch (failure) {
    $("ud-status").textContent = failure.message;
  }
}

async function endSession(user, session, button) {
  const ok = await confirmAction({
    title: `End the session on ${session.device}?`,
    body: `${user.display_name} (${user.username}) is signed out on ${session.device} at once and must sign in again there. Their other sessions stay.`,
    action: "End this session",
  });
  if (!ok) return;
  try {
    await withButton(button, () => call("end_session", { id: session.id }));
    showMessage("success", `The session of ${user.display_name} on ${session.device} ended.`);
    await loadSessions(user);
    listChanged();
  } catch (failure) {
    showMessage("error", `Could not end the session on ${session.device}: ${failure.message}`);
  }
}

async function logoutFromDetail(user) {
  const ok = await confirmAction({
    title: `Log out ${user.display_name}?`,
    body: `This ends every session of ${user.display_name} (${user.username}) but yours. They will have to sign in again.`,
    action: "Logout",
  });
  if (!ok) return;
  try {
    const result = await withButton($("ud-logout"), () => call("logout_user", { id: user.id }));
    showMessage("success", `${user.display_name} was logged out: ${plural(result.sessions_revoked, "session", "sessions")} ended.`);
    await loadSessions(user);
    listChanged();
  } catch (failure) {
    showMessage("error", `Could not log out ${user.display_name}: ${failure.message}`);
  }
}

/** Fills the detail dialog with `user` (opening it if closed). */
/** "Signs in with a password and Okta", "Signs in with Okta only", "Cannot sign in yet…". */
export function signInWords(user) {
  const ways = [...(user.has_password ? ["a password"] : []), ...(user.providers ?? [])];
  if (!ways.length) return "Cannot sign in yet: no password and no identity provider. Reset the password to give one.";
  const list = ways.length === 1 ? ways[0] : `${ways.slice(0, -1).join(", ")} and ${ways[ways.length - 1]}`;
  return `Signs in with ${list}${!user.has_password ? " only" : ""}.`;
}

function showDetail(user) {
  state.detailUser = user;
  $("ud-title").textContent = `${user.display_name} (${user.username})`;
  $("ud-account").textContent = [
    `Role: ${user.role}`,
    user.status === "deactivated" ? "deactivated" : "active",
    user.email ? `email ${user.email}` : "no email",
  ].join(" · ");
  $("ud-sign-in").textContent = signInWords(user);
  const manage = can("manage_users");
  const own = user.username === state.session.username;
  for (const id of ["ud-edit", "ud-reset", "ud-delete"]) {
    $(id).disabled = !manage;
    $(id).title = manage ? "" : `Your role (${state.session.role}) cannot change accounts; ask an administrator.`;
  }
  if (manage && own) {
    $("ud-delete").disabled = true;
    $("ud-delete").title = "You cannot delete your own account.";
  }
  const note = $("ud-role-note");
  note.textContent = !manage
    ? `Your role (${state.session.role}) can see and end sessions but cannot edit, reset or delete accounts; ask an administrator.`
    : own ? "This is your own account: you cannot delete it here." : "";
  note.hidden = !note.textContent;
  $("ud-logout").disabled = !can("force_logout");
  if (!$("user-detail").open) $("user-detail").showModal();
  $("ud-close").focus();
  loadSessions(user);
}

/** After an admin event: an open detail lists the user's sessions as they are now. */
export function refreshDetail() {
  if (state.detailUser && $("user-detail").open) loadSessions(state.detailUser);
}

export function openDetail(user) {
  $("ud-sessions").replaceChildren();
  state.detailSessions = null;
  showDetail(user);
}

// Throttled sign-ins

function throttleSentence(account) {
  const tried = `${account.username}: ${plural(account.failures, "failed sign-in", "failed sign-ins")} in the last minute, ` +
    `from ${plural(account.addresses, "address", "addresses")}`;
  const refused = account.refused ? `, ${plural(account.refused, "attempt", "attempts")} refused` : "";
  const wait = account.throttled_for_seconds ? ` (throttled for ${account.throttled_for_seconds} s)` : "";
  return `${tried}${refused}${wait}.`;
}

export async function refreshThrottles() {
  if (!state.session || !can("force_logout")) {
    $("throttles").hidden = true;
    return;
  }
  try {
    const { accounts } = await call("sign_in_throttles");
    $("throttles-list").replaceChildren(...accounts.map((account) => {
      const clear = el("button", { type: "button", class: "secondary clear-throttle", text: "Let sign in" });
      clear.setAttribute("aria-label", `Let ${account.username} sign in now`);
      clear.addEventListener("click", async () => {
        try {
          await withButton(clear, () => call("clear_sign_in_throttle", { username: account.username }));
          showMessage("success", `${account.username} can sign in again now.`);
        } catch (failure) {
          showMessage("error", `Could not let ${account.username} sign in: ${failure.message}`);
        }
        refreshThrottles();
      });
      return el("li", { "data-username": account.username }, el("span", { text: throttleSentence(account) }), clear);
    }));
    $("throttles").hidden = accounts.length === 0;
  } catch {
    // The offline bar or the list's own line says what went wrong; the panel keeps its rows.
  }
}

/** What the role allows on Add user, said once in the role note by users.js. */
export function enterAccounts(session) {
  const add = $("add-user");
  add.disabled = !can("manage_users");
  add.title = add.disabled ? `Your role (${session.role}) cannot add users; ask an administrator.` : "";
  // Hidden until the first answer (the users view's route fetches it).
  $("throttles").hidden = true;
}

export function wireAccounts(onListChanged) {
  listChanged = onListChanged;
  const limits = state.contract.limits;
  $("uf-username").maxLength = limits.username_max;
  $("uf-display-name").maxLength = limits.display_name_max;
  $("uf-password").maxLength = limits.password_max;
  $("rp-password").maxLength = limits.password_max;
  $("add-user").addEventListener("click", () => openUserForm(null));
  $("uf-cancel").addEventListener("click", () => $("user-form").close());
  for (const radio of document.querySelectorAll("input[name=uf-password-kind]")) {
    radio.addEventListener("change", () => { $("uf-password").disabled = $("uf-password-none").checked; });
  }
  for (const radio of document.querySelectorAll("input[name=rp-kind]")) {
    radio.addEventListener("change", () => {
      $("rp-password").disabled = !$("rp-typed").checked;
      if ($("rp-typed").checked) $("rp-password").focus();
    });
  }
  $("rp-cancel").addEventListener("click", () => $("reset-form").close());
  $("rp-close").addEventListener("click", () => $("reset-form").close());
  $("rp-copy").addEventListener("click", copyPassword);
  $("ud-close").addEventListener("click", () => $("user-detail").close());
  $("user-detail").addEventListener("close", () => {
    state.detailUser = null;
    state.detailSessions = null;
  });
  $("ud-edit").addEventListener("click", () => state.detailUser && openUserForm(state.detailUser));
  $("ud-reset").addEventListener("click", () => state.detailUser && openReset(state.detailUser));
  $("ud-delete").addEventListener("click", async () => {
    const user = state.detailUser;
    if (user && await deleteUser(user)) $("user-detail").close();
  });
  $("ud-logout").addEventListener("click", () => state.detailUser && logoutFromDetail(state.detailUser));
  setInterval(() => {
    if (state.session && !document.hidden && !$("users-view").hidden) refreshThrottles();
  }, THROTTLES_MS);
}
