// The page talks only to the Rust side, through Tauri commands: the server token never
// reaches it. Every failure is `{error, message}`: a code to branch on, a sentence to show.

import { $ } from "./dom.js";
import { state } from "./state.js";

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

export { listen };

let signedOut = () => {};

/** Who handles "the server signed you out" (the sign-in screen, given the sentence). */
export function onSignedOut(handler) {
  signedOut = handler;
}

/** A command's failure in the `{error, message}` shape, whatever was thrown. */
export function failureOf(error) {
  return typeof error === "object" && error && "message" in error
    ? error
    : { error: "unknown", message: String(error) };
}

/** Runs a command with the progress bar shown; a "signed_out" error returns to sign-in. */
export async function call(command, args = {}) {
  state.busy += 1;
  $("progress").hidden = false;
  try {
    return await invoke(command, args);
  } catch (error) {
    const failure = failureOf(error);
    if (failure.error === "signed_out" || failure.error === "not_signed_in") {
      signedOut(failure.message);
    }
    throw failure;
  } finally {
    state.busy -= 1;
    $("progress").hidden = state.busy === 0;
  }
}

/** A command that runs before anyone signs in (no progress bar, no sign-out handling). */
export function invokeQuietly(command, args = {}) {
  return invoke(command, args).catch((error) => { throw failureOf(error); });
}
