// The UI's one state object. Every field is declared here, up front; the object is sealed,
// so assigning a field not declared here throws (modules run in strict mode).

export const state = Object.seal({
  /** The contract's facts from the Rust side (`contract` command): limits, audit action
   *  labels, event names. Loaded once at start, before anything is shown. */
  contract: null,
  /** The signed-in admin (`SessionView`), or null on the sign-in screen. */
  session: null,
  /** The servers the app knows (names and addresses, no tokens) and the current one's
   *  name, as the Rust side last said: `{current, servers}`. */
  servers: { current: null, servers: [] },
  /** Commands in flight: the progress bar shows while this is above 0. */
  busy: 0,

  // users
  /** The status filter ("", "online", "deactivated") and the search text. */
  filter: "",
  query: "",
  /** The role filter ("", "admin", "support", "member") and the order ("name",
   *  "last_active", "sessions"). */
  role: "",
  sort: "name",
  /** What the server counted for the search and filters (`UserCounts`), or null. */
  counts: null,
  /** Users picked one by one (ids), or every user matching `selectAllQuery`. */
  selected: new Set(),
  selectAll: false,
  selectAllQuery: null,
  /** The row last clicked, where a Shift-click range starts. */
  selectAnchor: null,
  /** Where the next page of users starts; null for the first page. */
  cursor: null,
  /** Whether the last page of users is loaded. */
  done: false,
  /** The next page starts the list afresh (a new search or filter); until it comes, the
   *  rows shown stay. */
  fresh: false,
  /** The list generation a page is being loaded for; a new search starts a new one. */
  loadingFor: null,
  generation: 0,
  /** The list's first page in its default order, fetched with the start-up or a switch
   *  (`StartupView.first_users`); taken once by the first page's load, if the search and
   *  filters are still the defaults. */
  prefetched: null,
  /** The list's pages as loaded, in order (user-pages.js): each with the cursor that
   *  fetches it, where it starts, its users' ids (packed), and its users while it is near the view
   *  (else null). Only the rows in view are in the page. */
  pages: [],
  /** The first and last page held at the last render. */
  held: [0, 0],
  /** Pages being fetched again ("generation:page"), and when the next try may go after a
   *  failed one. */
  pagesFetching: new Set(),
  pageRetryAt: 0,
  /** The record each rendered row shows: a row is reused while its record is unchanged. */
  rowUser: new WeakMap(),
  /** Measured from a rendered row, as fonts and zoom decide it. */
  rowHeight: 0,
  /** A render is queued for the next animation frame. */
  renderQueued: false,
  /** The row control that had focus ({id, control}: its place among the row's box and
   *  buttons): given back when its row is rendered again. */
  focus: null,
  /** Tabs pressed on the last loaded row while the next page loads: carried out after. */
  tabsWaiting: 0,
  /** When the last search keystroke came (performance.now()), until its list is painted. */
  keyAt: undefined,
  /** The search waiting for a pause in typing, and when the last search ran. */
  searchTimer: 0,
  lastSearch: -Infinity,

  // accounts
  /** The user whose detail dialog is open, and how many sessions it lists (null until loaded). */
  detailUser: null,
  detailSessions: null,

  // maintenance
  /** The windows as last loaded (to name a window by its times, never its id). */
  windows: [],
  /** The scheduled window the maintenance form is moving or editing, if any. */
  editing: null,
  /** The window the form's overlap error is about, while that error is shown. */
  overlapWith: null,

  // activity
  /** Where the next page of audit entries starts. */
  auditCursor: null,
  /** Which entries the log shows: "admin" (administrators' actions), "sign_in" or "all". */
  auditCategory: "admin",
  /** The filter the log and its exports apply (`AuditFilter`: actor, target, action,
   *  since, until), and the generation of the list it loads (a new filter starts one). */
  auditFilter: {},
  auditGeneration: 0,
  /** A look for new entries is running, and another is wanted after it. */
  auditFresh: null,
  auditFreshAgain: false,
});

/** Whether the signed-in admin has a permission ("force_logout", "manage_users"). */
export function can(permission) {
  return state.session?.permissions.includes(permission) ?? false;
}
