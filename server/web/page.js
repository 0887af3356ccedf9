// The organisation's web page: sign in, see maintenance warnings with a live countdown,
// and learn at once when an administrator ends the session. Server text goes into the page
// only through textContent.

const API = "/api/v1";
const $ = (id) => document.getElementById(id);
let token = sessionStorage.getItem("curfew-token");
let stream = null;
let countdown = 0;
const warnings = new Map();

function show(view) {
  $("signin").hidden = view !== "signin";
  $("home").hidden = view !== "home";
}

function signedOut(notice) {
  token = null;
  sessionStorage.removeItem("curfew-token");
  stream?.abort();
  stream = null;
  warnings.clear();
  renderBanner();
  $("signin-notice").hidden = !notice;
  $("signin-notice").textContent = notice ?? "";
  show("signin");
}

async function api(path, options = {}) {
  const headers = { ...(options.headers ?? {}) };
  if (token) headers.Authorization = `Bearer ${token}`;
  if (options.body) headers["Content-Type"] = "application/json";
  const response = await fetch(API + path, { ...options, headers });
  const body = response.status === 204 ? null : await response.json().catch(() => null);
  if (!response.ok) {
    const error = new Error(body?.message ?? `The server answered ${response.status}.`);
    error.status = response.status;
    error.code = body?.error;
    throw error;
  }
  return body;
}

/** "3 min 06 s", "45 s", "2 h 05 min": the time left in words, as the admin's app says it. */
function timeLeft(seconds) {
  const pad = (n) => String(n).padStart(2, "0");
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${pad(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${pad(Math.floor((seconds % 3600) / 60))} min`;
}

const clock = new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" });
let cancelledTimer = 0;

function renderBanner(cancelled) {
  clearInterval(countdown);
  clearTimeout(cancelledTimer);
  const next = [...warnings.values()].sort((a, b) => new Date(a.starts_at) - new Date(b.starts_at))[0];
  $("banner").classList.toggle("cancelled", !next && Boolean(cancelled));
  if (!next && cancelled) {
    // Say it was cancelled rather than just removing the warning; then it goes.
    $("banner").hidden = false;
    $("banner-title").textContent = "Maintenance cancelled";
    $("banner-message").textContent = `The maintenance planned for ${clock.format(new Date(cancelled.starts_at))} was cancelled.`;
    $("banner-countdown").textContent = "";
    cancelledTimer = setTimeout(() => { $("banner").hidden = true; }, 20000);
    return;
  }
  $("banner").hidden = !next;
  if (!next) return;
  // Moved after users were warned: say the new time in words first.
  $("banner-title").textContent = next.moved_from
    ? `Maintenance moved to ${clock.format(new Date(next.starts_at))}`
    : "Scheduled maintenance";
  $("banner-message").textContent = next.message;
  const tick = () => {
    const left = Math.max(0, Math.round((new Date(next.starts_at) - Date.now()) / 1000));
    $("banner-countdown").textContent = left > 0
      ? `Maintenance in ${timeLeft(left)} (at ${clock.format(new Date(next.starts_at))}) — save your work.`
      : "Maintenance is starting now — save your work.";
  };
  tick();
  countdown = setInterval(tick, 1000);
}

function handle(event, data) {
  if (event === "maintenance_warning") {
    warnings.set(data.window_id, data);
    renderBanner();
  } else if (event === "maintenance_cancelled") {
    const was = warnings.get(data.window_id);
    warnings.delete(data.window_id);
    renderBanner(was);
  } else if (event === "session_revoked") {
    // The server's sentence says who and why, once.
    signedOut(data.message);
  }
}

/** The notice stream over fetch (EventSource cannot send the token). It reconnects after a
 *  dropped connection, never after session_revoked. */
async function listen() {
  let delay = 500;
  while (token) {
    const controller = new AbortController();
    stream = controller;
    let revoked = false;
    try {
      const response = await fetch(`${API}/notices/stream`, {
        headers: { Authorization: `Bearer ${token}`, Accept: "text/event-stream" },
        signal: controller.signal,
      });
      if (response.status === 401) {
        const body = await response.json().catch(() => ({}));
        signedOut(body.message ?? "You are signed out. Sign in again.");
        return;
      }
      delay = 500;
      const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += value;
        let end;
        while ((end = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          let event = "message";
          let data = "";
          for (const line of block.split("\n")) {
            if (line.startsWith("event:")) event = line.slice(6).trim();
            else if (line.startsWith("data:")) data += line.slice(5).trim();
          }
          if (!data) continue;
          handle(event, JSON.parse(data));
          if (event === "session_revoked") revoked = true;
        }
      }
    } catch (error) {
      if (controller.signal.aborted) return;
    }
    if (revoked || !token) return;
    await new Promise((resolve) => setTimeout(resolve, delay));
    delay = Math.min(delay * 2, 15000);
  }
}

async function enter() {
  try {
    const session = await api("/auth/session");
    $("greeting").textContent = `Signed in as ${session.display_name}`;
    show("home");
    listen();
  } catch (error) {
    signedOut(error.message);
  }
}

$("signin-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  $("signin-error").hidden = true;
  try {
    const login = await api("/auth/login", {
      method: "POST",
      body: JSON.stringify({ username: $("username").value, password: $("password").value, client: "web" }),
    });
    token = login.token;
    sessionStorage.setItem("curfew-token", token);
    $("password").value = "";
    $("signin-notice").hidden = true;
    enter();
  } catch (error) {
    $("signin-error").textContent = error.message;
    $("signin-error").dataset.code = error.code ?? "";
    $("signin-error").hidden = false;
  }
});

$("signout").addEventListener("click", async () => {
  try { await api("/auth/logout", { method: "POST" }); } catch { /* signed out either way */ }
  signedOut("You signed out.");
});

if (token) enter();
else show("signin");
