// The tutor: questions answered from the student's own documents. The answer streams in
// (server-sent events over fetch), the time to its first token is shown, and every [n] in it
// links to its citation: the quoted passage with its document and page.
import { clear, errorBox, guarded, h, pageRange } from "../ui.js";

export async function render(root, ctx) {
  const box = errorBox();
  const scope = h("select", { id: "tutor-scope", "aria-label": "Answer from" }, h("option", { value: "" }, "All my documents"));
  const log = h("div", { id: "conversation", "aria-live": "polite" });
  const question = h("textarea", { id: "question", name: "message", required: true, maxlength: 4000, rows: 3, "aria-label": "Your question" });
  const ask = h("button", { type: "submit" }, "Ask");
  const newChat = h("button", { type: "button", class: "secondary" }, "New chat");
  const compose = h("form", { id: "ask", "aria-label": "Ask the tutor" }, question, h("div", { class: "row" }, ask, newChat, h("span", { class: "muted" }, "Ctrl+Enter sends")));
  clear(root, h("h1", {}, "Tutor"), h("div", { class: "row" }, scope), log, compose, box);

  let chatId = null;
  try {
    const { courses } = await ctx.api.get("/courses", { limit: 100 });
    for (const course of courses) scope.append(h("option", { value: course.id }, `Course: ${course.name}`));
    const wanted = ctx.params.get("course");
    if (wanted && courses.some((c) => c.id === wanted)) scope.value = wanted;
  } catch (exc) {
    box.show(exc);
  }
  scope.addEventListener("change", () => {
    chatId = null;
    clear(log);
  });
  newChat.addEventListener("click", () => {
    chatId = null;
    clear(log);
    question.focus();
  });
  question.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) compose.requestSubmit();
  });
  compose.addEventListener("submit", (event) => {
    event.preventDefault();
    const text = question.value.trim();
    if (!text) return;
    guarded(box, ask, () => send(text));
  });

  async function send(text) {
    log.append(h("div", { class: "message user" }, h("strong", {}, "You: "), text));
    const answer = h("div", { class: "answer-text", "aria-busy": "true" });
    const timing = h("p", { class: "muted timing" }, "Waiting for the first words…");
    const sources = h("ol", { class: "citations", "aria-label": "Sources" });
    const turn = h("div", { class: "message assistant" }, h("strong", {}, "Tutor: "), answer, timing, sources);
    log.append(turn);
    question.value = "";
    const started = performance.now();
    let first = null;
    let raw = "";
    const body = { message: text, chatId };
    if (scope.value) body.courseId = scope.value;
    try {
      await ctx.api.stream("/chat-reply", body, (name, data) => {
        if (!ctx.alive) return;
        if (name === "start") chatId = data.chatId;
        else if (name === "delta") {
          if (first === null) {
            first = performance.now() - started;
            timing.textContent = `First token after ${Math.round(first)} ms`;
            timing.dataset.ttftMs = String(Math.round(first));
          }
          raw += data.text;
          answer.textContent = raw;
          answer.dataset.deltas = String(Number(answer.dataset.deltas || 0) + 1);
        } else if (name === "done") {
          const message = data.message;
          chatId = data.chatId;
          fill(answer, message.content, message.citations || []);
          clear(sources, (message.citations || []).map(citation));
          const total = Math.round(performance.now() - started);
          timing.textContent = `${first === null ? "" : `First token after ${Math.round(first)} ms · `}complete after ${total} ms${message.grounded === false ? " · not found in your documents" : ""}`;
          timing.dataset.ttftMs = String(Math.round(first ?? total));
        } else if (name === "error") {
          throw Object.assign(new Error(data.message), { code: data.code, requestId: data.requestId });
        }
      });
    } catch (exc) {
      timing.textContent = "";
      throw exc;
    } finally {
      answer.removeAttribute("aria-busy");
    }
  }
}

// The answer with each [n] turned into a link to its citation.
function fill(el, text, citations) {
  const known = new Set(citations.map((c) => c.marker));
  clear(el);
  let last = 0;
  for (const match of text.matchAll(/\[(\d+)\]/g)) {
    const marker = Number(match[1]);
    if (!known.has(marker)) continue;
    el.append(text.slice(last, match.index), h("a", { href: `#`, class: "marker", dataset: { marker }, onclick: (e) => jump(e, marker) }, `[${marker}]`));
    last = match.index + match[0].length;
  }
  el.append(text.slice(last));
}

function jump(event, marker) {
  event.preventDefault();
  const target = event.target.closest(".message").querySelector(`[data-citation="${marker}"]`);
  if (target) {
    target.scrollIntoView({ block: "nearest" });
    target.focus();
  }
}

function citation(c) {
  const pages = pageRange(c);
  return h(
    "li",
    { value: c.marker, tabindex: "-1", dataset: { citation: c.marker } },
    h("strong", {}, c.title || "Document"),
    pages ? h("span", { class: "page" }, `, ${pages}`) : null,
    c.heading ? h("span", { class: "muted" }, ` · ${c.heading}`) : null,
    c.quote ? h("blockquote", {}, c.quote) : null,
  );
}
