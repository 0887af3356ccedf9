// Maintenance: the windows with their state and a live countdown, the form that schedules
// one (checked against the contract's limits from the Rust side) beside a preview of the
// users' banner, and the sidebar's next-window line. Which window is next is decided on the
// Rust side (`next_window_id`), the same rule as the tray's line.

import { $, el, showMessage, withButton } from "../lib/dom.js";
import { confirmAction } from "../lib/dialog.js";
import { localInputValue, localTime, numbers, plural, relativeTime, untilText, zoneLabel } from "../lib/format.js";
import { call } from "../lib/ipc.js";
import { can, state } from "../lib/state.js";
import {
  labelRepeatChoices, repeatProblem, repeatRule, repeatSentence, resetRepeat, showRepeatFields, timeZone,
} from "./repeat.js";

const DAY = 24 * 3600;
/** Window states that can still collide with a new window. */
const LIVE = new Set(["scheduled", "running"]);
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The overlap error in words: which window it collides with, by its times, never its id. */
function overlapSentence(failure) {
  const id = failure.message.match(UUID)?.[0] ?? null;
  const other = state.windows.find((w) => w.id === id);
  state.overlapWith = id;
  const which = other
    ? `the maintenance from ${localTime(other.starts_at)} ${other.ends_at ? `to ${localTime(other.ends_at)}` : "until it is ended"}`
    : "another maintenance window";
  return `This window overlaps ${which}. Choose other times, or cancel that maintenance first.`;
}

function updatePreview() {
  const message = $("mw-message").value.trim();
  $("mw-preview-message").textContent = message || "Your message appears here.";
  const start = $("mw-start").value ? new Date($("mw-start").value) : null;
  $("mw-preview-countdown").textContent = start && !Number.isNaN(start.getTime())
    ? `Starts ${untilText(start.toISOString())}. Save your work.`
    : "";
}

/** "60, 15 and 5 min" */
function minutesList(offsets) {
  const words = offsets.map((o) => String(o / 60));
  return `${words.length > 1 ? `${words.slice(0, -1).join(", ")} and ${words.at(-1)}` : words[0]} min`;
}

/** The ticked warnings already due when a window is created at `createdAt`: the server
 *  sends them as one warning at once. */
function dueAtOnce(startsAt, offsets, createdAt) {
  return [...offsets].sort((a, b) => b - a).filter((o) => startsAt - o * 1000 <= createdAt);
}

function stepSummary(window) {
  const warnings = window.steps.filter((s) => s.kind === "warning");
  const sent = warnings.filter((s) => s.state === "done").length;
  const logout = window.steps.find((s) => s.kind === "logout");
  const folded = dueAtOnce(new Date(window.starts_at).getTime(), window.warn_before, new Date(window.created_at).getTime());
  const parts = [warnings.length
    ? `${sent} of ${warnings.length} ${warnings.length === 1 ? "warning" : "warnings"} sent` +
      (folded.length > 1 ? ` (the ${minutesList(folded)} warnings were already due: one went out at once)` : "")
    : "no warnings"];
  if (logout?.state === "done" && logout.detail) parts.push(`${plural(logout.detail.sessions_revoked, "session", "sessions")} ended`);
  const failed = window.steps.filter((s) => s.state === "failed").length;
  if (failed) parts.push(`${failed} failed`);
  return parts.join(" · ");
}

/** "just now", "5 min ago": the state badge beside it already says what happened. */
function ago(iso) {
  const text = relativeTime(iso);
  return text === "now" ? "just now" : text;
}

/** The message, where it moved from, and for an occurrence of a series the rule in words
 *  and what follows. */
function messageCell(window) {
  const cell = el("td", { class: "message", text: window.message });
  if (window.moved_from) cell.append(el("span", { class: "series-line", text: `Moved from ${localTime(window.moved_from)}` }));
  const series = window.series;
  if (series) {
    const next = series.next.filter((at) => at !== window.starts_at);
    const text = `Repeats ${series.description}` +
      (series.state === "active"
        ? (next.length ? `. Next: ${next.map(localTime).join("; ")}` : ". This is the last one")
        : ` (${series.state === "cancelled" ? "series cancelled" : "no occurrence left"})`);
    cell.append(el("span", { class: "series-line", text }));
  }
  return cell;
}

function windowRow(window) {
  const row = el("tr", { "data-window-id": window.id, "data-state": window.state });
  const when = el("td", { class: "countdown" });
  if (window.state === "scheduled") when.dataset.countdown = window.starts_at;
  else when.textContent = window.state === "running"
    ? `started ${ago(window.starts_at)}`
    : ago(window.finished_at);
  row.append(
    el("td", { text: localTime(window.starts_at) }),
    el("td", { text: window.ends_at ? localTime(window.ends_at) : "when ended" }),
    messageCell(window),
    el("td", {}, el("span", { class: `badge ${window.state}`, text: window.state })),
    when,
    el("td", { class: "steps", text: stepSummary(window) }),
  );
  const actions = el("div", { class: "row-actions" });
  if (window.state === "scheduled") {
    const move = el("button", { type: "button", class: "secondary edit", text: "Move or edit" });
    move.addEventListener("click", () => editWindow(window));
    const cancel = el("button", { type: "button", class: "secondary cancel", text: "Cancel" });
    cancel.addEventListener("click", () => cancelWindow(window, cancel));
    actions.append(move, cancel);
  } else if (window.state === "running") {
    const end = el("button", { type: "button", class: "danger end", text: "End now" });
    end.addEventListener("click", () => endWindow(window, end));
    actions.append(end);
  }
  if (LIVE.has(window.state) && window.series?.state === "active") {
    const stop = el("button", { type: "button", class: "secondary cancel-series", text: "Cancel series" });
    stop.addEventListener("click", () => cancelSeries(window, stop));
    actions.append(stop);
  }
  for (const button of actions.querySelectorAll("button")) {
    if (!can("force_logout")) {
      button.disabled = true;
      button.title = `Your role (${state.session.role}) cannot change maintenance windows.`;
    }
  }
  const cell = el("td", { class: "actions-cell" });
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

function showNextWindow(next) {
  const line = $("next-window");
  line.replaceChildren();
  if (!next) return;
  const when = el("span", { class: "countdown" });
  if (next.state === "scheduled") when.dataset.countdown = next.starts_at;
  else when.textContent = "running now";
  line.append(el("div", { text: "Next window:" }), el("div", { text: localTime(next.starts_at) }), when);
}

export async function reloadMaintenance() {
  if (!state.session) return;
  try {
    const list = await call("list_maintenance");
    state.windows = list.windows;
    $("windows-body").replaceChildren(...list.windows.map(windowRow));
    // An overlap error is about a window that is still to come or running: once that
    // window is cancelled or over, the error no longer holds.
    if (state.overlapWith && !list.windows.some((w) => w.id === state.overlapWith && LIVE.has(w.state))) {
      state.overlapWith = null;
      $("mw-error").hidden = true;
    }
    $("windows-status").textContent = list.windows.length ? "" : "No maintenance windows yet.";
    showNextWindow(list.windows.find((w) => w.id === list.next_window_id));
    tickCountdowns();
  } catch (failure) {
    $("windows-status").textContent = failure.message;
  }
}

/** What is wrong with the form, as a sentence, or null. The limits are the contract's. */
function formProblem({ start, end, message, freezeMinutes }) {
  const limits = state.contract.limits;
  const now = new Date();
  if (Number.isNaN(start.getTime())) return "Choose when the maintenance starts.";
  if (start <= now) return "The start time is in the past. Choose a time in the future.";
  if (start - now > limits.starts_ahead_max * 1000) {
    return `Choose a start within ${Math.floor(limits.starts_ahead_max / DAY)} days from now.`;
  }
  if (end && end <= start) return "The end time must be after the start time.";
  if (end && end - start > limits.window_length_max * 1000) {
    return `A maintenance window lasts at most ${Math.floor(limits.window_length_max / DAY)} days; choose an earlier end.`;
  }
  if (!message) return "Write the message users will see.";
  if ([...message].length > limits.message_max) {
    return `The message is longer than ${limits.message_max} characters; shorten it.`;
  }
  return freezeProblem(freezeMinutes);
}

/** "24 hours", "90 minutes": a limit in seconds, in words. */
function durationWords(seconds) {
  return seconds % 3600 === 0
    ? plural(seconds / 3600, "hour", "hours")
    : plural(Math.round(seconds / 60), "minute", "minutes");
}

/** What is wrong with the freeze field, with the contract's limit in words, or null. */
function freezeProblem(minutes) {
  const max = state.contract.limits.freeze_before_max;
  if ($("mw-freeze").validity.badInput || !Number.isInteger(minutes) || minutes < 0 || minutes * 60 > max) {
    return `Freeze sign-ins 0 to ${numbers.format(max / 60)} minutes (${durationWords(max)}) before the start, in whole minutes.`;
  }
  return null;
}

/** The freeze field as a number of minutes (an empty field is 0, as the server's default is not). */
function freezeMinutesValue() {
  const value = $("mw-freeze").value.trim();
  return value === "" ? 0 : Number(value);
}

/** The warnings as they will really go out for a window starting at `start`, scheduled now:
 *  those already due go out as one at once (the server folds them). */
function warningPlan(start, warnings) {
  if (!warnings.length) return "Users get no warning";
  const due = dueAtOnce(start.getTime(), warnings, Date.now());
  const later = [...warnings].sort((a, b) => b - a).filter((o) => !due.includes(o));
  if (!due.length) return `Users are warned ${minutesList(later)} before the start`;
  const when = later.length ? `at once, then ${minutesList(later)} before the start` : "at once";
  const why = due.length === 1
    ? `the ${minutesList(due)} warning goes out now`
    : `the ${minutesList(due)} warnings go out as one now`;
  return `Users are warned ${when} (it starts ${untilText(start.toISOString())}, so ${why})`;
}

/** When sign-ins will really freeze for a window starting at `start`, scheduled now. */
function freezePlan(start, minutes) {
  if (minutes === 0) return "sign-ins are not frozen before the start";
  if (start.getTime() - minutes * 60 * 1000 <= Date.now()) return "sign-ins freeze at once";
  return `sign-ins freeze ${numbers.format(minutes)} min before the start`;
}

async function scheduleWindow() {
  const error = $("mw-error");
  error.hidden = true;
  state.overlapWith = null;
  const start = new Date($("mw-start").value);
  const end = $("mw-end").value ? new Date($("mw-end").value) : null;
  const message = $("mw-message").value.trim();
  const warnings = [...document.querySelectorAll(".mw-warn:checked")].map((c) => Number(c.value));
  const freezeMinutes = freezeMinutesValue();
  const keepAdmins = $("mw-keep-admins").checked;
  const problem = formProblem({ start, end, message, freezeMinutes }) ?? repeatProblem(end, state.contract.limits);
  if (problem) {
    error.textContent = problem;
    error.hidden = false;
    return;
  }
  if (state.editing) return changeWindow(state.editing, { start, end, message, warnings, freezeMinutes });
  const rule = repeatRule(start);
  let repeats = "";
  if (rule) {
    try {
      repeats = await repeatSentence(rule, start);
    } catch (failure) {
      error.textContent = failure.message;
      error.hidden = false;
      return;
    }
  }
  const ok = await confirmAction({
    title: "Schedule maintenance?",
    body: `Maintenance starts ${localTime(start.toISOString())} ${zoneLabel()}` +
      (end ? ` and ends ${localTime(end.toISOString())}.` : " and lasts until you end it.") +
      ` ${warningPlan(start, warnings)}; ${freezePlan(start, freezeMinutes)}; at the start everyone except you` +
      (keepAdmins ? " and the other administrators" : "") + " is signed out." + repeats,
    action: "Schedule",
  });
  if (!ok) return;
  try {
    const request = {
      starts_at: start.toISOString(),
      ends_at: end ? end.toISOString() : null,
      message,
      warn_before: warnings,
      freeze_before: Math.round(freezeMinutes * 60),
      keep_admins: keepAdmins,
    };
    const window = await withButton($("mw-submit"), () => rule
      ? call("schedule_series", { request: { window: request, repeat: { rule, time_zone: timeZone } } })
      : call("schedule_maintenance", { request }));
    showMessage("success", rule
      ? `Repeating maintenance scheduled: the first one on ${localTime(window.starts_at)}.`
      : `Maintenance scheduled for ${localTime(window.starts_at)}.`);
    resetForm();
    reloadMaintenance();
  } catch (failure) {
    error.textContent = failure.error === "window_overlaps" ? overlapSentence(failure) : failure.message;
    error.hidden = false;
  }
}

/** The form takes a scheduled window's values, to move or edit it. */
function editWindow(window) {
  state.editing = window;
  $("mw-start").value = localInputValue(new Date(window.starts_at));
  delete $("mw-start").dataset.untouched;
  $("mw-end").value = window.ends_at ? localInputValue(new Date(window.ends_at)) : "";
  $("mw-message").value = window.message;
  for (const box of document.querySelectorAll(".mw-warn")) box.checked = window.warn_before.includes(Number(box.value));
  $("mw-freeze").value = String(window.freeze_before / 60);
  resetRepeat();
  $("mw-repeat").disabled = true;
  $("mw-form-title").textContent = `Move or edit the maintenance of ${localTime(window.starts_at)}`;
  $("mw-submit").textContent = "Save changes";
  $("mw-stop-editing").hidden = false;
  showEmptyEnd();
  updatePreview();
  $("mw-form").scrollIntoView({ block: "start" });
  $("mw-start").focus();
}

/** Saves a moved or edited window after saying what changes for users. */
async function changeWindow(window, { start, end, message, warnings, freezeMinutes }) {
  const error = $("mw-error");
  const moved = start.getTime() !== new Date(window.starts_at).getTime();
  const warned = window.steps.some((s) => s.kind === "warning" && s.state === "done");
  const ok = await confirmAction({
    title: moved ? "Move the maintenance?" : "Change the maintenance?",
    body: (moved
      ? `The maintenance moves from ${localTime(window.starts_at)} to ${localTime(start.toISOString())} ${zoneLabel()}.`
      : `The maintenance still starts ${localTime(window.starts_at)}.`) +
      (warned ? " Users who were already warned are told the new time at once." : "") +
      ` ${warningPlan(start, warnings)}; ${freezePlan(start, freezeMinutes)}.`,
    action: "Save changes",
    dismiss: "Keep it as it was",
  });
  if (!ok) return;
  try {
    const changed = await withButton($("mw-submit"), () => call("change_maintenance", {
      id: window.id,
      change: {
        starts_at: start.toISOString(),
        ends_at: end ? end.toISOString() : null,
        message,
        warn_before: warnings,
        freeze_before: Math.round(freezeMinutes * 60),
      },
    }));
    showMessage("success", moved
      ? `Maintenance moved to ${localTime(changed.starts_at)}.`
      : `The maintenance of ${localTime(changed.starts_at)} was changed.`);
    resetForm();
    reloadMaintenance();
  } catch (failure) {
    error.textContent = failure.error === "window_overlaps" ? overlapSentence(failure) : failure.message;
    error.hidden = false;
  }
}

async function cancelWindow(window, button) {
  const next = window.series?.state === "active" ? window.series.next.find((at) => at !== window.starts_at) : null;
  const ok = await confirmAction({
    title: `Cancel the maintenance of ${localTime(window.starts_at)}?`,
    body: `The maintenance planned for ${localTime(window.starts_at)} will not happen. Users who were warned are told it is cancelled, and sign-ins reopen.` +
      (next ? ` The series goes on: the next one is on ${localTime(next)}.` : ""),
    action: "Cancel maintenance",
    dismiss: "Keep it scheduled",
  });
  if (!ok) return;
  try {
    await withButton(button, () => call("cancel_maintenance", { id: window.id }));
    showMessage("success", `The maintenance planned for ${localTime(window.starts_at)} was cancelled.`);
  } catch (failure) {
    showMessage("error", `Could not cancel the maintenance: ${failure.message}`);
  }
  reloadMaintenance();
}

async function cancelSeries(window, button) {
  const ok = await confirmAction({
    title: "Cancel the whole repeating maintenance?",
    body: `No more occurrences of the maintenance that repeats ${window.series.description}.` +
      (window.state === "scheduled"
        ? ` The one planned for ${localTime(window.starts_at)} will not happen either; users who were warned are told.`
        : " The one running now goes on until it ends."),
    action: "Cancel the series",
    dismiss: "Keep the series",
  });
  if (!ok) return;
  try {
    await withButton(button, () => call("cancel_series", { id: window.id }));
    showMessage("success", "The repeating maintenance was cancelled: no more occurrences will follow.");
  } catch (failure) {
    showMessage("error", `Could not cancel the series: ${failure.message}`);
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
    showMessage("success", "The maintenance ended: users can sign in again.");
  } catch (failure) {
    showMessage("error", `Could not end the maintenance: ${failure.message}`);
  }
  reloadMaintenance();
}

/** The form's start, two hours from now, until the admin changes it. */
function defaultStart() {
  $("mw-start").value = localInputValue(new Date(Date.now() + 2 * 3600 * 1000));
  $("mw-start").dataset.untouched = "true";
  labelRepeatChoices(new Date($("mw-start").value));
  updatePreview();
}

/** A date field that is empty says so, instead of a grey date that looks like a value. */
function showEmptyEnd() {
  const input = $("mw-end");
  $("mw-end-field").classList.toggle("is-empty", !input.value && document.activeElement !== input);
}

/** Back to a blank form after a window was scheduled. */
function resetForm() {
  $("mw-message").value = "";
  $("mw-end").value = "";
  for (const box of document.querySelectorAll(".mw-warn")) box.checked = box.defaultChecked;
  $("mw-freeze").value = $("mw-freeze").defaultValue;
  $("mw-keep-admins").checked = false;
  state.editing = null;
  $("mw-repeat").disabled = false;
  $("mw-form-title").textContent = "New maintenance window";
  $("mw-submit").textContent = "Schedule maintenance";
  $("mw-stop-editing").hidden = true;
  resetRepeat();
  defaultStart();
  showEmptyEnd();
}

/** The view is shown: a start the admin did not choose is two hours from now again. */
export function showMaintenance() {
  if ($("mw-start").dataset.untouched === "true") defaultStart();
  showEmptyEnd();
}

/** What the signed-in admin's role allows, on the view's own buttons. */
export function enterMaintenance(session) {
  $("mw-submit").disabled = !can("force_logout");
  $("mw-submit").title = can("force_logout") ? "" : `Your role (${session.role}) cannot schedule maintenance.`;
}

export function wireMaintenance() {
  const limits = state.contract.limits;
  $("mw-message").maxLength = limits.message_max;
  $("mw-freeze").max = String(Math.floor(limits.freeze_before_max / 60));
  $("mw-zone").textContent = zoneLabel();
  defaultStart();
  $("mw-start").addEventListener("input", () => delete $("mw-start").dataset.untouched);
  for (const id of ["mw-message", "mw-start"]) $(id).addEventListener("input", updatePreview);
  $("mw-start").addEventListener("input", () => labelRepeatChoices(new Date($("mw-start").value)));
  $("mw-repeat").addEventListener("change", showRepeatFields);
  // A freeze out of range is said at once, in the form, before any confirmation.
  $("mw-freeze").addEventListener("input", () => {
    const problem = freezeProblem(freezeMinutesValue());
    $("mw-error").textContent = problem ?? "";
    $("mw-error").hidden = !problem;
  });
  showRepeatFields();
  for (const type of ["input", "change", "focus", "blur"]) $("mw-end").addEventListener(type, showEmptyEnd);
  showEmptyEnd();
  $("mw-stop-editing").addEventListener("click", () => { resetForm(); $("mw-error").hidden = true; });
  $("mw-form").addEventListener("submit", (event) => {
    event.preventDefault();
    scheduleWindow();
  });
  setInterval(tickCountdowns, 1000);
}
