// Tab and Shift+Tab through the users list: the next row with a button is rendered and
// focused at once, and rows not loaded yet are loaded first, so the focus never falls out
// of a list that goes on (only the rows in view are in the page).

import { $ } from "../lib/dom.js";
import { can, state } from "../lib/state.js";
import { loadMoreUsers, renderUsers } from "./users.js";

/** Whether a row has a button the keyboard can reach. */
function hasEnabledButton(user) {
  return can("force_logout")
    || (can("manage_users") && user.username !== state.session.username);
}

/** Puts row `index` in view, renders it now, and focuses its first (or last) enabled button. */
function focusRow(index, last) {
  const scroller = $("users-scroll");
  const head = $("users-table").tHead.getBoundingClientRect().height;
  const height = state.rowHeight || 48;
  const top = head + index * height;
  if (top < scroller.scrollTop + head) scroller.scrollTop = top - head;
  else if (top + height > scroller.scrollTop + scroller.clientHeight) scroller.scrollTop = top + height - scroller.clientHeight;
  renderUsers();
  const row = $("users-body").querySelector(`tr[data-user-id="${state.users[index].id}"]`);
  const buttons = row ? [...row.querySelectorAll("button:enabled")] : [];
  const button = last ? buttons.at(-1) : buttons[0];
  if (button) keyboardFocus(button);
}

/** Focus moved by the keyboard shows its ring (a scripted focus may not be :focus-visible). */
function keyboardFocus(button) {
  button.classList.add("keyboard-focus");
  button.addEventListener("blur", () => button.classList.remove("keyboard-focus"), { once: true });
  button.focus({ preventScroll: true });
}

/** Tab and Shift+Tab between rows: the next row with a button is rendered and focused at
 *  once (keys held down come faster than frames), and rows not loaded yet are loaded
 *  first, so the focus never falls out of a list that goes on. */
export function tabBetweenRows(event) {
  if (event.key !== "Tab" || event.altKey || event.ctrlKey || event.metaKey) return;
  const row = event.target.closest("tr");
  const buttons = [...row.querySelectorAll("button:enabled")];
  const at = buttons.indexOf(event.target);
  if (event.shiftKey ? at > 0 : at < buttons.length - 1) {
    // Within the row, moved here too, so the ring shows after focus the script gave.
    event.preventDefault();
    keyboardFocus(buttons[at + (event.shiftKey ? -1 : 1)]);
    return;
  }
  const step = event.shiftKey ? -1 : 1;
  const index = state.users.indexOf(state.rowUser.get(row));
  for (let i = index + step; i >= 0 && i < state.users.length; i += step) {
    if (hasEnabledButton(state.users[i])) {
      event.preventDefault();
      focusRow(i, step < 0);
      return;
    }
  }
  if (step > 0 && !state.done) {
    // The next rows are not loaded yet: the focus waits on this row until they are, and
    // the Tabs pressed meanwhile are counted, then carried out.
    event.preventDefault();
    state.tabsWaiting += 1;
    if (state.tabsWaiting > 1) return;
    const from = index;
    loadMoreUsers().then(() => {
      let next = from;
      for (let i = from + 1; i < state.users.length && state.tabsWaiting > 0; i += 1) {
        if (hasEnabledButton(state.users[i])) {
          next = i;
          state.tabsWaiting -= 1;
        }
      }
      state.tabsWaiting = 0;
      if (next !== from && document.activeElement === event.target) focusRow(next, false);
    });
  }
}

