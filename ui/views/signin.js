// The sign-in screen: server, username, password, and whether the OS keychain remembers
// the sign-in. The password goes to the Rust side and is cleared from the page at once.

import { $, showMessage, withButton } from "../lib/dom.js";
import { call } from "../lib/ipc.js";
import { state } from "../lib/state.js";
import { renderSignInServer, setServers } from "./servers.js";

/** Shows the sign-in screen, with why (if the server signed the admin out) and the
 *  remembered server and username. */
export function showSignIn(notice, profile) {
  state.session = null;
  $("starting").hidden = true;
  $("shell").hidden = true;
  $("signin-view").hidden = false;
  $("signin-error").hidden = true;
  $("signin-without-remember").hidden = true;
  $("signin-notice").hidden = !notice;
  $("signin-notice").textContent = notice ?? "";
  if (profile === undefined) {
    // Signed out of the current server: the form is for it again.
    const current = state.servers.servers.find((s) => s.name === state.servers.current);
    if (current) profile = { server: current.server, username: current.username, remember: current.remember };
  }
  if (profile) {
    $("server").value = profile.server.replace(/\/$/, "");
    $("username").value = profile.username;
    $("remember").checked = profile.remember;
  } else if (profile === null) {
    // A new server: a blank form.
    for (const id of ["server", "username"]) $(id).value = "";
  }
  // Which server this sign-in is for: the current one, or a new one.
  renderSignInServer(profile === null ? null : state.servers.current);
  showKeychainHint();
  $("password").value = "";
  ($("server").value ? ($("username").value ? $("password") : $("username")) : $("server")).focus();
}

async function signIn(remember, onSignedIn) {
  const error = $("signin-error");
  error.hidden = true;
  $("signin-without-remember").hidden = true;
  const button = $("signin-submit");
  try {
    const session = await withButton(button, () => call("sign_in", {
      name: $("server-name").value,
      server: $("server").value,
      username: $("username").value,
      password: $("password").value,
      remember,
    }));
    $("password").value = "";
    setServers(await call("list_servers"));
    onSignedIn(session);
    if (session.keychain_warning) showMessage("warning", `Signed in, but not remembered: ${session.keychain_warning}`);
  } catch (failure) {
    error.textContent = failure.message;
    error.dataset.code = failure.error;
    error.hidden = false;
    if (failure.error === "keychain_unavailable") $("signin-without-remember").hidden = false;
  }
}

/** Where the sign-in is kept: said only while Remember me is ticked. */
function showKeychainHint() {
  $("keychain-hint").hidden = !$("remember").checked;
}

/** Wires the form; `onSignedIn(session)` opens the shell. */
export function wireSignIn(onSignedIn) {
  $("username").maxLength = state.contract.limits.username_max;
  $("signin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    signIn($("remember").checked, onSignedIn);
  });
  $("remember").addEventListener("change", showKeychainHint);
  showKeychainHint();
  $("signin-without-remember").addEventListener("click", () => {
    $("remember").checked = false;
    showKeychainHint();
    signIn(false, onSignedIn);
  });
}
