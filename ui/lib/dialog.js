// The one modal confirmation: it names what will happen, in numbers.

import { $ } from "./dom.js";

/** Resolves to null (dismissed) or {option}: whether the optional checkbox was ticked.
 *  `dismiss` names the button that does nothing (when "Cancel" would be ambiguous). */
export function confirmAction({ title, body, action, option, dismiss = "Cancel" }) {
  const dialog = $("confirm");
  $("confirm-title").textContent = title;
  $("confirm-body").textContent = body;
  $("confirm-ok").textContent = action;
  $("confirm-cancel").textContent = dismiss;
  $("confirm-option").hidden = !option;
  $("confirm-option-input").checked = false;
  if (option) $("confirm-option-label").textContent = option;
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => {
      resolve(dialog.returnValue === "ok" ? { option: $("confirm-option-input").checked } : null);
    }, { once: true });
    dialog.returnValue = "";
    dialog.showModal();
    $("confirm-cancel").focus();
  });
}
