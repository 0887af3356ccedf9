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

/** A message that stays until dismissed. */
export function showMessage(kind, text) {
  const close = el("button", { type: "button", class: "dismiss", text: "Dismiss" });
  const item = el("div", { class: `message ${kind}`, role: kind === "error" ? "alert" : "status" },
    el("span", { text }), close);
  close.addEventListener("click", () => item.remove());
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
