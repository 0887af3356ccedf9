// Import users…: a CSV file picked with a plain file input and read in the page, a preview
// from the server (new, changed, unchanged, every error by line), then Apply with a
// progress indication. The server applies all or nothing; the columns come from the
// contract.

import { $, el, showMessage } from "../lib/dom.js";
import { numbers, plural } from "../lib/format.js";
import { call } from "../lib/ipc.js";
import { can, state } from "../lib/state.js";

/** Rows of the preview listed in the dialog; the counts cover the whole file. */
const LISTED = 200;

let text = null;
let onImported = () => {};

/** Forgets the last file's preview; `keepFile` keeps the file just picked in the input. */
function reset({ keepFile = false } = {}) {
  text = null;
  if (!keepFile) $("im-file").value = "";
  $("im-error").hidden = true;
  $("im-preview").hidden = true;
  $("im-progress-box").hidden = true;
  $("im-done").hidden = true;
  $("im-apply").disabled = true;
  $("im-file").disabled = false;
}

function fail(message) {
  $("im-error").textContent = message;
  $("im-error").hidden = false;
}

function counts(report) {
  return `${plural(report.rows, "row", "rows")}: ${numbers.format(report.new)} new, ` +
    `${numbers.format(report.changed)} changed, ${numbers.format(report.unchanged)} unchanged` +
    (report.deactivated ? `, ${numbers.format(report.deactivated)} to deactivate (their sessions end)` : "") +
    (report.errors.length ? `; ${plural(report.errors.length, "row", "rows")} in error` : "");
}

function listItems(items, render) {
  const shown = items.slice(0, LISTED).map(render);
  if (items.length > LISTED) shown.push(el("li", { text: `… and ${numbers.format(items.length - LISTED)} more` }));
  return shown;
}

function showPreview(report) {
  $("im-counts").textContent = counts(report);
  $("im-errors").replaceChildren(...listItems(report.errors, (e) => el("li", { text: `Line ${e.line}: ${e.reason}` })));
  $("im-errors-box").hidden = report.errors.length === 0;
  $("im-changes").replaceChildren(...listItems(report.changes, (c) =>
    el("li", { text: `Line ${c.line}: ${c.username} — ${c.what}` })));
  $("im-changes-box").hidden = report.changes.length === 0;
  $("im-preview").hidden = false;
  // Applying a file with errors is refused by the server, which says why.
  $("im-apply").disabled = report.new + report.changed === 0 && report.errors.length === 0;
}

async function readFile() {
  reset({ keepFile: true });
  const file = $("im-file").files[0];
  if (!file) return;
  if (file.size > 8 * 1024 * 1024) return fail("The file is larger than 8 MiB; split it into smaller files.");
  let bytes;
  try {
    bytes = await file.arrayBuffer();
  } catch {
    return fail("The file could not be read. Pick it again.");
  }
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return fail("The file is not UTF-8 text. Save it as \"CSV UTF-8\" and pick it again.");
  }
  try {
    showPreview(await call("import_users", { csv: text, dryRun: true }));
  } catch (failure) {
    text = null;
    fail(failure.message);
  }
}

async function apply() {
  if (text === null) return;
  $("im-error").hidden = true;
  $("im-apply").disabled = true;
  $("im-file").disabled = true;
  $("im-progress-box").hidden = false;
  $("im-progress").removeAttribute("value");
  $("im-progress-text").textContent = `Importing ${$("im-counts").textContent.split(":")[0]}…`;
  try {
    const report = await call("import_users", { csv: text, dryRun: false });
    $("im-progress").value = 1;
    $("im-progress").max = 1;
    $("im-progress-text").textContent = "Done.";
    const done = `Imported: ${numbers.format(report.new)} new, ${numbers.format(report.changed)} changed, ` +
      `${numbers.format(report.unchanged)} unchanged` +
      (report.sessions_revoked ? `; ${plural(report.sessions_revoked, "session", "sessions")} ended` : "") + ".";
    $("im-done").textContent = done;
    $("im-done").hidden = false;
    $("im-preview").hidden = true;
    showMessage("success", done);
    onImported();
  } catch (failure) {
    $("im-progress-box").hidden = true;
    $("im-file").disabled = false;
    $("im-apply").disabled = false;
    fail(failure.message);
  }
}

export function enterImport() {
  $("import-users").hidden = !can("manage_users");
}

export function wireImport(imported) {
  onImported = imported;
  const columns = state.contract.import_columns;
  $("im-help").textContent = `A CSV file (UTF-8, comma or semicolon separated) whose first line names its columns: ` +
    `${columns.join(", ")}. Only username is required; an empty cell leaves that field as it is. ` +
    "New accounts have no password. Nothing changes until you press Apply, and a file with any row in error changes nothing.";
  $("import-users").addEventListener("click", () => {
    reset();
    $("import-dialog").showModal();
    $("im-file").focus();
  });
  $("im-file").addEventListener("change", readFile);
  $("im-apply").addEventListener("click", apply);
  $("im-cancel").addEventListener("click", () => $("import-dialog").close());
}
