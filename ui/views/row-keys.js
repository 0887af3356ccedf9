// Tab and Shift+Tab through the users list: the next row's first control (its box) or
// the last row's last is rendered and focused at once, and rows not loaded yet are loaded
// first, so the focus never falls out of a list that goes on (only the rows in view are
// in the page).

import { $ } from "../lib/dom.js";
import { state } from "../lib/state.js";
import { idAt, userCount } from "./user-pages.js";
import { loadMoreUsers, renderUsers } from "./users.js";

/** What the keyboard reaches in a row, in order: the row's box, then its buttons. */
export const ROW_CONTROLS = "input.select-user, button:enabled";

/** Puts row `index` in view, renders it now, and focuses its first (or last) control. */
function focusRow(index, last) {
  const scroller = $("users-scroll");
  const head = $("users-table").tHead.getBoundingClientRect().height;
  const height = state.rowHeight || 48;
  const top = head + index * height;
  if (top < scroller.scrollTop + head) scroller.scrollTop = top - head;
  else if (top + height > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = top + height - scroller.clientHeight;
  renderUsers();
  const row = $("users-body").querySelector(`tr[data-user-id="${idAt(index)}"]`);
  const controls = row ? [...row.querySelectorAll(ROW_CONTROLS)] : [];
  const control = last ? controls.at(-1) : controls[0];
  if (control) keyboardFocus(control);
}

/** Focus moved by the keyboard shows its ring (a scripted focus may not be :focus-visible). */
function keyboardFocus(control) {
  control.classList.add("keyboard-focus");
  control.addEventListener("blur", () => control.classList.remove("keyboard-focus"), { once: true });
  control.focus({ preventScroll: true });
}

/** Tab and Shift+Tab between rows: every row has its box, so the next row is rendered
 *  and focused at once (keys held down come faster than frames), and rows not loaded yet
 *  are loaded first, so the focus never falls out of a list that goes on. */
export function tabBetweenRows(event) {
  if (event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey) return;
  const row = event.target.closest("tr");
  const controls = [...row.querySelectorAll(ROW_CONTROLS)];
  const at = controls.indexOf(event.target);
  if (event.shiftKey ? at > 0 : at < controls.length - 1) {
    // Within the row, moved here too, so the ring shows after focus the script gave.
    event.preventDefault();
    keyboardFocus(controls[at + (event.shiftKey ? -1 : 1)]);
    return;
  }
  const step = event.shiftKey ? -1 : 1;
  const index = Number(row.dataset.index);
  const next = index + step;
  if (next >= 0 && next < userCount()) {
    event.preventDefault();
    focusRow(next, step < 0);
    return;
  }
  if (step > 0 && !state.done) {
    // The next rows are not loaded yet: the focus waits on this row until they are, and
    // the Tabs pressed meanwhile are counted, then carried out.
    event.preventDefault();
    state.tabsWaiting += 1;
    if (state.tabsWaiting > 1) return;
    loadMoreUsers().then(() => {
      const to = Math.min(index + state.tabsWaiting, userCount() - 1);
      state.tabsWaiting = 0;
      if (to > index && document.activeElement === event.target) focusRow(to, false);
    });
  }
}
