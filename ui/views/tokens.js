// Settings › Service tokens: make a named token with scopes and an expiry (shown once, with
// Copy), the list with last use and address, and Revoke with a confirmation naming the
// token. The scopes and what they allow come from the contract.

import { $, el, showMessage, withButton } from "../lib/dom.js";
import { confirmAction } from "../lib/dialog.js";
import { localTime, relativeTime } from "../lib/format.js";
import { call } from "../lib/ipc.js";
import { can, state } from "../lib/state.js";

/** A date without its time, for the narrow columns (the cell's title has the time). */
const dayFormat = new Intl.DateTimeFormat(undefined, { dateStyle: "medium" });

function day(iso) {
  return dayFormat.format(new Date(iso));
}

function stateOf(token) {
  if (token.revoked_at) return `revoked ${relativeTime(token.revoked_at)}`;
  if (token.expires_at && new Date(token.expires_at) <= new Date()) return "expired";
  return "active";
}

function row(token) {
  const live = stateOf(token) === "active";
  const revoke = el("button", { type: "button", class: "danger", text: "Revoke" });
  revoke.setAttribute("aria-label", `Revoke ${token.name}`);
  revoke.addEventListener("click", () => revokeToken(token, revoke));
  const cells = [
    el("td", { text: token.name }),
    el("td", { text: token.scopes.join(", ") }),
    el("td", { text: `${day(token.created_at)} by ${token.created_by}`, title: localTime(token.created_at) }),
    el("td", { text: token.expires_at ? day(token.expires_at) : "never", title: token.expires_at ? localTime(token.expires_at) : "" }),
    el("td", { text: token.last_used_at
      ? `${relativeTime(token.last_used_at)}${token.last_used_address ? ` from ${token.last_used_address}` : ""}`
      : "never" }),
    el("td", { text: stateOf(token) }),
    el("td", {}, live ? revoke : ""),
  ];
  const tr = el("tr", { "data-token": token.name }, ...cells);
  if (!live) tr.classList.add("revoked");
  return tr;
}

export async function reloadTokens() {
  if (!can("manage_users")) {
    $("tokens-body").replaceChildren();
    $("tokens-status").textContent = "Only administrators (the manage_users permission) see and make service tokens.";
    $("tk-form").hidden = true;
    return;
  }
  $("tk-form").hidden = false;
  try {
    const { tokens } = await call("list_service_tokens");
    $("tokens-body").replaceChildren(...tokens.map(row));
    $("tokens-status").textContent = tokens.length ? "" : "No service tokens yet.";
  } catch (failure) {
    $("tokens-status").textContent = failure.message;
  }
}

async function revokeToken(token, button) {
  const answer = await confirmAction({
    title: `Revoke ${token.name}?`,
    body: `The token ${token.name} (${token.scopes.join(", ")}) stops working at its next request: ` +
      "scripts using it are refused until you give them a new one. This cannot be undone.",
    action: `Revoke ${token.name}`,
  });
  if (!answer) return;
  try {
    await withButton(button, () => call("revoke_service_token", { id: token.id }));
    showMessage("success", `Revoked the service token ${token.name}.`);
  } catch (failure) {
    showMessage("error", failure.message);
  }
  reloadTokens();
}

function clearErrors() {
  for (const id of ["tk-name-error", "tk-scopes-error", "tk-error"]) $(id).hidden = true;
}

function showError(id, message) {
  $(id).textContent = message;
  $(id).hidden = false;
}

async function makeToken(event) {
  event.preventDefault();
  clearErrors();
  const name = $("tk-name").value.trim();
  const scopes = [...document.querySelectorAll(".tk-scope:checked")].map((box) => box.value);
  if (!name) return showError("tk-name-error", "Give the token a name that says what uses it.");
  if (!scopes.length) return showError("tk-scopes-error", "Choose at least one thing the token may do.");
  const days = $("tk-expiry").value;
  const request = { name, scopes, expires_in_days: days ? Number(days) : null };
  try {
    const made = await withButton($("tk-submit"), () => call("create_service_token", { request }));
    $("tk-form").reset();
    showCreated(made);
    reloadTokens();
  } catch (failure) {
    const where = { invalid_name: "tk-name-error", token_name_taken: "tk-name-error", invalid_scopes: "tk-scopes-error" };
    showError(where[failure.error] ?? "tk-error", failure.message);
  }
}

function showCreated(made) {
  const token = made.service_token;
  $("tc-text").textContent = `Copy the token ${token.name} now and give it to the script (CURFEW_TOKEN, or a file for --token-file). ` +
    "It is shown only this once: Curfew keeps only a hash of it.";
  $("tc-token").textContent = made.token;
  $("tc-copied").textContent = "";
  const dialog = $("token-created");
  // The token leaves the page when the dialog closes.
  dialog.addEventListener("close", () => { $("tc-token").textContent = ""; }, { once: true });
  dialog.showModal();
  $("tc-copy").focus();
}

async function copyToken() {
  const range = document.createRange();
  range.selectNodeContents($("tc-token"));
  getSelection().removeAllRanges();
  getSelection().addRange(range);
  let copied = document.execCommand("copy");
  if (!copied) {
    try {
      await navigator.clipboard.writeText($("tc-token").textContent);
      copied = true;
    } catch {
      copied = false;
    }
  }
  $("tc-copied").textContent = copied
    ? "Copied. Paste it where only the script can read it, then press Done."
    : "Could not copy: the token is selected, press Ctrl+C to copy it.";
}

export function wireTokens() {
  $("tk-name").maxLength = state.contract.token_name_max;
  $("tk-scopes").append(...state.contract.token_scopes.map(([scope, words]) =>
    el("label", { class: "check" },
      el("input", { type: "checkbox", class: "tk-scope", value: scope, id: `tk-scope-${scope}` }),
      ` ${scope}: ${words}`)));
  $("tk-form").addEventListener("submit", makeToken);
  $("tc-copy").addEventListener("click", copyToken);
}
