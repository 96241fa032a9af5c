// Small DOM helpers: no framework. h() builds elements; text is always set as text (never HTML).

export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on") && typeof value === "function") el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else if (key === "dataset") Object.assign(el.dataset, value);
    else if (value === true) el.setAttribute(key, "");
    else el.setAttribute(key, value);
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

export function clear(el, ...children) {
  el.replaceChildren();
  append(el, children);
  return el;
}

// The message area of a screen: errors show the API's own message (and its request id).
export function errorBox() {
  const box = h("div", { class: "error", role: "alert", hidden: true });
  box.show = (exc) => {
    const id = exc && exc.requestId ? ` (request ${exc.requestId})` : "";
    clear(box, exc && exc.message ? exc.message : String(exc), h("small", {}, id));
    box.dataset.code = (exc && exc.code) || "";
    box.hidden = false;
  };
  box.hide = () => {
    box.hidden = true;
    box.replaceChildren();
  };
  return box;
}

// Runs an async action with the button disabled and errors shown in `box`.
export async function guarded(box, button, action) {
  if (button) button.disabled = true;
  box.hide();
  try {
    return await action();
  } catch (exc) {
    box.show(exc);
    return undefined;
  } finally {
    if (button) button.disabled = false;
  }
}

export function form(fields, submitLabel, onSubmit, attrs = {}) {
  const box = errorBox();
  const button = h("button", { type: "submit" }, submitLabel);
  const el = h("form", attrs, fields, button, box);
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(box, button, () => onSubmit(new FormData(el), el));
  });
  return el;
}

export function field(label, input) {
  return h("label", { class: "field" }, h("span", {}, label), input);
}

// A file's size for people: B, kB or MB.
export function fileSize(n) {
  if (n === null || n === undefined) return "";
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} kB`;
  return `${(n / 1024 / 1024).toFixed(1)} MB`;
}

// Where a citation is in its document: "page 3" or "pages 3–4" (null without a page).
export function pageRange(c) {
  if (!c.page) return null;
  return c.lastPage && c.lastPage !== c.page ? `pages ${c.page}–${c.lastPage}` : `page ${c.page}`;
}

export const percent = (x, digits = 0) => (x === null || x === undefined ? "–" : `${(x * 100).toFixed(digits)}%`);

export function day(iso) {
  if (!iso) return "–";
  return new Date(iso.length === 10 ? `${iso}T00:00:00` : iso).toLocaleDateString(undefined, {
    month: "short",
    day: "numeric",
  });
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

export function uuid() {
  return crypto.randomUUID();
}

// Polls `load` until `done(value)` (or the view is left: `alive()` false); calls `show` each time.
export async function poll(load, show, done, alive, everyMs = 700) {
  for (;;) {
    const value = await load();
    if (!alive()) return value;
    show(value);
    if (done(value)) return value;
    await sleep(everyMs);
  }
}
