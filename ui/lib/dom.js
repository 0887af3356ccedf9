// DOM helpers. Every value from the server goes into the page with textContent, never as
// HTML.

export const $ = (id) => document.getElementById(id);

export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key === "text") node.textContent = value;
    else if (key.startsWith("data-")) node.setAttribute(key, value);
    else node[key] = value;
  }
  for (const child of children) node.append(child);
  return node;
}

/** How long a success stays before it fades; errors and warnings stay until dismissed. */
export const MESSAGE_FADE_MS = 6000;

/** A message above the view. Errors and warnings stay until dismissed; a success replaces
 *  the previous success and fades by itself, so messages never pile up. */
export function showMessage(kind, text) {
  const close = el("button", { type: "button", class: "dismiss", text: "Dismiss" });
  const item = el("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", { text }), close);
  close.addEventListener("click", () => item.remove());
  if (kind === "success") {
    for (const old of $("messages").querySelectorAll(".message.success")) old.remove();
    setTimeout(() => {
      item.classList.add("fading");
      setTimeout(() => item.remove(), 400);
    }, MESSAGE_FADE_MS);
  }
  $("messages").prepend(item);
}

/** Runs `work` with the button disabled and saying so. */
export async function withButton(button, work) {
  const label = button.textContent;
  button.disabled = true;
  button.setAttribute("aria-busy", "true");
  button.textContent = "Working…";
  try {
    return await work();
  } finally {
    button.textContent = label;
    button.removeAttribute("aria-busy");
    button.disabled = false;
  }
}
