// Curfew's admin UI. It talks only to the Rust side through Tauri commands: the server
// token never reaches this page. Every value from the server is put in the page with
// textContent, never as HTML.

const { invoke } = window.__TAURI__.core;

const $ = (id) => document.getElementById(id);
const numbers = new Intl.NumberFormat();
const PAGE_DEBOUNCE_MS = 200;
/** Rows rendered beyond each edge of the users viewport, so fast scrolling shows no gaps. */
const OVERSCAN = 10;
const REFRESH_MS = 30_000;

const state = {
  session: null,
  filter: "",
  query: "",
  cursor: null,
  /** The list generation a page is being loaded for; a new search starts a new one. */
  loadingFor: null,
  generation: 0,
  /** Every loaded user, in list order; only the rows in view are in the page. */
  users: [],
  /** Measured from a rendered row, as fonts and zoom decide it. */
  rowHeight: 0,
  /** The row button that had focus: given back when its row is rendered again. */
  focus: null,
  busy: 0,
  auditCursor: null,
};

// ---------- helpers ----------

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

function can(permission) {
  return state.session?.permissions.includes(permission) ?? false;
}

function plural(n, one, many) {
  return `${numbers.format(n)} ${n === 1 ? one : many}`;
}

function relativeTime(iso) {
  if (!iso) return "never";
  const seconds = Math.round((Date.now() - new Date(iso).getTime()) / 1000);
  if (seconds < 60) return "now";
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `${minutes} min ago`;
  const hours = Math.round(minutes / 60);
  if (hours < 24) return `${hours} h ago`;
  const days = Math.round(hours / 24);
  return days === 1 ? "yesterday" : `${days} days ago`;
}

function localTime(iso) {
  return new Date(iso).toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" });
}

/** Runs a command with the progress bar shown; a "signed_out" error returns to sign-in. */
async function call(command, args = {}) {
  state.busy += 1;
  $("progress").hidden = false;
  try {
    return await invoke(command, args);
  } catch (error) {
    const failure = typeof error === "object" && error ? error : { error: "unknown", message: String(error) };
    if (failure.error === "signed_out" || failure.error === "not_signed_in") {
      showSignIn(failure.message);
    }
    throw failure;
  } finally {
    state.busy -= 1;
    $("progress").hidden = state.busy === 0;
  }
}

/** A message that stays until dismissed. */
function message_(kind, text) {
  const close = el("button", { type: "button", class: "dismiss", text: "Dismiss" });
  const item = el("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", { text }), close);
  close.addEventListener("click", () => item.remove());
  $("messages").prepend(item);
}

/** A modal confirmation; resolves to null (cancelled) or {option}. */
function confirmAction({ title, body, action, option }) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-body").textContent = body;
  $("confirm-ok").textContent = action;
  $("confirm-option").hidden = !option;
  $("confirm-option-input").checked = false;
  if (option) $("confirm-option-label").textContent = option;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? { option: $("confirm-option-input").checked } : null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}

async function withButton(button, work) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = "Working…";
  try {
    return await work();
  } finally {
    button.textContent = label;
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
}

// ---------- sign-in ----------

function showSignIn(notice, profile) {
  state.session = null;
  $("shell").hidden = true;
  $("signin-view").hidden = false;
  $("signin-error").hidden = true;
  $("signin-without-remember").hidden = true;
  $("signin-notice").hidden = !notice;
  $("signin-notice").textContent = notice ?? "";
  if (profile) {
    $("server").value = profile.server.replace(/\/$/, "");
    $("username").value = profile.username;
    $("remember").checked = profile.remember;
  }
  $("password").value = "";
  ($("server").value ? ($("username").value ? $("password") : $("username")) : $("server")).focus();
}

async function signIn(remember) {
  const error = $("signin-error");
  error.hidden = true;
  $("signin-without-remember").hidden = true;
  const button = $("signin-submit");
  try {
    const session = await withButton(button, () => call("sign_in", {
      server: $("server").value,
      username: $("username").value,
      password: $("password").value,
      remember,
    }));
    $("password").value = "";
    enterShell(session);
    if (session.keychain_warning) message_("warning", `Signed in, but not remembered: ${session.keychain_warning}`);
  } catch (failure) {
    error.textContent = failure.message;
    error.dataset.code = failure.error;
    error.hidden = false;
    if (failure.error === "keychain_unavailable") $("signin-without-remember").hidden = false;
  }
}

// ---------- shell ----------

function enterShell(session) {
  state.session = session;
  $("signin-view").hidden = true;
  $("shell").hidden = false;
  const host = (() => { try { return new URL(session.server).host; } catch { return session.server; } })();
  $("whoami").textContent = `${host} · signed in as ${session.username} (${session.role})`;
  const logoutAll = $("logout-all");
  logoutAll.disabled = !can("force_logout");
  logoutAll.title = logoutAll.disabled ? `Your role (${session.role}) cannot log users out.` : "";
  $("mw-submit").disabled = !can("force_logout");
  $("mw-submit").title = can("force_logout") ? "" : `Your role (${session.role}) cannot schedule maintenance.`;
  route();
  reloadUsers();
  reloadMaintenance();
}

function route() {
  const view = { "#activity": "activity", "#maintenance": "maintenance" }[location.hash] ?? "users";
  for (const name of ["users", "maintenance", "activity"]) {
    $(`${name}-view`).hidden = name !== view;
    $(`nav-${name}`).toggleAttribute("aria-current", name === view);
  }
  if (view === "activity") reloadAudit();
  if (view === "maintenance") reloadMaintenance();
}

// ---------- users ----------

async function refreshSummary() {
  try {
    const s = await call("session_summary");
    state.summary = s;
    $("summary").textContent =
      `${plural(s.users, "user", "users")} · ${numbers.format(s.online_users)} online · ` +
      `${plural(s.app_sessions, "app session", "app sessions")} · ${plural(s.web_sessions, "web session", "web sessions")}` +
      (s.deactivated_users ? ` · ${numbers.format(s.deactivated_users)} deactivated` : "");
  } catch (failure) {
    $("summary").textContent = failure.message;
  }
}

/** The record each rendered row shows: a row is reused while its record is unchanged. */
const rowUser = new WeakMap();

function userRow(user, index) {
  const row = el("tr", { "data-user-id": user.id, "data-username": user.username });
  row.setAttribute("aria-rowindex", String(index + 2));
  rowUser.set(row, user);
  const status = el("span", { class: `badge ${user.status}`, text: user.status });
  const last = el("td", { text: relativeTime(user.last_seen_at) });
  if (user.last_seen_at) last.title = localTime(user.last_seen_at);
  row.append(
    el("td", { class: "name", text: user.display_name, title: user.display_name }),
    el("td", { class: "mono", text: user.username, title: user.username }),
    el("td", { text: user.role }),
    el("td", {}, status),
    el("td", { class: "num app", text: String(user.app_sessions) }),
    el("td", { class: "num web", text: String(user.web_sessions) }),
    last,
  );
  const cell = el("td");
  const actions = el("div", { class: "row-actions" });
  cell.append(actions);
  const logout = el("button", { type: "button", class: "secondary logout", text: "Logout" });
  logout.setAttribute("aria-label", `Log out ${user.display_name}`);
  if (!can("force_logout")) {
    logout.disabled = true;
    logout.title = `Your role (${state.session.role}) cannot log users out.`;
  }
  logout.addEventListener("click", () => logoutUser(user, logout));
  actions.append(logout);
  const activating = user.status === "deactivated";
  const toggle = el("button", {
    type: "button",
    class: activating ? "secondary activate" : "secondary deactivate",
    text: activating ? "Activate" : "Deactivate",
  });
  toggle.setAttribute("aria-label", `${activating ? "Activate" : "Deactivate"} ${user.display_name}`);
  if (!can("manage_users")) {
    toggle.disabled = true;
    toggle.title = `Your role (${state.session.role}) cannot ${activating ? "activate" : "deactivate"} users; ask an administrator.`;
  } else if (user.username === state.session.username) {
    toggle.disabled = true;
    toggle.title = "You cannot deactivate your own account.";
  }
  toggle.addEventListener("click", () => setActive(user, toggle, activating));
  actions.append(toggle);
  row.append(cell);
  return row;
}

/** Puts a changed user in the list; the focus goes back to the same button of its row. */
function updateUser(user, button) {
  const index = state.users.findIndex((u) => u.id === user.id);
  if (index < 0) return; // the list was reloaded meanwhile
  state.users[index] = user;
  const row = button.closest("tr");
  state.focus = { id: user.id, button: [...row.querySelectorAll("button")].indexOf(button) };
  renderUsers();
}

let renderQueued = false;

function queueRender() {
  if (renderQueued) return;
  renderQueued = true;
  requestAnimationFrame(() => {
    renderQueued = false;
    renderUsers();
  });
}

/** Renders the loaded users in view; spacer rows above and below keep the scroll height.
 *  Rows still in view stay in the page untouched, so a focused button keeps its focus. */
function renderUsers(measure = true) {
  const scroller = $("users-scroll");
  const body = $("users-body");
  const users = state.users;
  const height = state.rowHeight || 48;
  const top = scroller.scrollTop - $("users-table").tHead.getBoundingClientRect().height;
  const first = Math.max(0, Math.min(users.length, Math.floor(top / height) - OVERSCAN));
  const last = Math.max(first, Math.min(users.length, Math.ceil((top + scroller.clientHeight) / height) + OVERSCAN));
  const wanted = users.slice(first, last);
  const keep = new Set(wanted);
  for (const row of [...body.rows]) if (!keep.has(rowUser.get(row))) row.remove();
  const existing = new Map([...body.rows].map((row) => [rowUser.get(row), row]));
  let next = body.firstElementChild;
  wanted.forEach((user, i) => {
    const row = existing.get(user);
    if (row === next) next = next.nextElementSibling;
    else body.insertBefore(userRow(user, first + i), next);
  });
  $("users-before").rows[0].cells[0].style.height = `${first * height}px`;
  $("users-after").rows[0].cells[0].style.height = `${(users.length - last) * height}px`;
  $("users-table").setAttribute("aria-rowcount", state.done ? String(users.length + 1) : "-1");
  if (state.focus && (!document.activeElement || document.activeElement === document.body)) {
    const row = body.querySelector(`tr[data-user-id="${state.focus.id}"]`);
    row?.querySelectorAll("button")[state.focus.button]?.focus({ preventScroll: true });
  }
  if (measure && wanted.length) {
    // The pitch of the rows, not one row's box: it is what the spacers must match. A
    // hidden list measures 0 and keeps the last height.
    const measured = body.getBoundingClientRect().height / wanted.length;
    if (measured > 0 && Math.abs(measured - state.rowHeight) > 0.01) {
      state.rowHeight = measured;
      renderUsers(false);
    }
  }
}

/** Reloads the list from its first page; the counts above it only when asked (a search
 *  does not change them, and counting every session costs the server more than a page). */
async function reloadUsers({ counts = true } = {}) {
  state.generation += 1;
  state.cursor = null;
  state.done = false;
  state.users = [];
  $("users-scroll").scrollTop = 0;
  renderUsers();
  $("users-view").dataset.loadedCount = "0";
  $("users-status").textContent = "Loading users…";
  if (counts) refreshSummary();
  await loadMoreUsers();
}

async function loadMoreUsers() {
  // A page still loading for an older search must not hold up the new one.
  if (state.loadingFor === state.generation || state.done) return;
  state.loadingFor = state.generation;
  const generation = state.generation;
  try {
    const page = await call("list_users", {
      q: state.query || null,
      status: state.filter || null,
      cursor: state.cursor,
    });
    if (generation !== state.generation) return; // a newer search replaced this one
    const fetchedAt = performance.now();
    const firstPage = !state.cursor;
    state.users.push(...page.users);
    state.cursor = page.next_cursor;
    state.done = !page.next_cursor;
    renderUsers();
    if (firstPage && state.keyAt !== undefined) {
      recordSearchTime(state.keyAt, fetchedAt);
      state.keyAt = undefined;
    }
    const shown = state.users.length;
    $("users-view").dataset.loadedCount = String(shown);
    $("users-status").textContent = shown === 0
      ? (state.query ? `No users match “${state.query}”.` : "No users to show.")
      : state.done ? `${plural(shown, "user", "users")} shown.` : "Scroll for more…";
  } catch (failure) {
    if (generation === state.generation) $("users-status").textContent = failure.message;
  } finally {
    if (state.loadingFor === generation) state.loadingFor = null;
  }
  // Keep filling while the sentinel is still in view (tall windows, zoomed out).
  if (!state.done && generation === state.generation && sentinelVisible()) loadMoreUsers();
}

/** Keystroke to painted list, and to the answer from the server (to tell the network
 *  from the page), kept on the page for `cargo xtask bench` to read. */
function recordSearchTime(keyAt, fetchedAt) {
  requestAnimationFrame(() => requestAnimationFrame(() => {
    const view = $("users-view");
    view.dataset.searchMs = (performance.now() - keyAt).toFixed(1);
    view.dataset.searchFetchMs = (fetchedAt - keyAt).toFixed(1);
    view.dataset.searchCount = String(Number(view.dataset.searchCount ?? 0) + 1);
  }));
}

function sentinelVisible() {
  const scroller = $("users-scroll").getBoundingClientRect();
  return $("users-sentinel").getBoundingClientRect().top < scroller.bottom + 200;
}

async function logoutUser(user, button) {
  const sessions = user.app_sessions + user.web_sessions;
  const ok = await confirmAction({
    title: `Log out ${user.display_name}?`,
    body: sessions === 0
      ? `${user.display_name} (${user.username}) has no open sessions. Log out anyway?`
      : `This ends ${plural(sessions, "session", "sessions")} of ${user.display_name} (${user.username}): ` +
        `${user.app_sessions} in the app and ${user.web_sessions} on the web. They will have to sign in again.`,
    action: "Logout",
  });
  if (!ok) return;
  try {
    const result = await withButton(button, () => call("logout_user", { id: user.id }));
    updateUser({ ...user, app_sessions: 0, web_sessions: 0 }, button);
    message_("success", `${user.display_name} was logged out: ${plural(result.sessions_revoked, "session", "sessions")} ended.`);
    refreshSummary();
  } catch (failure) {
    message_("error", `Could not log out ${user.display_name}: ${failure.message}`);
  }
}

async function setActive(user, button, activate) {
  const sessions = user.app_sessions + user.web_sessions;
  const ok = await confirmAction(activate
    ? { title: `Activate ${user.display_name}?`, body: `${user.display_name} (${user.username}) will be able to sign in again.`, action: "Activate" }
    : {
      title: `Deactivate ${user.display_name}?`,
      body: `${user.display_name} (${user.username}) will not be able to sign in, and ` +
        (sessions ? `${plural(sessions, "open session", "open sessions")} (${user.app_sessions} app, ${user.web_sessions} web) will end now.` : "they have no open sessions."),
      action: "Deactivate",
    });
  if (!ok) return;
  try {
    const change = await withButton(button, () => call("set_user_active", { id: user.id, active: activate }));
    updateUser(change.user, button);
    message_("success", activate
      ? `${user.display_name} was activated and can sign in again.`
      : `${user.display_name} was deactivated: ${plural(change.sessions_revoked, "session", "sessions")} ended.`);
    refreshSummary();
  } catch (failure) {
    message_("error", `Could not ${activate ? "activate" : "deactivate"} ${user.display_name}: ${failure.message}`);
  }
}

async function logoutAll() {
  const button = $("logout-all");
  let summary;
  try {
    summary = await call("session_summary");
  } catch (failure) {
    message_("error", `Could not count the sessions: ${failure.message}`);
    return;
  }
  const all = summary.logout_all;
  const kept = summary.logout_all_keep_admins;
  const ok = await confirmAction({
    title: "Log out all users?",
    body: `Sign out ${plural(all.users, "user", "users")} (${plural(all.sessions, "session", "sessions")}: ` +
      `${numbers.format(all.app_sessions)} app, ${numbers.format(all.web_sessions)} web)? You stay signed in.`,
    action: "Logout All Users",
    option: `Keep other administrators signed in (then ${plural(kept.users, "user", "users")}, ` +
      `${plural(kept.sessions, "session", "sessions")} are signed out)`,
  });
  if (!ok) return;
  try {
    const result = await withButton(button, () => call("logout_all", { keepAdmins: ok.option }));
    message_("success", `Logged out ${plural(result.users_affected, "user", "users")}: ${plural(result.sessions_revoked, "session", "sessions")} ended. You are still signed in.`);
    reloadUsers();
  } catch (failure) {
    message_("error", `Logout of all users failed: ${failure.message}`);
  }
}

// ---------- maintenance ----------

const zoneName = Intl.DateTimeFormat().resolvedOptions().timeZone;

function zoneLabel() {
  const minutes = -new Date().getTimezoneOffset();
  const sign = minutes >= 0 ? "+" : "-";
  const abs = Math.abs(minutes);
  return `(your time zone: ${zoneName}, UTC${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")})`;
}

function untilText(iso) {
  const seconds = Math.round((new Date(iso) - Date.now()) / 1000);
  if (seconds <= 0) return "now";
  const h = Math.floor(seconds / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return `in ${h} h ${m} min`;
  if (m > 0) return `in ${m} min ${String(s).padStart(2, "0")} s`;
  return `in ${s} s`;
}

function localInputValue(date) {
  const pad = (n) => String(n).padStart(2, "0");
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

function updatePreview() {
  const message = $("mw-message").value.trim();
  $("mw-preview-message").textContent = message || "Your message appears here.";
  const start = $("mw-start").value ? new Date($("mw-start").value) : null;
  $("mw-preview-countdown").textContent = start && !Number.isNaN(start.getTime())
    ? `Starts ${untilText(start.toISOString()).replace(/^in /, "in ")}. Save your work.`
    : "";
}

function stepSummary(window) {
  const warnings = window.steps.filter((s) => s.kind === "warning");
  const sent = warnings.filter((s) => s.state === "done").length;
  const logout = window.steps.find((s) => s.kind === "logout");
  const parts = [`${sent} of ${warnings.length} warnings sent`];
  if (logout?.state === "done" && logout.detail) parts.push(`${numbers.format(logout.detail.sessions_revoked)} sessions ended`);
  const failed = window.steps.filter((s) => s.state === "failed").length;
  if (failed) parts.push(`${failed} failed`);
  return parts.join(" · ");
}

function windowRow(window) {
  const row = el("tr", { "data-window-id": window.id, "data-state": window.state });
  const when = el("td", { class: "countdown" });
  if (window.state === "scheduled") when.dataset.countdown = window.starts_at;
  else when.textContent = window.state === "running"
    ? `started ${relativeTime(window.starts_at)}`
    : `${window.state} ${relativeTime(window.finished_at)}`;
  row.append(
    el("td", { text: localTime(window.starts_at) }),
    el("td", { text: window.ends_at ? localTime(window.ends_at) : "when ended" }),
    el("td", { class: "message", text: window.message }),
    el("td", {}, el("span", { class: `badge ${window.state}`, text: window.state })),
    when,
    el("td", { class: "steps", text: stepSummary(window) }),
  );
  const actions = el("div", { class: "row-actions" });
  if (window.state === "scheduled") {
    const cancel = el("button", { type: "button", class: "secondary cancel", text: "Cancel" });
    cancel.addEventListener("click", () => cancelWindow(window, cancel));
    actions.append(cancel);
  } else if (window.state === "running") {
    const end = el("button", { type: "button", class: "danger end", text: "End now" });
    end.addEventListener("click", () => endWindow(window, end));
    actions.append(end);
  }
  for (const button of actions.querySelectorAll("button")) {
    if (!can("force_logout")) {
      button.disabled = true;
      button.title = `Your role (${state.session.role}) cannot change maintenance windows.`;
    }
  }
  const cell = el("td");
  cell.append(actions);
  row.append(cell);
  return row;
}

function tickCountdowns() {
  for (const cell of document.querySelectorAll("[data-countdown]")) {
    cell.textContent = untilText(cell.dataset.countdown);
  }
  if (!$("maintenance-view").hidden) updatePreview();
}

async function reloadMaintenance() {
  if (!state.session) return;
  try {
    const list = await call("list_maintenance");
    $("windows-body").replaceChildren(...list.windows.map(windowRow));
    $("windows-status").textContent = list.windows.length ? "" : "No maintenance windows yet.";
    const next = list.windows.filter((w) => w.state === "scheduled" || w.state === "running")
      .sort((a, b) => new Date(a.starts_at) - new Date(b.starts_at))[0];
    const line = $("next-window");
    line.replaceChildren();
    if (next) {
      const when = el("span", { class: "countdown" });
      if (next.state === "scheduled") when.dataset.countdown = next.starts_at;
      else when.textContent = "running now";
      line.append(el("div", { text: "Next window:" }), el("div", { text: localTime(next.starts_at) }), when);
    }
    tickCountdowns();
  } catch (failure) {
    $("windows-status").textContent = failure.message;
  }
}

async function scheduleWindow() {
  const error = $("mw-error");
  error.hidden = true;
  const start = new Date($("mw-start").value);
  const end = $("mw-end").value ? new Date($("mw-end").value) : null;
  const message = $("mw-message").value.trim();
  const warnings = [...document.querySelectorAll(".mw-warn:checked")].map((c) => Number(c.value));
  const freezeMinutes = Number($("mw-freeze").value || 0);
  const keepAdmins = $("mw-keep-admins").checked;
  const problem = Number.isNaN(start.getTime()) ? "Choose when the maintenance starts."
    : start <= new Date() ? "The start time is in the past. Choose a time in the future."
    : end && end <= start ? "The end time must be after the start time."
    : !message ? "Write the message users will see."
    : null;
  if (problem) {
    error.textContent = problem;
    error.hidden = false;
    return;
  }
  const ok = await confirmAction({
    title: "Schedule maintenance?",
    body: `Maintenance starts ${localTime(start.toISOString())} ${zoneLabel()}` +
      (end ? ` and ends ${localTime(end.toISOString())}.` : " and lasts until you end it.") +
      (warnings.length ? ` Users are warned ${warnings.map((w) => `${w / 60} min`).join(", ")} before;` : " Users get no warning;") +
      ` sign-ins freeze ${freezeMinutes} min before; at the start everyone except you` +
      (keepAdmins ? " and the other administrators" : "") + " is signed out.",
    action: "Schedule",
  });
  if (!ok) return;
  try {
    const window = await withButton($("mw-submit"), () => call("schedule_maintenance", {
      request: {
        starts_at: start.toISOString(),
        ends_at: end ? end.toISOString() : null,
        message,
        warn_before: warnings,
        freeze_before: Math.round(freezeMinutes * 60),
        keep_admins: keepAdmins,
      },
    }));
    message_("success", `Maintenance scheduled for ${localTime(window.starts_at)}.`);
    reloadMaintenance();
  } catch (failure) {
    error.textContent = failure.message;
    error.hidden = false;
  }
}

async function cancelWindow(window, button) {
  const ok = await confirmAction({
    title: "Cancel this maintenance?",
    body: `The maintenance planned for ${localTime(window.starts_at)} will not happen. Users who were warned are told it is cancelled, and sign-ins reopen.`,
    action: "Cancel maintenance",
  });
  if (!ok) return;
  try {
    await withButton(button, () => call("cancel_maintenance", { id: window.id }));
    message_("success", `The maintenance planned for ${localTime(window.starts_at)} was cancelled.`);
  } catch (failure) {
    message_("error", `Could not cancel the maintenance: ${failure.message}`);
  }
  reloadMaintenance();
}

async function endWindow(window, button) {
  const ok = await confirmAction({
    title: "End the maintenance now?",
    body: "Users will be able to sign in again at once.",
    action: "End now",
  });
  if (!ok) return;
  try {
    await withButton(button, () => call("end_maintenance", { id: window.id }));
    message_("success", "The maintenance ended: users can sign in again.");
  } catch (failure) {
    message_("error", `Could not end the maintenance: ${failure.message}`);
  }
  reloadMaintenance();
}

// ---------- activity ----------

const ACTIONS = {
  logout_user: "logged out",
  logout_all: "logged out everyone",
  deactivate: "deactivated",
  activate: "activated",
};

async function reloadAudit() {
  state.auditCursor = null;
  $("audit-body").replaceChildren();
  await loadMoreAudit();
}

async function loadMoreAudit() {
  $("audit-status").textContent = "Loading…";
  try {
    const page = await call("audit", { cursor: state.auditCursor });
    for (const entry of page.entries) {
      const when = el("td", { text: relativeTime(entry.at) });
      when.title = localTime(entry.at);
      const action = ACTIONS[entry.action] ?? entry.action;
      const detail = entry.action === "logout_all" && entry.keep_admins ? `${action} (administrators kept)` : action;
      $("audit-body").append(el("tr", { "data-action": entry.action },
        when,
        el("td", { text: entry.actor_username }),
        el("td", { text: detail }),
        el("td", { text: entry.target_username ?? (entry.action === "logout_all" ? `${plural(entry.users_affected, "user", "users")}` : "") }),
        el("td", { class: "num", text: numbers.format(entry.sessions_revoked) }),
      ));
    }
    state.auditCursor = page.next_cursor;
    $("audit-more").hidden = !page.next_cursor;
    $("audit-status").textContent = $("audit-body").rows.length ? "" : "Nothing has happened yet.";
  } catch (failure) {
    $("audit-status").textContent = failure.message;
  }
}

// ---------- wiring ----------

function wire() {
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("remember").checked);
  });
  $("signin-without-remember").addEventListener("click", () => {
    $("remember").checked = false;
    signIn(false);
  });
  $("signout").addEventListener("click", async () => {
    try {
      await withButton($("signout"), () => call("sign_out"));
      showSignIn("You signed out.");
    } catch (failure) {
      showSignIn(`Signed out here, but: ${failure.message}`);
    }
  });
  // The first keystroke after a pause searches at once; a burst of typing waits for a
  // pause, so the server sees one query per burst, not one per key.
  let searchTimer = 0;
  let lastSearch = -Infinity;
  $("search").addEventListener("input", () => {
    state.keyAt = performance.now();
    clearTimeout(searchTimer);
    const search = () => {
      lastSearch = performance.now();
      state.query = $("search").value.trim();
      reloadUsers({ counts: false });
    };
    if (performance.now() - lastSearch > PAGE_DEBOUNCE_MS) search();
    else searchTimer = setTimeout(search, PAGE_DEBOUNCE_MS);
  });
  for (const chip of document.querySelectorAll(".chip")) {
    chip.addEventListener("click", () => {
      for (const other of document.querySelectorAll(".chip")) other.setAttribute("aria-pressed", String(other === chip));
      state.filter = chip.dataset.filter;
      reloadUsers();
    });
  }
  $("logout-all").addEventListener("click", logoutAll);
  $("mw-zone").textContent = zoneLabel();
  $("mw-start").value = localInputValue(new Date(Date.now() + 2 * 3600 * 1000));
  for (const id of ["mw-message", "mw-start"]) $(id).addEventListener("input", updatePreview);
  $("mw-form").addEventListener("submit", (event) => {
    event.preventDefault();
    scheduleWindow();
  });
  setInterval(tickCountdowns, 1000);
  const { listen } = window.__TAURI__.event;
  listen("curfew://admin-event", () => {
    if (!state.session) return;
    reloadMaintenance();
    refreshSummary();
  });
  listen("curfew://signed-out", (event) => {
    if (state.session) showSignIn(`The server signed you out: ${event.payload}`);
  });
  $("audit-more").addEventListener("click", loadMoreAudit);
  // Both: the observer covers resizes and zoom, the scroll listener fast flinging.
  $("users-scroll").addEventListener("scroll", () => {
    queueRender();
    if (sentinelVisible()) loadMoreUsers();
  }, { passive: true });
  new ResizeObserver(queueRender).observe($("users-scroll"));
  $("users-body").addEventListener("focusin", (event) => {
    const row = event.target.closest("tr");
    state.focus = { id: row.dataset.userId, button: [...row.querySelectorAll("button")].indexOf(event.target) };
  });
  document.addEventListener("focusin", (event) => {
    if (!$("users-body").contains(event.target)) state.focus = null;
  });
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMoreUsers();
  }, { root: $("users-scroll"), rootMargin: "200px" }).observe($("users-sentinel"));
  window.addEventListener("hashchange", () => state.session && route());
  setInterval(() => {
    if (state.session && !document.hidden && !$("users-view").hidden) {
      refreshSummary();
      if ($("users-scroll").scrollTop === 0 && state.loadingFor === null) reloadUsers();
    }
  }, REFRESH_MS);
}

async function start() {
  wire();
  $("keychain-hint").textContent = "";
  try {
    const view = await invoke("startup");
    $("keychain-hint").textContent = `Your sign-in is kept in the ${view.keychain}.`;
    if (view.signed_in) enterShell(view.signed_in);
    else showSignIn(view.notice, view.profile);
  } catch (failure) {
    showSignIn(failure.message ?? String(failure));
  }
}

start();
