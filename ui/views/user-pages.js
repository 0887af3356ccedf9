// The users list's records, a page at a time as the server sent them. Every page loaded
// keeps the cursor that fetches it again and its users' ids (a selection, a Shift-click
// range or the header box may span pages scrolled past long ago); only the pages near the
// rows in view keep the users themselves, so the app's memory stays flat however far the
// list is scrolled, as the page holds only the rows in view. A page dropped and scrolled
// back to is fetched again with its cursor, and its rows then say what is true now.
// Nothing here calls the server or touches the page: users.js does, through these.

import { state } from "../lib/state.js";

/** Pages whose users are held beyond each edge of the rows in view. */
const HELD_BEYOND = 2;

/** A page's ids, packed: one string when they are all as long (the server's ids are
 *  UUIDs), which costs a tenth of a string per id; else the list as it is. */
function packIds(users) {
  const ids = users.map((u) => u.id);
  const width = ids[0]?.length ?? 0;
  return width && ids.every((id) => id.length === width)
    ? { count: ids.length, width, text: ids.join("") }
    : { count: ids.length, list: ids };
}

function idIn(ids, k) {
  return ids.list ? ids.list[k] : ids.text.substr(k * ids.width, ids.width);
}

/** Forgets every page (a new search, filter or order; a new sign-in). */
export function resetPages() {
  state.pages = [];
}

/** How many users the list has loaded, held or not: positions 0 to this − 1. */
export function userCount() {
  const last = state.pages.at(-1);
  return last ? last.start + last.ids.count : 0;
}

/** The number of the page that holds position `index` (the last page past the end). */
function pageOf(index) {
  const pages = state.pages;
  let low = 0;
  let high = pages.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (pages[mid].start <= index) low = mid;
    else high = mid - 1;
  }
  return low;
}

/** The user at position `index`, or undefined while their page is not held. */
export function userAt(index) {
  if (index < 0 || index >= userCount()) return undefined;
  const page = state.pages[pageOf(index)];
  return page.users?.[index - page.start];
}

/** The id of the user at position `index` (known for every loaded position). */
export function idAt(index) {
  if (index < 0 || index >= userCount()) return undefined;
  const page = state.pages[pageOf(index)];
  return idIn(page.ids, index - page.start);
}

/** Every loaded user's id, in list order. */
export function* allIds() {
  for (const page of state.pages) {
    for (let k = 0; k < page.ids.count; k += 1) yield idIn(page.ids, k);
  }
}

/** Adds the next page at the end: `cursor` is what fetched it (null for the first). */
export function appendPage(cursor, users) {
  state.pages.push({ cursor, start: userCount(), ids: packIds(users), users });
}

/** Puts a changed user in place of their record; false if their page is not held. */
export function replaceUser(user) {
  for (const page of state.pages) {
    const at = page.users ? page.users.findIndex((u) => u.id === user.id) : -1;
    if (at >= 0) {
      page.users[at] = user;
      return true;
    }
  }
  return false;
}

/** The users held after the last holdAround (counted as it walks the pages). */
let heldCount = 0;

/** Holds the pages around positions `first` to `last` (the rows in view) and lets go of
 *  every other page's users; returns the numbers of the pages to hold that must be
 *  fetched again. */
export function holdAround(first, last) {
  const pages = state.pages;
  heldCount = 0;
  if (!pages.length) return [];
  const from = Math.max(0, pageOf(first) - HELD_BEYOND);
  const to = Math.min(pages.length - 1, pageOf(Math.max(first, last - 1)) + HELD_BEYOND);
  state.held = [from, to];
  const missing = [];
  pages.forEach((page, n) => {
    if (n < from || n > to) page.users = null;
    else if (!page.users) missing.push(n);
    else heldCount += page.users.length;
  });
  return missing;
}

/** The first and last page held around the view at the last render (within the pages
 *  there are). */
export function heldRange() {
  const last = Math.max(0, state.pages.length - 1);
  return [Math.min(state.held[0], last), Math.min(state.held[1], last)];
}

/** How many users were held at the last render (for the list's tests and bench), before
 *  the pages it asked for again arrive. */
export function heldUsers() {
  return heldCount;
}

/** The cursor that fetches page `n` (undefined past the last page). */
export function cursorOf(n) {
  return state.pages[n]?.cursor;
}

/** Page `n` as fetched again: its users now, then the positions after it move with its
 *  length (a page that comes back shorter, its users gone from the filter, shortens the
 *  list). `cursor`, when given, is what fetched it now. */
export function refill(n, users, cursor) {
  const page = state.pages[n];
  if (!page) return;
  if (cursor !== undefined) page.cursor = cursor;
  page.users = users;
  page.ids = packIds(users);
  // An empty page goes: every page left holds at least one position.
  if (!users.length) state.pages.splice(n, 1);
  state.pages.forEach((p, i) => {
    p.start = i === 0 ? 0 : state.pages[i - 1].start + state.pages[i - 1].ids.count;
  });
}

/** Drops every page after page `n` (what follows it is no longer known). */
export function truncateAfter(n) {
  state.pages.length = Math.min(state.pages.length, n + 1);
}
