// The page talks only to the Rust side, through Tauri commands: the server token never
// reaches it. Every failure is `{error, message}`: a code to branch on, a sentence to show.

import { $ } from "./dom.js";
import { state } from "./state.js";

const { invoke } = window.__TAURI__.core;
const { listen } = window.__TAURI__.event;

export { listen };

let signedOut = () => {};
let connection = () => {};

/** Failures that mean the server cannot be reached now (not that it said no). */
const OFFLINE = new Set(["unreachable", "timeout", "transport", "unavailable"]);

/** Whether a failure means the server could not be reached (the offline bar says so). */
export function isOffline(failure) {
  return OFFLINE.has(failure.error);
}

/** Who shows whether the server can be reached: `handler(null)` when a call got an answer,
 *  `handler(message)` when it could not reach the server. */
export function onConnection(handler) {
  connection = handler;
}

/** Who handles "the server signed you out" (the sign-in screen, given the sentence and
 *  the code: "not_signed_in" says only that the app was signed out, not by whom). */
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
    const answer = await invoke(command, args);
    connection(null);
    return answer;
  } catch (error) {
    const failure = failureOf(error);
    if (failure.error === "signed_out" || failure.error === "not_signed_in") {
      signedOut(failure.message, failure.error);
    }
    if (OFFLINE.has(failure.error)) connection(failure.message);
    else if (failure.error !== "not_signed_in") connection(null); // the server answered
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
