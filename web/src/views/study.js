// Study: the queue one card at a time. Space/Enter shows the answer, 1-4 grade it (Again,
// Hard, Good, Easy), u undoes the last grade. Each grade carries a client review id, so a
// retried request is recorded once.
import { clear, errorBox, guarded, h, uuid } from "../ui.js";

const GRADES = [
  [1, "Again"],
  [2, "Hard"],
  [3, "Good"],
  [4, "Easy"],
];

export async function render(root, ctx) {
  const box = errorBox();
  const scope = h("select", { id: "study-scope", "aria-label": "What to study" }, h("option", { value: "" }, "All my cards"));
  const progressLine = h("p", { id: "study-progress", class: "muted", "aria-live": "polite" });
  const stage = h("section", { id: "study-card", "aria-label": "Card" });
  const status = h("p", { class: "sr-only", "aria-live": "assertive" });
  clear(
    root,
    h("h1", {}, "Study"),
    h("div", { class: "row" }, scope),
    progressLine,
    box,
    stage,
    status,
    h(
      "p",
      { class: "hint muted" },
      "Keys: ",
      h("kbd", {}, "Space"),
      " show answer · ",
      h("kbd", {}, "1"),
      "–",
      h("kbd", {}, "4"),
      " grade · ",
      h("kbd", {}, "u"),
      " undo",
    ),
  );

  const state = { queue: [], card: null, shown: false, started: 0, done: 0, history: [], counts: null, busy: false };
  const courseParam = ctx.params.get("course") || "";

  try {
    const { courses } = await ctx.api.get("/courses", { limit: 100 });
    for (const course of courses) scope.append(h("option", { value: course.id }, `Course: ${course.name}`));
    scope.value = courseParam && courses.some((c) => c.id === courseParam) ? courseParam : "";
  } catch (exc) {
    box.show(exc);
  }
  scope.addEventListener("change", () => {
    state.done = 0;
    state.history = [];
    load();
  });

  function line() {
    const c = state.counts;
    const left = c ? `${c.new} new · ${c.learning} learning · ${c.review} to review` : "";
    clear(progressLine, `Today: ${state.done} reviewed`, left ? ` · left: ${left}` : "");
  }

  async function load() {
    await guarded(box, null, async () => {
      const queue = await ctx.api.get("/study-queue", { limit: 50, courseId: scope.value || null });
      state.queue = queue.cards;
      state.counts = queue.counts;
      next();
    });
  }

  function next() {
    state.card = state.queue.shift() || null;
    state.shown = false;
    state.started = performance.now();
    draw();
  }

  function draw() {
    line();
    const card = state.card;
    if (!card) {
      clear(
        stage,
        h("div", { class: "card-face", id: "study-done" }, h("p", {}, "Nothing is due now. Well done!"), h("p", { class: "muted" }, "New cards and reviews come back as they fall due.")),
      );
      return;
    }
    const face = h("div", { class: "card-face" }, h("div", { class: "front", id: "card-front" }, card.front));
    if (state.shown) face.append(h("div", { class: "answer", id: "card-back" }, card.back));
    const controls = state.shown
      ? h(
          "div",
          { class: "grades", role: "group", "aria-label": "Grade your recall" },
          GRADES.map(([value, label]) =>
            h("button", { type: "button", "aria-keyshortcuts": String(value), onclick: () => grade(value) }, label, " ", h("kbd", {}, value)),
          ),
        )
      : h("button", { type: "button", id: "show-answer", "aria-keyshortcuts": "Space", onclick: show }, "Show answer ", h("kbd", {}, "Space"));
    clear(stage, face, controls);
    // Focus follows the flow: "Show answer", then "Good" (Enter or Space on it grades Good).
    const focus = state.shown ? stage.querySelectorAll(".grades button")[2] : stage.querySelector("button");
    if (focus) focus.focus({ preventScroll: true });
  }

  function show() {
    if (!state.card || state.shown) return;
    state.shown = true;
    draw();
  }

  async function grade(rating) {
    if (!state.card || !state.shown || state.busy) return;
    const card = state.card;
    const reviewId = uuid();
    state.busy = true;
    const body = { cardId: card.id, rating, reviewId, durationMs: Math.round(performance.now() - state.started) };
    const result = await guarded(box, null, () => ctx.api.post("/review-card", body));
    state.busy = false;
    if (!result) return;
    state.history.push({ card, reviewId });
    state.done += 1;
    decrement(card);
    status.textContent = `${result.ratingName}: next in ${interval(result)}.`;
    if (state.queue.length) next();
    else await load();
  }

  function decrement(card) {
    const c = state.counts;
    if (!c) return;
    const key = card.queue === "new" || card.state === "new" ? "new" : card.queue === "learning" || card.state === "learning" || card.state === "relearning" ? "learning" : "review";
    if (c[key] > 0) c[key] -= 1;
  }

  async function undo() {
    const last = state.history[state.history.length - 1];
    if (!last || state.busy) return;
    state.busy = true;
    const result = await guarded(box, null, () => ctx.api.post("/review-card/undo", { cardId: last.card.id, reviewId: last.reviewId }));
    state.busy = false;
    if (!result) return;
    state.history.pop();
    state.done = Math.max(0, state.done - 1);
    if (state.card) state.queue.unshift(state.card);
    state.card = { ...last.card, ...result.card };
    state.shown = false;
    state.started = performance.now();
    status.textContent = "Last grade undone.";
    draw();
    const queue = await ctx.api.get("/study-queue", { limit: 1, courseId: scope.value || null }).catch(() => null);
    if (queue && ctx.alive) {
      state.counts = queue.counts;
      line();
    }
  }

  function onKey(event) {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA" || target.tagName === "SELECT")) return;
    if ((event.key === " " || event.key === "Enter") && !state.shown && state.card) {
      event.preventDefault();
      show();
    } else if (state.shown && ["1", "2", "3", "4"].includes(event.key)) {
      event.preventDefault();
      grade(Number(event.key));
    } else if (event.key === "u" || event.key === "U") {
      event.preventDefault();
      undo();
    }
  }

  document.addEventListener("keydown", onKey);
  await load();
  return () => document.removeEventListener("keydown", onKey);
}

function interval(result) {
  const days = result.intervalDays;
  if (days === null || days === undefined) return "a moment";
  if (days < 1) return `${Math.max(1, Math.round(days * 24 * 60))} min`;
  return `${Math.round(days)} day${Math.round(days) === 1 ? "" : "s"}`;
}
