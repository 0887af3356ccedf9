// Repeating maintenance in the form: the Repeats choice as an RRULE (the subset curfewd
// runs), the choices named after the chosen start ("Every week on Monday"), and the
// confirmation's next occurrences, read on the Rust side by the same code curfewd decides
// with (`preview_repeat`). The rule's wall times are in the admin's own time zone.

import { $ } from "../lib/dom.js";
import { call } from "../lib/ipc.js";
import { localTime } from "../lib/format.js";

const CODES = ["SU", "MO", "TU", "WE", "TH", "FR", "SA"];
const NAMES = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];
const ORDINALS = ["first", "second", "third", "fourth"];

/** The time zone the rule is read in: the one the form's times are entered in. */
export const timeZone = Intl.DateTimeFormat().resolvedOptions().timeZone;

/** Which of its weekday in the month `date` is: 1 to 4, or -1 for the last (a fifth). */
function weekdayPosition(date) {
  const n = Math.ceil(date.getDate() / 7);
  return n > 4 ? -1 : n;
}

function positionWords(position) {
  return position === -1 ? "last" : ORDINALS[position - 1];
}

/** Names the choices after the start: "Every week on Monday", "… on the first Saturday". */
export function labelRepeatChoices(start) {
  const select = $("mw-repeat");
  const valid = start && !Number.isNaN(start.getTime());
  const day = valid ? NAMES[start.getDay()] : "the start's weekday";
  select.querySelector("[value=weekly]").textContent = `Every week on ${day}`;
  select.querySelector("[value=monthly-day]").textContent = valid
    ? `Every month on day ${start.getDate()}`
    : "Every month on the start's date";
  select.querySelector("[value=monthly-weekday]").textContent = valid
    ? `Every month on the ${positionWords(weekdayPosition(start))} ${day}`
    : "Every month on the same weekday";
}

/** Shows the fields the choice needs: a count for the built-in ones, the rule for custom. */
export function showRepeatFields() {
  const choice = $("mw-repeat").value;
  $("mw-repeat-count-field").hidden = !choice || choice === "custom";
  $("mw-repeat-rule").hidden = choice !== "custom";
}

/** The rule the form says for a start, or null when it does not repeat. */
export function repeatRule(start) {
  const choice = $("mw-repeat").value;
  if (!choice) return null;
  if (choice === "custom") return $("mw-repeat-rule").value.trim();
  const count = `COUNT=${Math.round(Number($("mw-repeat-count").value))}`;
  const code = CODES[start.getDay()];
  switch (choice) {
    case "weekly": return `FREQ=WEEKLY;BYDAY=${code};${count}`;
    case "monthly-day": return `FREQ=MONTHLY;BYMONTHDAY=${start.getDate()};${count}`;
    default: return `FREQ=MONTHLY;BYDAY=${weekdayPosition(start)}${code};${count}`;
  }
}

/** What is wrong with the repeat fields, as a sentence, or null. */
export function repeatProblem(end, limits) {
  const choice = $("mw-repeat").value;
  if (!choice) return null;
  if (!end) return "A repeating maintenance needs an end time: each occurrence ends on its own. Set Ends.";
  if (choice === "custom") return $("mw-repeat-rule").value.trim() ? null : "Write the repeat rule, such as FREQ=MONTHLY;BYDAY=1SA;COUNT=12.";
  const count = Number($("mw-repeat-count").value);
  if (!Number.isInteger(count) || count < 2 || count > limits.repeat_count_max) {
    return `Repeat it 2 to ${limits.repeat_count_max} times.`;
  }
  return null;
}

/** The sentence for the confirmation: the rule in words and the first occurrences. Throws
 *  `{message}` when the rule cannot run. */
export async function repeatSentence(rule, start) {
  const preview = await call("preview_repeat", {
    repeat: { rule, time_zone: timeZone },
    startsAt: start.toISOString(),
  });
  const more = preview.count > preview.starts.length ? ", …" : "";
  return ` It repeats ${preview.description}: ${preview.starts.map(localTime).join("; ")}${more}.`;
}

/** Back to "Does not repeat". */
export function resetRepeat() {
  $("mw-repeat").value = "";
  $("mw-repeat-count").value = $("mw-repeat-count").defaultValue;
  $("mw-repeat-rule").value = "";
  showRepeatFields();
}
