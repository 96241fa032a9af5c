// Quizzes: the list (status, best and last score), a new quiz from a deck (made at once) or from
// ready documents (a job: its progress is polled), taking a quiz (every answer saved as it is
// chosen, a countdown with a time limit) and the result with explanations and citations.
// Routes: #/quizzes · #/quizzes?take=<quiz>&attempt=<client id> · #/quizzes?quiz=<quiz>&attempt=<id>
import { clear, errorBox, field, guarded, h, pageRange, percent, poll, uuid } from "../ui.js";

const KINDS = [
  ["multiple_choice", "Multiple choice"],
  ["true_false", "True or false"],
  ["short_answer", "Short answer"],
];

export async function render(root, ctx) {
  const take = ctx.params.get("take");
  const quiz = ctx.params.get("quiz");
  const attempt = ctx.params.get("attempt");
  if (take) return takeQuiz(root, ctx, take, attempt);
  if (quiz && attempt) return showResult(root, ctx, quiz, attempt);
  return list(root, ctx);
}

// Every page of a listing (`key` is the array's name in the answer).
async function all(ctx, path, key, query = {}) {
  const out = [];
  let cursor;
  for (let i = 0; i < 20; i++) {
    const page = await ctx.api.get(path, { ...query, limit: 100, cursor });
    out.push(...page[key]);
    cursor = page.nextCursor;
    if (!cursor) break;
  }
  return out;
}

function score(stats) {
  if (!stats || !stats.submitted) return "not taken yet";
  return `best ${percent(stats.bestPercent / 100)} · last ${percent(stats.lastPercent / 100)}`;
}

// ---------------------------------------------------------------------------------------------
// The list and the new-quiz form

async function list(root, ctx) {
  const box = errorBox();
  const items = h("ul", { class: "list quiz-list", "aria-label": "Your quizzes" });
  root.append(h("h1", {}, "Quizzes"), box, items);
  const [quizzes, decks, documents] = (await guarded(box, null, () =>
    Promise.all([all(ctx, "/quizzes", "quizzes"), all(ctx, "/decks", "decks"), all(ctx, "/documents", "documents")]),
  )) || [[], [], []];

  const rows = new Map();
  const row = (q) => {
    const status = h("span", { class: `status status-${q.status}` }, statusText(q));
    const bar = q.status === "generating" ? h("progress", { max: q.progress ? q.progress.stepsTotal : 1, value: q.progress ? q.progress.stepsDone : 0, "aria-label": `Making ${q.title}` }) : null;
    const actions = h("div", { class: "row" });
    if (q.status === "ready") {
      actions.append(h("button", { type: "button", onclick: () => ctx.navigate("quizzes", { take: q.id, attempt: uuid() }) }, "Start"));
    }
    actions.append(
      h("button", {
        type: "button",
        class: "secondary",
        "aria-label": `Delete ${q.title}`,
        onclick: (event) => {
          const button = event.currentTarget;
          if (button.dataset.armed !== "yes") {
            // a second click deletes: there is no undo
            button.dataset.armed = "yes";
            button.textContent = "Sure? Delete";
            button.setAttribute("aria-label", `Sure? Delete ${q.title}`);
            return;
          }
          guarded(box, button, async () => {
            await ctx.api.del(`/quizzes/${q.id}`);
            rows.get(q.id).remove();
            rows.delete(q.id);
            empty();
          });
        },
      }, "Delete"),
    );
    const li = h(
      "li",
      { class: "quiz", dataset: { quiz: q.id, status: q.status } },
      h("div", { class: "quiz-head" }, h("strong", {}, q.title), " ", status),
      h("div", { class: "muted" }, `${q.questionCount || q.requestedCount} questions · ${q.source === "deck" ? "from a deck" : "from documents"}`, q.timeLimitSeconds ? ` · ${Math.round(q.timeLimitSeconds / 60)} min` : "", " · ", score(q.stats)),
      bar,
      q.error ? h("div", { class: "error" }, q.error.message) : null,
      actions,
    );
    const old = rows.get(q.id);
    if (old) old.replaceWith(li);
    else items.prepend(li);
    rows.set(q.id, li);
    return li;
  };
  for (const q of [...quizzes].reverse()) row(q);
  const empty = () => (items.children.length ? null : items.append(h("li", { class: "muted empty" }, "No quiz yet: make one below.")));
  empty();

  const follow = (q) =>
    poll(
      () => ctx.api.get(`/quizzes/${q.id}`),
      (value) => row(value),
      (value) => value.status !== "generating",
      () => ctx.alive,
      1000,
    ).catch((exc) => box.show(exc));
  for (const q of quizzes) if (q.status === "generating") follow(q);

  root.append(newQuizForm(ctx, decks, documents.filter((d) => d.status === "ready"), (q) => {
    items.querySelector(".empty")?.remove();
    row(q);
    if (q.status === "generating") follow(q);
  }));
}

function statusText(q) {
  if (q.status === "generating") {
    const p = q.progress;
    return p ? `Making… ${p.stepsDone}/${p.stepsTotal}` : "Making…";
  }
  return q.status === "ready" ? "Ready" : "Failed";
}

function newQuizForm(ctx, decks, documents, added) {
  const box = errorBox();
  const source = (value, label, checked) =>
    h("label", { class: "choice" }, h("input", { type: "radio", name: "source", value, checked }), label);
  const deck = h("select", { name: "deckId", "aria-label": "Deck" }, decks.map((d) => h("option", { value: d.id }, d.cardCount == null ? d.name : `${d.name} (${d.cardCount} cards)`)));
  const docs = documents.length
    ? documents.map((d) => h("label", { class: "choice" }, h("input", { type: "checkbox", name: "documentIds", value: d.id }), d.filename))
    : [h("p", { class: "muted" }, "No ready document: upload one under Documents.")];
  const deckPart = h(
    "div",
    { class: "source-deck" },
    decks.length ? field("Deck", deck) : h("p", { class: "muted" }, "No deck yet: make one and add cards to it, or quiz yourself on documents."),
  );
  const docPart = h("fieldset", { class: "source-docs", hidden: true }, h("legend", {}, "Documents"), docs);
  const count = h("input", { name: "count", type: "number", min: 1, max: 50, value: 10, required: true });
  const limit = h("input", { name: "minutes", type: "number", min: 1, max: 180, placeholder: "none" });
  const title = h("input", { name: "title", type: "text", maxlength: 200, placeholder: "the deck's name" });
  const kinds = h(
    "fieldset",
    {},
    h("legend", {}, "Kinds of question"),
    KINDS.map(([value, label], i) => h("label", { class: "choice" }, h("input", { type: "checkbox", name: "kinds", value, checked: i < 2 }), label)),
  );
  const button = h("button", { type: "submit" }, "Make the quiz");
  const el = h(
    "form",
    { class: "new-quiz", "aria-labelledby": "new-quiz-title" },
    h("h2", { id: "new-quiz-title" }, "New quiz"),
    h("fieldset", {}, h("legend", {}, "Questions from"), h("div", { class: "row" }, source("deck", "A deck", true), source("documents", "Documents"))),
    deckPart,
    docPart,
    kinds,
    h("div", { class: "grid3" }, field("Questions", count), field("Time limit (minutes)", limit), field("Title (optional)", title)),
    button,
    box,
  );
  el.addEventListener("change", (event) => {
    if (event.target.name !== "source") return;
    const fromDeck = event.target.value === "deck";
    deckPart.hidden = !fromDeck;
    docPart.hidden = fromDeck;
  });
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(box, button, async () => {
      const data = new FormData(el);
      const body = { id: uuid(), count: Number(data.get("count")), kinds: data.getAll("kinds") };
      if (data.get("source") === "deck") body.deckId = data.get("deckId");
      else body.documentIds = data.getAll("documentIds");
      if (data.get("minutes")) body.timeLimitSeconds = Math.round(Number(data.get("minutes")) * 60);
      if (data.get("title")) body.title = data.get("title");
      added(await ctx.api.post("/quizzes", body));
    });
  });
  return el;
}

// ---------------------------------------------------------------------------------------------
// Taking a quiz

async function takeQuiz(root, ctx, quizId, clientId) {
  const box = errorBox();
  root.append(box);
  const attempt = await guarded(box, null, () => ctx.api.post(`/quizzes/${quizId}/attempts`, { id: clientId || uuid() }));
  if (!attempt) return undefined;
  if (attempt.status === "submitted") {
    ctx.navigate("quizzes", { quiz: quizId, attempt: attempt.id });
    return undefined;
  }
  const quiz = await guarded(box, null, () => ctx.api.get(`/quizzes/${quizId}`));
  const base = `/quizzes/${quizId}/attempts/${attempt.id}`;
  const pending = new Set();
  const save = (q, body, note) => {
    note.textContent = "Saving…";
    const call = ctx.api
      .put(`${base}/answers/${q.id}`, body)
      .then(() => {
        note.textContent = "Saved";
        if (body.optionId || (body.text || "").trim()) answered.add(q.id);
        else answered.delete(q.id);
        count();
      })
      .catch((exc) => {
        note.textContent = "";
        box.show(exc);
      })
      .finally(() => pending.delete(call));
    pending.add(call);
  };
  const answers = attempt.answers || {};
  const total = attempt.questions.length;
  const answered = new Set(Object.keys(answers));
  const tally = h("p", { class: "muted tally" });
  const count = () => {
    tally.textContent = `${answered.size} of ${total} answered`;
  };
  count();
  const questions = attempt.questions.map((q, i) => {
    const note = h("span", { class: "saved muted", "aria-live": "polite" }, answers[q.id] ? "Saved" : "");
    const given = answers[q.id] || {};
    let input;
    if (q.kind === "short_answer") {
      const text = h("input", { type: "text", name: q.id, value: given.text || "", autocomplete: "off", maxlength: 500 });
      text.addEventListener("change", () => save(q, { text: text.value }, note));
      input = field("Your answer", text);
    } else {
      input = h(
        "div",
        { class: "options" },
        (q.options || []).map((o) =>
          h(
            "label",
            { class: "choice option" },
            h("input", { type: "radio", name: q.id, value: o.id, checked: given.optionId === o.id, onchange: () => save(q, { optionId: o.id }, note) }),
            h("span", {}, o.text),
          ),
        ),
      );
    }
    return h(
      "fieldset",
      { class: "question", dataset: { question: q.id } },
      h("legend", {}, h("span", { class: "muted" }, `${i + 1}/${total} `), q.prompt),
      input,
      note,
    );
  });

  const submit = h("button", { type: "submit" }, "Submit");
  const clock = h("p", { class: "countdown", role: "timer", "aria-live": "off" });
  const el = h("form", { class: "take", "aria-label": quiz ? quiz.title : "Quiz" }, questions, tally, h("div", { class: "row" }, submit, h("a", { href: "#/quizzes" }, "Leave (answers are kept)")));
  clear(root, h("h1", {}, quiz ? quiz.title : "Quiz"), attempt.expiresAt ? clock : null, box, el);

  const finish = () =>
    guarded(box, submit, async () => {
      if (document.activeElement && document.activeElement.name && el.contains(document.activeElement)) document.activeElement.blur();
      await Promise.all([...pending]);
      const done = await ctx.api.post(`${base}/submit`, {});
      if (ctx.alive) ctx.navigate("quizzes", { quiz: quizId, attempt: done.id });
    });
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    finish();
  });

  let timer = null;
  if (attempt.expiresAt) {
    const end = new Date(attempt.expiresAt).getTime();
    const tick = () => {
      const left = Math.max(0, Math.round((end - Date.now()) / 1000));
      clock.textContent = `Time left ${Math.floor(left / 60)}:${String(left % 60).padStart(2, "0")}`;
      clock.classList.toggle("late", left <= 30);
      if (left === 0) {
        clearInterval(timer);
        timer = null;
        finish();
      }
    };
    tick();
    timer = setInterval(tick, 1000);
  }
  return () => timer && clearInterval(timer);
}

// ---------------------------------------------------------------------------------------------
// The result

async function showResult(root, ctx, quizId, attemptId) {
  const box = errorBox();
  root.append(box);
  const loaded = await guarded(box, null, () =>
    Promise.all([ctx.api.get(`/quizzes/${quizId}/attempts/${attemptId}`), ctx.api.get(`/quizzes/${quizId}`), all(ctx, "/decks", "decks")]),
  );
  if (!loaded) return;
  const [attempt, quiz, decks] = loaded;
  const result = attempt.result;
  if (!result) {
    clear(root, h("h1", {}, quiz.title), h("p", {}, "This attempt is not submitted yet. "), h("a", { href: `#/quizzes?take=${quizId}&attempt=${attemptId}` }, "Go on with it"));
    return;
  }
  const options = new Map(attempt.questions.flatMap((q) => (q.options || []).map((o) => [`${q.id}/${o.id}`, o.text])));
  const given = (row) => {
    if (!row.given) return "no answer";
    if (row.given.optionId) return options.get(`${row.questionId}/${row.given.optionId}`) || row.given.optionId;
    return row.given.text || "no answer";
  };
  const rows = result.questions.map((row, i) =>
    h(
      "li",
      { class: `result ${row.correct ? "right" : "wrong"}`, dataset: { question: row.questionId } },
      h("p", { class: "verdict" }, h("strong", {}, row.correct ? "✓ Correct" : "✗ Incorrect"), h("span", { class: "muted" }, ` · question ${i + 1}`)),
      h("p", { class: "prompt" }, row.prompt),
      h("dl", {},
        h("dt", {}, "Your answer"), h("dd", { class: "given" }, given(row)),
        row.correct ? null : [h("dt", {}, "Right answer"), h("dd", { class: "right-answer" }, row.rightAnswer)],
        row.explanation ? [h("dt", {}, "Explanation"), h("dd", { class: "explanation" }, row.explanation)] : null,
      ),
      citation(row.citation),
    ),
  );
  const misses = result.questions.filter((r) => !r.correct).length;
  clear(
    root,
    h("h1", {}, quiz.title),
    h("p", { class: "score", "aria-live": "polite" }, h("b", {}, `${result.score}/${result.total}`), ` · ${percent(result.percent / 100)}`),
    box,
    misses ? missesForm(ctx, quizId, attemptId, decks, quiz.deckId, misses, quiz.title) : h("p", { class: "ok" }, "No misses: well done."),
    h("ol", { class: "list results", "aria-label": "Questions" }, rows),
    h("div", { class: "row" }, h("button", { type: "button", onclick: () => ctx.navigate("quizzes", { take: quizId, attempt: uuid() }) }, "Take it again"), h("a", { href: "#/quizzes" }, "All quizzes")),
  );
}

function citation(c) {
  if (!c || (!c.quote && !c.page && !c.title)) return null;
  const pages = pageRange(c);
  const where = [c.title, pages].filter(Boolean).join(", ");
  return h("figure", { class: "citation" }, c.quote ? h("blockquote", {}, c.quote) : null, where ? h("figcaption", {}, where) : null);
}

const NEW_DECK = ":new"; // never a deck id (ids are [A-Za-z0-9_-])

function missesForm(ctx, quizId, attemptId, decks, preferred, misses, title) {
  const newDeckId = uuid(); // a retried creation makes one deck
  const box = errorBox();
  const out = h("p", { class: "ok", role: "status" });
  const label = `Deck for the ${misses} missed question${misses === 1 ? "" : "s"}`;
  const fresh = `${title} · misses`;
  const deck = h(
    "select",
    { name: "deckId", required: true, "aria-label": label },
    decks.map((d) => h("option", { value: d.id, selected: d.id === preferred }, d.name)),
    h("option", { value: NEW_DECK, selected: !decks.length }, `A new deck “${fresh}”`),
  );
  const button = h("button", { type: "submit" }, "Add my misses as cards");
  const el = h("form", { class: "misses" }, h("div", { class: "row" }, field(label, deck), button), out, box);
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(box, button, async () => {
      let deckId = deck.value;
      let name = deck.selectedOptions[0].textContent;
      if (deckId === NEW_DECK) {
        const made = await ctx.api.post("/decks", { id: newDeckId, name: fresh });
        deck.prepend(h("option", { value: made.id }, made.name));
        deck.value = deckId = made.id;
        name = made.name;
      }
      const added = await ctx.api.post(`/quizzes/${quizId}/attempts/${attemptId}/misses-to-cards`, { deckId });
      out.textContent = `Added ${added.created} card${added.created === 1 ? "" : "s"} to ${name}${added.alreadyPresent ? ` (${added.alreadyPresent} already there)` : ""}.`;
    });
  });
  return el;
}
