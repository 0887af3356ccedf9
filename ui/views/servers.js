// Several servers ("production", "staging"): the switcher in the shell's top bar and the
// server picker on the sign-in screen. Each server has a name, an address and its own
// keychain entry on the Rust side; switching signs in with that server's remembered
// sign-in, or shows the sign-in screen filled in for it. The list itself lives on the Rust
// side (`servers.json`): the page only shows what the commands answer.

import { $, el, showMessage } from "../lib/dom.js";
import { confirmAction } from "../lib/dialog.js";
import { call } from "../lib/ipc.js";
import { state } from "../lib/state.js";

const ADD = "\u0000add";

let openShell = () => {};
let openSignIn = () => {};

/** Keeps what the Rust side said about the servers: `{current, servers}`. */
export function setServers(view) {
  if (view?.servers) state.servers = { current: view.current ?? null, servers: view.servers };
  renderSwitch();
}

function renderSwitch() {
  const select = $("server-switch");
  const { current, servers } = state.servers;
  select.replaceChildren(
    ...servers.map((s) => el("option", { value: s.name, text: s.name, selected: s.name === current })),
    el("option", { value: ADD, text: "Add a server…" }),
  );
  select.title = servers.find((s) => s.name === current)?.server ?? "";
}

/** The sign-in screen's picker: the saved servers and "A new server…", with the one the
 *  form is for selected; and the sentence that says which server this is. */
export function renderSignInServer(name) {
  const select = $("signin-server");
  const { servers } = state.servers;
  const chosen = servers.find((s) => s.name === name);
  select.replaceChildren(
    ...servers.map((s) => el("option", { value: s.name, text: s.name, title: s.server, selected: s === chosen })),
    el("option", { value: "", text: "A new server…", selected: !chosen }),
  );
  $("signin-server-field").hidden = servers.length === 0;
  $("signin-forget").hidden = !chosen;
  $("server-name").value = chosen?.name ?? "";
  $("signin-which").textContent = chosen
    ? `Sign in to ${chosen.name} (${chosen.server.replace(/\/$/, "")}).`
    : servers.length ? "Sign in to a new server: give it a name to find it by." : "";
}

/** What a switch answered: the shell, or the sign-in screen for that server. */
function opened(view) {
  setServers(view);
  if (view.signed_in) openShell(view.signed_in, view.first_users);
  else openSignIn(view.notice, view.profile);
}

async function switchTo(name) {
  // Until the switch is answered the switcher shows the new name while the current server
  // is still the old one: Forget would forget the old one, so it waits.
  const controls = [$("server-switch"), $("server-forget")];
  for (const control of controls) control.disabled = true;
  try {
    opened(await call("switch_server", { name }));
  } catch (failure) {
    showMessage("error", failure.message);
    renderSwitch();
  } finally {
    for (const control of controls) control.disabled = false;
  }
}

async function forget(name) {
  const saved = state.servers.servers.find((s) => s.name === name);
  if (!saved) return;
  const confirmed = await confirmAction({
    title: `Forget ${saved.name}?`,
    body: `Curfew signs out of ${saved.name} (${saved.server.replace(/\/$/, "")}), deletes its saved sign-in from the keychain and removes it from the list. You can add it again later.`,
    action: `Forget ${saved.name}`,
    dismiss: "Keep it",
  });
  if (!confirmed) return;
  try {
    opened(await call("remove_server", { name }));
  } catch (failure) {
    showMessage("error", failure.message);
  }
}

/** Wires the switcher and the picker; `shell(session)` opens the shell and
 *  `signIn(notice, profile)` the sign-in screen. */
export function wireServers(shell, signIn) {
  openShell = shell;
  openSignIn = signIn;
  $("server-name").maxLength = state.contract.server_name_max;
  $("server-switch").addEventListener("change", async () => {
    const value = $("server-switch").value;
    if (value === ADD) {
      try {
        // Leaves the current server (its remembered sign-in stays) for a blank form.
        opened(await call("add_server"));
      } catch (failure) {
        showMessage("error", failure.message);
        renderSwitch();
      }
    } else if (value !== state.servers.current) {
      switchTo(value);
    }
  });
  $("server-forget").addEventListener("click", () => forget(state.servers.current));
  $("signin-server").addEventListener("change", () => {
    const name = $("signin-server").value;
    if (name) {
      switchTo(name);
    } else {
      for (const id of ["server-name", "server", "username", "password"]) $(id).value = "";
      renderSignInServer(null);
      $("server-name").focus();
    }
  });
  $("signin-forget").addEventListener("click", () => forget($("signin-server").value));
}
