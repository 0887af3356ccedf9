// Settings › User Settings: the users list with search, filters and endless scrolling (only
// the rows in view are in the page), Details per user (their sessions and account: see
// accounts.js), Logout per user, Deactivate / Activate, and Logout All Users. Its order,
// role filter and counts are in list-tools.js; selecting several users in selection.js.

import { $, el, showMessage, withButton } from "../lib/dom.js";
import { confirmAction } from "../lib/dialog.js";
import { localTime, numbers, plural, relativeTime } from "../lib/format.js";
import { call, isOffline } from "../lib/ipc.js";
import { can, state } from "../lib/state.js";
import { enterAccounts, openDetail, refreshThrottles, wireAccounts } from "./accounts.js";
import { listStatus, narrowed, refreshCounts, refreshSummary, wireListTools } from "./list-tools.js";
import { enterSelection, searchChanged, selectCell, showSelection, wireSelection } from "./selection.js";
import { ROW_CONTROLS, tabBetweenRows } from "./row-keys.js";
import {
  appendPage, cursorOf, heldRange, heldUsers, holdAround, refill, replaceUser, resetPages, truncateAfter, userAt, userCount,
} from "./user-pages.js";

const SEARCH_DEBOUNCE_MS = 200;
/** Rows rendered beyond each edge of the users viewport, so fast scrolling shows no gaps. */
const OVERSCAN = 10;
const REFRESH_MS = 30_000;
/** After a page could not be fetched again, the next try waits this long (a scroll asks
 *  for the page at every frame). */
const PAGE_RETRY_MS = 2_000;

/** Whether a row offers Logout: Logout ends every session but the admin's own, so on their
 *  own row one session is not counted. */
function logoutOffered(user) {
  const own = user.username === state.session.username;
  return user.app_sessions + user.web_sessions - (own ? 1 : 0) > 0;
}

function userRow(user, index) {
  const row = el("tr", { "data-user-id": user.id, "data-username": user.username, "data-index": String(index) });
  row.setAttribute("aria-rowindex", String(index + 2));
  state.rowUser.set(row, user);
  const status = el("span", { class: `badge ${user.status}`, text: user.status });
  const last = el("td", { text: relativeTime(user.last_seen_at) });
  if (user.last_seen_at) last.title = localTime(user.last_seen_at);
  const devices = user.app_sessions + user.web_sessions;
  row.classList.toggle("selected", state.selectAll || state.selected.has(user.id));
  row.append(
    selectCell(user, index),
    el("td", { class: "name", text: user.display_name, title: user.display_name }),
    el("td", { class: "mono", text: user.username, title: user.username }),
    el("td", { text: user.role }),
    el("td", {}, status),
    el("td", { class: "num devices", text: String(devices), title: plural(devices, "device signed in", "devices signed in") }),
    el("td", { class: "num app", text: String(user.app_sessions) }),
    el("td", { class: "num web", text: String(user.web_sessions) }),
    last,
  );
  const cell = el("td");
  const actions = el("div", { class: "row-actions" });
  cell.append(actions);
  const own = user.username === state.session.username;
  const details = el("button", { type: "button", class: "secondary details", text: "Details" });
  details.setAttribute("aria-label", `Sessions and account of ${user.display_name}`);
  details.disabled = !can("force_logout");
  details.addEventListener("click", () => openDetail(user));
  actions.append(details);
  if (!logoutOffered(user)) {
    // Nothing to end: no Logout to press, and the reason in plain sight.
    actions.append(el("span", { class: "no-session", text: own ? "Signed in here" : "No session" }));
  } else {
    const logout = el("button", { type: "button", class: "secondary logout", text: "Logout" });
    logout.setAttribute("aria-label", `Log out ${user.display_name}`);
    if (!can("force_logout")) {
      logout.disabled = true;
      logout.title = `Your role (${state.session.role}) cannot log users out.`;
      logout.setAttribute("aria-describedby", "role-note");
    }
    logout.addEventListener("click", () => logoutUser(user, logout));
    actions.append(logout);
  }
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
    toggle.setAttribute("aria-describedby", "role-note");
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
  if (!replaceUser(user)) return; // the list was reloaded or scrolled away meanwhile
  const row = button.closest("tr");
  state.focus = { id: user.id, control: [...row.querySelectorAll(ROW_CONTROLS)].indexOf(button) };
  renderUsers();
}

/** Stands in for a row whose page is being fetched again: as tall as a row. */
function placeholderRow(index, height) {
  const row = el("tr", { class: "placeholder", "data-index": String(index) });
  row.setAttribute("aria-rowindex", String(index + 2));
  row.setAttribute("aria-busy", "true");
  const cell = el("td", { text: "Loading…" });
  cell.colSpan = 10;
  cell.style.height = `${height}px`;
  row.append(cell);
  return row;
}

/** Fetches page `n` again (its users were let go while it was out of view). */
async function fetchPage(n) {
  const key = `${state.generation}:${n}`;
  if (state.pagesFetching.has(key) || performance.now() < state.pageRetryAt) return;
  state.pagesFetching.add(key);
  const generation = state.generation;
  try {
    const page = await call("list_users", { ...pageQuery(), cursor: cursorOf(n) });
    if (generation !== state.generation) return;
    refill(n, page.users);
    queueRender();
  } catch (failure) {
    state.pageRetryAt = performance.now() + PAGE_RETRY_MS;
    if (generation === state.generation) $("users-status").textContent = listFailure(failure);
  } finally {
    state.pagesFetching.delete(key);
  }
}

function queueRender() {
  if (state.renderQueued) return;
  state.renderQueued = true;
  requestAnimationFrame(() => {
    state.renderQueued = false;
    renderUsers();
  });
}

/** Renders the loaded users in view; spacer rows above and below keep the scroll height.
 *  Rows still in view stay in the page untouched, so a focused button keeps its focus. */
export function renderUsers(measure = true) {
  const scroller = $("users-scroll");
  const body = $("users-body");
  const count = userCount();
  const height = state.rowHeight || 48;
  const top = scroller.scrollTop - $("users-table").tHead.getBoundingClientRect().height;
  const first = Math.max(0, Math.min(count, Math.floor(top / height) - OVERSCAN));
  const last = Math.max(first, Math.min(count, Math.ceil((top + scroller.clientHeight) / height) + OVERSCAN));
  for (const n of holdAround(first, last)) fetchPage(n);
  $("users-view").dataset.heldUsers = String(heldUsers());
  // undefined: the user's page is being fetched again, a placeholder row shows meanwhile.
  const wanted = Array.from({ length: last - first }, (_, i) => userAt(first + i));
  // A row stays while it shows the same record at the same position.
  const keep = new Map(wanted.flatMap((user, i) => (user ? [[user, first + i]] : [])));
  for (const row of [...body.rows]) {
    if (keep.get(state.rowUser.get(row)) !== Number(row.dataset.index)) row.remove();
  }
  const existing = new Map([...body.rows].map((row) => [state.rowUser.get(row), row]));
  let next = body.firstElementChild;
  wanted.forEach((user, i) => {
    const row = user && existing.get(user);
    if (row && row === next) next = next.nextElementSibling;
    else body.insertBefore(row || (user ? userRow(user, first + i) : placeholderRow(first + i, height)), next);
  });
  $("users-before").rows[0].cells[0].style.height = `${first * height}px`;
  $("users-after").rows[0].cells[0].style.height = `${(count - last) * height}px`;
  $("users-table").setAttribute("aria-rowcount", state.done ? String(count + 1) : "-1");
  if (state.focus && (!document.activeElement || document.activeElement === document.body)) {
    const row = body.querySelector(`tr[data-user-id="${state.focus.id}"]`);
    row?.querySelectorAll(ROW_CONTROLS)[state.focus.control]?.focus({ preventScroll: true });
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

/** Empties the list (a new sign-in: nothing of the last session's list stays). */
export function clearUsers() {
  state.generation += 1;
  state.prefetched = null;
  resetPages();
  state.cursor = null;
  state.done = false;
  state.fresh = false;
  // Nothing here reads the layout: the shell shown for the first time takes a while to lay
  // out, and reloadUsers asks for the first page before that.
  $("users-body").replaceChildren();
  for (const gap of ["users-before", "users-after"]) $(gap).rows[0].cells[0].style.height = "0px";
}

/** Reloads the list from its first page. The chip counts and how many match always
 *  follow; the totals above the list only when asked or when the list is no longer
 *  narrowed (counting every session costs the server more than a page). `firstPage`, the
 *  first page in the default order already fetched, is used if the list is in that order. */
export async function reloadUsers({ counts = true, firstPage = null } = {}) {
  state.generation += 1;
  state.prefetched = firstPage && !narrowed() && state.sort === "name" ? firstPage : null;
  state.cursor = null;
  state.done = false;
  // The rows shown stay until the first page replaces them: a failed load (the server
  // cannot be reached) leaves the list as it was.
  state.fresh = true;
  // The last search's counts are not this one's: none until the server answers.
  state.counts = null;
  // The first page is asked for before anything else.
  const loading = loadMoreUsers();
  // Setting the scroll position lays the page out: not for a list with nothing in it
  // (the shell just shown), which is at the top anyway.
  if (userCount()) $("users-scroll").scrollTop = 0;
  $("users-view").dataset.loadedCount = "0";
  $("users-status").textContent = "Loading users…";
  searchChanged();
  if (counts || !narrowed()) refreshSummary();
  else refreshCounts();
  await loading;
}

/** Fetches the pages around the rows in view again (same search, filter and order) and
 *  swaps them in, keeping the scroll position: after an admin event, rows and the Online
 *  filter say what is true now, however far the list is scrolled. If what follows the last
 *  of them is no longer what was loaded after it (the order moved), the list ends there
 *  and scrolling loads on from it. The counts above the list are refreshed too. */
export async function refreshUsers() {
  if (!state.session) return;
  refreshSummary();
  refreshThrottles();
  state.generation += 1;
  const generation = state.generation;
  if (!state.pages.length) {
    // Nothing loaded (an empty search, or the first page failed): start from the top.
    state.cursor = null;
    state.done = false;
    state.fresh = true;
    await loadMoreUsers();
    return;
  }
  const [from, to] = heldRange();
  const fetched = [];
  let cursor = cursorOf(from);
  let next = null;
  try {
    for (let n = from; n <= to; n += 1) {
      const page = await call("list_users", { ...pageQuery(), cursor });
      if (generation !== state.generation) return; // a newer search or refresh replaced this one
      fetched.push({ cursor, users: page.users });
      next = page.next_cursor;
      cursor = next;
      if (!next) break;
    }
  } catch (failure) {
    if (generation === state.generation) $("users-status").textContent = listFailure(failure);
    return;
  }
  const lastFetched = from + fetched.length - 1;
  if (next !== cursorOf(lastFetched + 1)) {
    truncateAfter(lastFetched);
    state.cursor = next;
    state.done = !next;
  }
  // From the last, so that a page that came back empty (and goes) moves none before it.
  for (let i = fetched.length - 1; i >= 0; i -= 1) refill(from + i, fetched[i].users, fetched[i].cursor);
  state.fresh = false;
  state.loadingFor = null;
  renderUsers();
  showListStatus();
}

/** The line under the list when a page could not be loaded. Unreachable: the offline bar
 *  says why, and the rows last loaded stay. */
function listFailure(failure) {
  return isOffline(failure) && userCount() ? "Showing the users as last loaded." : failure.message;
}

/** The line under the list: how many are shown of how many match, or why none are. */
export function showListStatus() {
  const shown = userCount();
  $("users-view").dataset.loadedCount = String(shown);
  $("users-status").textContent = listStatus(shown, state.done);
  showSelection();
}

/** The search, filters and order of the list, for `list_users`. */
function pageQuery() {
  return { q: state.query || null, status: state.filter || null, role: state.role || null, sort: state.sort };
}

export async function loadMoreUsers() {
  // A page still loading for an older search must not hold up the new one.
  if (state.loadingFor === state.generation || state.done) return;
  state.loadingFor = state.generation;
  const generation = state.generation;
  if (!performance.getEntriesByName("first-page-asked").length) performance.mark("first-page-asked");
  try {
    const prefetched = state.cursor ? null : state.prefetched;
    state.prefetched = null;
    // Awaited either way: the caller's own first steps come before the rows.
    const page = await (prefetched ?? call("list_users", { ...pageQuery(), cursor: state.cursor }));
    if (generation !== state.generation) return; // a newer search replaced this one
    const fetchedAt = performance.now();
    const firstPage = !state.cursor;
    if (firstPage && !performance.getEntriesByName("first-page").length) performance.mark("first-page");
    if (state.fresh) {
      state.fresh = false;
      if (userCount()) $("users-scroll").scrollTop = 0;
      resetPages();
    }
    if (page.users.length) appendPage(state.cursor, page.users);
    state.cursor = page.next_cursor;
    state.done = !page.next_cursor;
    renderUsers();
    if (firstPage && !performance.getEntriesByName("first-rows").length) performance.mark("first-rows");
    if (firstPage && state.keyAt !== undefined) {
      recordSearchTime(state.keyAt, fetchedAt);
      state.keyAt = undefined;
    }
    showListStatus();
  } catch (failure) {
    if (generation === state.generation) $("users-status").textContent = listFailure(failure);
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
    body: `This ends ${plural(sessions, "session", "sessions")} of ${user.display_name} (${user.username}): ` +
      `${user.app_sessions} in the app and ${user.web_sessions} on the web. They will have to sign in again.`,
    action: "Logout",
  });
  if (!ok) return;
  try {
    const result = await withButton(button, () => call("logout_user", { id: user.id }));
    updateUser({ ...user, app_sessions: 0, web_sessions: 0 }, button);
    showMessage("success", `${user.display_name} was logged out: ${plural(result.sessions_revoked, "session", "sessions")} ended.`);
    refreshSummary();
  } catch (failure) {
    showMessage("error", `Could not log out ${user.display_name}: ${failure.message}`);
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
    showMessage("success", activate
      ? `${user.display_name} was activated and can sign in again.`
      : `${user.display_name} was deactivated: ${plural(change.sessions_revoked, "session", "sessions")} ended.`);
    refreshSummary();
  } catch (failure) {
    showMessage("error", `Could not ${activate ? "activate" : "deactivate"} ${user.display_name}: ${failure.message}`);
  }
}

async function logoutAll() {
  const button = $("logout-all");
  let summary;
  try {
    summary = await call("session_summary");
  } catch (failure) {
    showMessage("error", `Could not count the sessions: ${failure.message}`);
    return;
  }
  const all = summary.logout_all;
  const kept = summary.logout_all_keep_admins;
  const ok = await confirmAction({
    title: "Logout All Users?",
    body: `This logs out ${plural(all.users, "user", "users")} (${plural(all.sessions, "session", "sessions")}: ` +
      `${numbers.format(all.app_sessions)} app, ${numbers.format(all.web_sessions)} web). You stay signed in.`,
    action: "Logout All Users",
    option: `Keep other administrators signed in (then ${plural(kept.users, "user", "users")} and ` +
      `${plural(kept.sessions, "session", "sessions")} are logged out)`,
  });
  if (!ok) return;
  try {
    const result = await withButton(button, () => call("logout_all", { keepAdmins: ok.option }));
    showMessage("success", `Logged out ${plural(result.users_affected, "user", "users")}: ${plural(result.sessions_revoked, "session", "sessions")} ended. You are still signed in.`);
    reloadUsers();
  } catch (failure) {
    showMessage("error", `Logout of all users failed: ${failure.message}`);
  }
}

/** What the signed-in admin's role allows, on the view's own buttons. */
export function enterUsers(session) {
  // What the role does not allow, said once above the list (a disabled button's tooltip is
  // out of the keyboard's reach).
  const note = $("role-note");
  note.textContent = !can("force_logout")
    ? `Your role (${session.role}) cannot log users out or deactivate them; ask an administrator.`
    : !can("manage_users")
      ? `Your role (${session.role}) can log users out and end sessions but cannot deactivate, activate, add, edit or delete users; ask an administrator.`
      : "";
  note.hidden = !note.textContent;
  const logoutAllButton = $("logout-all");
  logoutAllButton.disabled = !can("force_logout");
  logoutAllButton.title = logoutAllButton.disabled ? `Your role (${session.role}) cannot log users out.` : "";
  enterAccounts(session);
  enterSelection(session);
}

export function wireUsers() {
  $("search").maxLength = state.contract.limits.search_max;
  // The first keystroke after a pause searches at once; a burst of typing waits for a
  // pause, so the server sees one query per burst, not one per key.
  $("search").addEventListener("input", () => {
    state.keyAt = performance.now();
    clearTimeout(state.searchTimer);
    const search = () => {
      state.lastSearch = performance.now();
      state.query = $("search").value.trim();
      reloadUsers({ counts: false });
    };
    if (performance.now() - state.lastSearch > SEARCH_DEBOUNCE_MS) search();
    else state.searchTimer = setTimeout(search, SEARCH_DEBOUNCE_MS);
  });
  for (const chip of document.querySelectorAll("#users-view .chip[data-filter]")) {
    chip.addEventListener("click", () => {
      for (const other of document.querySelectorAll("#users-view .chip[data-filter]")) other.setAttribute("aria-pressed", String(other === chip));
      state.filter = chip.dataset.filter;
      reloadUsers();
    });
  }
  $("logout-all").addEventListener("click", logoutAll);
  wireListTools(() => reloadUsers({ counts: false }));
  wireSelection(() => refreshUsers());
  // After an account change the rows and counts follow (the users_changed event does too).
  wireAccounts(() => refreshUsers());
  // Both: the observer covers resizes and zoom, the scroll listener fast flinging.
  $("users-scroll").addEventListener("scroll", () => {
    queueRender();
    if (sentinelVisible()) loadMoreUsers();
  }, { passive: true });
  new ResizeObserver(queueRender).observe($("users-scroll"));
  $("users-body").addEventListener("keydown", tabBetweenRows);
  $("users-body").addEventListener("focusin", (event) => {
    const row = event.target.closest("tr");
    if (!row.dataset.userId) return; // a placeholder
    state.focus = { id: row.dataset.userId, control: [...row.querySelectorAll(ROW_CONTROLS)].indexOf(event.target) };
  });
  document.addEventListener("focusin", (event) => {
    if (!$("users-body").contains(event.target)) state.focus = null;
  });
  new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) loadMoreUsers();
  }, { root: $("users-scroll"), rootMargin: "200px" }).observe($("users-sentinel"));
  setInterval(() => {
    if (state.session && !document.hidden && !$("users-view").hidden && state.loadingFor === null) refreshUsers();
  }, REFRESH_MS);
}
