// Courses: create one (name, exam date, sections), see its decks, documents and progress, and
// jump to studying it or to its exam plan.
import { clear, day, errorBox, field, form, guarded, h, percent, uuid } from "../ui.js";

export async function render(root, ctx) {
  const box = errorBox();
  const list = h("ul", { class: "list", id: "course-list" });
  const detail = h("section", { id: "course-detail", "aria-live": "polite" });
  const name = h("input", { name: "name", required: true, maxlength: 200 });
  const exam = h("input", { name: "examDate", type: "date" });
  const sections = h("input", { name: "sections", placeholder: "e.g. Cells, Genetics, Ecology" });
  const create = form(
    [field("Course name", name), field("Exam date (optional)", exam), field("Sections, comma-separated (optional)", sections)],
    "Create course",
    async (data) => {
      const body = {
        id: uuid(),
        name: String(data.get("name")).trim(),
        examDate: data.get("examDate") || null,
        sections: String(data.get("sections") || "")
          .split(",")
          .map((s) => s.trim())
          .filter(Boolean)
          .map((s) => ({ name: s })),
      };
      const course = await ctx.api.post("/courses", body);
      create.reset();
      await refresh();
      await open(course.id);
    },
    { id: "new-course", "aria-label": "New course" },
  );
  clear(root, h("h1", {}, "Courses"), box, list, detail, h("h2", {}, "New course"), create);

  async function refresh() {
    const { courses } = await ctx.api.get("/courses", { limit: 100 });
    clear(
      list,
      courses.length ? null : h("li", { class: "muted" }, "No course yet: create one below, then add documents and decks to it."),
      courses.map((course) =>
        h(
          "li",
          {},
          h("button", { type: "button", class: "link", onclick: () => open(course.id) }, course.name),
          course.examDate ? h("span", { class: "muted" }, ` · exam ${day(course.examDate)}`) : null,
        ),
      ),
    );
  }

  async function open(id) {
    await guarded(box, null, async () => {
      const [course, progress] = await Promise.all([ctx.api.get(`/courses/${id}`), ctx.api.get(`/courses/${id}/progress`, { days: 14 })]);
      const cards = progress.cards;
      clear(
        detail,
        h("h2", {}, course.name),
        course.examDate ? h("p", {}, `Exam on ${course.examDate}`, progress.exam && progress.exam.recallIfNoReviews !== null ? ` · recall if you stopped now: ${percent(progress.exam.recallIfNoReviews)}` : "") : null,
        course.sections && course.sections.length ? h("p", { class: "muted" }, "Sections: ", course.sections.map((s) => s.name).join(" · ")) : null,
        h(
          "p",
          {},
          `${cards.total} cards: ${cards.new} new, ${cards.learning + cards.relearning} learning, ${cards.review} in review`,
          progress.mastery.meanRecall !== null ? ` · mean recall ${percent(progress.mastery.meanRecall)}` : "",
        ),
        h("h3", {}, "Documents"),
        itemList(course.documents, "No documents: upload one on the Documents page and choose this course."),
        h("h3", {}, "Decks"),
        itemList(course.decks, "No decks: generate cards from this course's documents."),
        h(
          "div",
          { class: "row" },
          h("button", { type: "button", onclick: () => ctx.navigate("study", { course: id }) }, "Study this course"),
          course.examDate ? h("button", { type: "button", class: "secondary", onclick: () => ctx.navigate("stats", { course: id }) }, "Exam plan") : null,
          h("button", { type: "button", class: "secondary", onclick: () => ctx.navigate("tutor", { course: id }) }, "Ask the tutor"),
        ),
      );
    });
  }

  await guarded(box, null, refresh);
  const wanted = ctx.params.get("course");
  if (wanted) await open(wanted);
}

function itemList(items, empty) {
  if (!items || !items.length) return h("p", { class: "muted" }, empty);
  return h(
    "ul",
    {},
    items.map((item) => h("li", {}, item.name, item.status && item.status !== "ready" ? h("span", { class: "muted" }, ` (${item.status})`) : null)),
  );
}
