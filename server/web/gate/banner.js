// Curfew's banner for a gated app's pages. The proxy injects it; it must never break the
// page: no globals (one closure), no dependencies, styles only inside its own shadow root,
// same-origin requests only (so an app CSP allowing 'self' allows it), and text from the
// server reaches the page only through textContent.
(() => {
  "use strict";
  if (window.top !== window || document.querySelector("curfew-banner")) return;

  const NOTICES = "/.curfew/notices";
  const AUTH = "/.curfew/auth";
  const SIGN_IN = "/.curfew/sign-in";
  const STYLE = `
    :host { all: initial; }
    .bar { position: fixed; left: 0; right: 0; bottom: 0; z-index: 2147483646; display: flex;
      gap: .75em; align-items: baseline; flex-wrap: wrap; padding: .55em 1em;
      font: 15px/1.4 system-ui, sans-serif; background: #fff4e0; color: #5c3b00;
      border-top: 1px solid #e8c88a; box-shadow: 0 -2px 6px rgb(0 0 0 / .12); }
    .bar.small { left: auto; right: .75em; bottom: .75em; border: 1px solid #e8c88a;
      border-radius: 999px; padding: .3em .9em; }
    .bar.small .message, .bar.small .at { display: none; }
    .bar.cancelled { background: #e7f5ea; color: #14532d; border-color: #a7d8b4; }
    .bar strong { font-variant-numeric: tabular-nums; }
    .bar button { margin-left: auto; font: inherit; background: none; border: 0; color: inherit;
      cursor: pointer; padding: 0 .3em; }
    .overlay { position: fixed; inset: 0; z-index: 2147483647; display: grid; place-items: center;
      background: rgb(15 18 28 / .72); font: 16px/1.5 system-ui, sans-serif; }
    .dialog { background: #fff; color: #1d2230; border-radius: 12px; padding: 1.5em 1.75em;
      max-width: min(28em, 90vw); box-shadow: 0 10px 40px rgb(0 0 0 / .35); }
    .dialog h2 { margin: 0 0 .5em; font-size: 1.25em; }
    .dialog p { margin: 0 0 1em; }
    .dialog a { display: inline-block; padding: .5em 1.1em; border-radius: 6px; background: #3b5bdb;
      color: #fff; text-decoration: none; font-weight: 600; }
    .dialog a:focus-visible, .bar button:focus-visible { outline: 3px solid #f59f00; outline-offset: 2px; }
    @media (prefers-color-scheme: dark) {
      .bar { background: #3a2e12; color: #ffe8a3; border-color: #5c4a1f; }
      .bar.cancelled { background: #163222; color: #c9f2d5; border-color: #285c3c; }
      .dialog { background: #1d2029; color: #e6e8ef; }
    }`;

  const host = document.createElement("curfew-banner");
  const root = host.attachShadow({ mode: "open" });
  try {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(STYLE);
    root.adoptedStyleSheets = [sheet];
  } catch {
    // Older engines: a style element (an app CSP may refuse it; the banner still works).
    const style = document.createElement("style");
    style.textContent = STYLE;
    root.append(style);
  }
  const el = (tag, attrs = {}, text) => {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, value);
    if (text !== undefined) node.textContent = text;
    return node;
  };

  const warnings = new Map();
  let bar = null;
  let ticker = 0;
  let source = null;
  let revoked = false;
  // The reader may shrink the warning to a small pill (it must not hide the app's own
  // controls for the hour before a window); it stays small until the next warning.
  let small = false;
  const time = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
  const unit = (n, u) => new Intl.NumberFormat(undefined, { style: "unit", unit: u, unitDisplay: "short" }).format(n);

  /** "in 14 min", "in 45 s", "in 2 h 5 min", by the time left. */
  function left(ms) {
    const s = Math.max(0, Math.round(ms / 1000));
    if (s < 60) return `in ${unit(s, "second")}`;
    const m = Math.ceil(s / 60);
    if (m < 120) return `in ${unit(m, "minute")}`;
    return `in ${unit(Math.floor(m / 60), "hour")} ${unit(m % 60, "minute")}`;
  }

  function mount() {
    if (!host.isConnected) (document.body || document.documentElement).append(host);
  }

  function showBar(kind, parts, dismissable) {
    bar?.remove();
    bar = el("div", { class: `bar ${kind}`, role: kind === "warning" ? "alert" : "status", part: "bar" });
    for (const part of parts) bar.append(part);
    if (dismissable) {
      const close = el("button", { type: "button", "aria-label": "Dismiss" }, "×");
      close.addEventListener("click", () => { bar?.remove(); bar = null; });
      bar.append(close);
    }
    root.append(bar);
    mount();
  }

  function renderWarning() {
    clearInterval(ticker);
    const next = [...warnings.values()].sort((a, b) => Date.parse(a.starts_at) - Date.parse(b.starts_at))[0];
    if (!next) { bar?.remove(); bar = null; return; }
    const when = el("strong", { class: "when" });
    const at = el("span", { class: "at" });
    // Moved after users were warned: say the new time in words first.
    const message = el("span", { class: "message" },
      next.moved_from ? `Maintenance moved to ${time.format(new Date(next.starts_at))}. ${next.message}` : next.message);
    const tick = () => {
      const ms = Date.parse(next.starts_at) - Date.now();
      when.textContent = ms > 0 ? `Maintenance ${left(ms)} — save your work.` : "Maintenance is starting now — save your work.";
      at.textContent = `(${time.format(new Date(next.starts_at))})`;
    };
    tick();
    const toggle = el("button", { type: "button", class: "toggle" }, small ? "Show" : "Hide");
    toggle.setAttribute("aria-label", small ? "Show the maintenance warning" : "Make the maintenance warning small");
    toggle.addEventListener("click", () => { small = !small; renderWarning(); });
    showBar("warning", [when, at, message, toggle], false);
    bar.classList.toggle("small", small);
    ticker = setInterval(tick, 1000);
  }

  function cancelled(data) {
    const was = warnings.get(data.window_id);
    warnings.delete(data.window_id);
    clearInterval(ticker);
    const at = was ? ` planned for ${time.format(new Date(was.starts_at))}` : "";
    showBar("cancelled", [el("span", { class: "when" }, `The maintenance${at} was cancelled.`)], true);
    setTimeout(() => { if (warnings.size) renderWarning(); else if (bar?.classList.contains("cancelled")) { bar.remove(); bar = null; } }, 20000);
  }

  /** The session is over: the page stays visible behind an overlay that says why. */
  function signedOut(message) {
    if (revoked) return;
    revoked = true;
    source?.close();
    clearInterval(ticker);
    bar?.remove();
    const back = location.pathname + location.search + location.hash;
    const overlay = el("div", { class: "overlay", part: "overlay" });
    const dialog = el("div", { class: "dialog", role: "alertdialog", "aria-modal": "true", "aria-labelledby": "curfew-title" });
    const again = el("a", { href: `${SIGN_IN}?rd=${encodeURIComponent(back)}`, class: "sign-in" }, "Sign in again");
    dialog.append(el("h2", { id: "curfew-title" }, message), el("p", {}, "Anything you had not saved on this page is still shown, but it cannot be sent until you sign in."), again);
    overlay.append(dialog);
    root.append(overlay);
    mount();
    again.focus();
  }

  function listen(delay) {
    source = new EventSource(NOTICES);
    source.addEventListener("open", () => { delay = 1000; });
    source.addEventListener("maintenance_warning", (e) => {
      const warning = JSON.parse(e.data);
      // A new warning (a later step, another window) shows in full again.
      if (warnings.get(warning.window_id)?.seconds_left !== warning.seconds_left) small = false;
      warnings.set(warning.window_id, warning);
      renderWarning();
    });
    source.addEventListener("maintenance_cancelled", (e) => cancelled(JSON.parse(e.data)));
    source.addEventListener("session_revoked", (e) => signedOut(JSON.parse(e.data).message));
    source.addEventListener("error", async () => {
      if (revoked || source.readyState !== EventSource.CLOSED) return; // the browser reconnects
      // Refused outright: find out whether the session is gone, else try again later.
      try {
        const answer = await fetch(AUTH, { credentials: "same-origin", cache: "no-store" });
        if (answer.status === 401) { signedOut("You are signed out."); return; }
      } catch { /* the network is down: retry below */ }
      setTimeout(() => listen(Math.min(delay * 2, 30000)), delay);
    });
  }

  listen(1000);
})();
