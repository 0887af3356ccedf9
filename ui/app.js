// Curfew's admin UI, the entry module: it loads the contract's facts from the Rust side,
// wires the views, routes between them and opens the shell after sign-in. The views live
// in views/ (signin, users, accounts, import, tokens, maintenance, activity); what they share in lib/ (ipc, dom,
// format, dialog, state). The page talks only to the Rust side through Tauri commands:
// the server token never reaches it.

import { $, withButton } from "./lib/dom.js";
import { call, invokeQuietly, listen, onConnection, onSignedOut } from "./lib/ipc.js";
import { state } from "./lib/state.js";
import { freshAudit, reloadAudit, wireActivity } from "./views/activity.js";
import { enterMaintenance, reloadMaintenance, showMaintenance, wireMaintenance } from "./views/maintenance.js";
import { showSignIn, wireSignIn } from "./views/signin.js";
import { setServers, wireServers } from "./views/servers.js";
import { clearUsers, enterUsers, refreshUsers, reloadUsers, wireUsers } from "./views/users.js";
import { refreshDetail, refreshThrottles } from "./views/accounts.js";
import { enterImport, wireImport } from "./views/import.js";
import { reloadTokens, wireTokens } from "./views/tokens.js";

const VIEWS = ["users", "tokens", "maintenance", "activity"];
/** Audit entries that change the windows another admin may have on screen. */
const WINDOW_ACTIONS = new Set(["schedule_maintenance", "move_maintenance"]);

function route() {
  const view = { "#activity": "activity", "#maintenance": "maintenance", "#tokens": "tokens" }[location.hash] ?? "users";
  for (const name of VIEWS) {
    $(`${name}-view`).hidden = name !== view;
    $(`nav-${name}`).toggleAttribute("aria-current", name === view);
  }
  if (view === "activity") reloadAudit();
  if (view === "tokens") reloadTokens();
  if (view === "users") refreshThrottles();
  if (view === "maintenance") {
    showMaintenance();
    reloadMaintenance();
  }
}

/** Opens the console for `session`; `firstUsers` is the list's first page if the Rust side
 *  already has it (a remembered sign-in checked at start or on a switch). */
function enterShell(session, firstUsers = null) {
  state.session = session;
  $("starting").hidden = true;
  $("signin-view").hidden = true;
  $("shell").hidden = false;
  // The server's name ("production", as notifications and the tray say it) is in the
  // switcher beside this line, its address in the switcher's tooltip: said once.
  $("whoami").textContent = `Signed in as ${session.username} (${session.role})`;
  enterUsers(session);
  enterMaintenance(session);
  enterImport();
  route();
  clearUsers();
  $("summary").textContent = "";
  reloadUsers({ firstPage: firstUsers });
  reloadMaintenance();
}

function wire() {
  // A call that finds the app signed out ("not_signed_in") may come before or after the
  // event with the server's sentence (who signed the admin out): that sentence wins.
  let generic = false;
  onSignedOut((message, code) => {
    if (code === "not_signed_in" && !state.session) return; // the sign-in screen says why already
    showSignIn(message);
    generic = code === "not_signed_in";
  });
  // While the server cannot be reached, one bar says so above the view, which keeps what it
  // last showed; Retry loads everything again.
  onConnection((message) => {
    const back = !message && !$("offline").hidden;
    $("offline").hidden = !message;
    if (message) $("offline-text").textContent = message;
    $("summary").classList.toggle("stale", Boolean(message));
    // The server answers again: what the views show is loaded afresh.
    if (back && state.session) {
      refreshUsers();
      reloadMaintenance();
      if (!$("activity-view").hidden) reloadAudit();
    }
  });
  $("offline-retry").addEventListener("click", () => withButton($("offline-retry"), () => refreshUsers()));
  wireSignIn(enterShell);
  wireServers(enterShell, showSignIn);
  wireUsers();
  wireMaintenance();
  wireActivity();
  wireTokens();
  wireImport(() => refreshUsers());
  $("signout").addEventListener("click", async () => {
    try {
      await withButton($("signout"), () => call("sign_out"));
      showSignIn("You signed out.");
    } catch (failure) {
      showSignIn(`Signed out here, but: ${failure.message}`);
    }
  });
  const { channels } = state.contract;
  listen(channels.admin_event, (event) => {
    if (!state.session) return;
    // Every event may come with new audit entries: an open log shows those its filter
    // matches at once. A new entry alone (a sign-in, a token, a window scheduled)
    // changes nothing else the views show, but a window another admin scheduled or moved.
    freshAudit();
    if (event.payload?.type === "audit_recorded") {
      if (WINDOW_ACTIONS.has(event.payload.action)) reloadMaintenance();
      return;
    }
    reloadMaintenance();
    // Every admin event may have signed users out: the rows, the Online filter and the
    // counts follow at once, not at the next periodic refresh (users_changed included);
    // so do the throttled sign-ins (refreshUsers fetches them) and an open user's sessions.
    refreshUsers();
    refreshDetail();
  });
  listen(channels.signed_out, (event) => {
    // The payload is the server's sentence: who signed the admin out, and what to do next.
    if (state.session || generic) showSignIn(event.payload);
    generic = false;
  });
  window.addEventListener("hashchange", () => state.session && route());
}

async function start() {
  // Marks of the start (performance.mark), read by `cargo xtask bench` to say where the
  // time to the first row goes: "contract", "startup", then users.js's "first-page-asked",
  // "first-page" and "first-rows" (the rows in the page).
  $("keychain-hint").textContent = "";
  try {
    state.contract = await invokeQuietly("contract");
    performance.mark("contract");
  } catch (failure) {
    showSignIn(`Curfew could not start its window: ${failure.message}`);
    return;
  }
  wire();
  try {
    const view = await invokeQuietly("startup");
    performance.mark("startup");
    setServers(view);
    $("keychain-hint").textContent = `Your sign-in will be kept in the ${view.keychain}.`;
    if (view.signed_in) enterShell(view.signed_in, view.first_users);
    else showSignIn(view.notice, view.profile);
  } catch (failure) {
    showSignIn(failure.message ?? String(failure));
  }
}

start();
