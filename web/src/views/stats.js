// Stats: summary tiles and charts drawn as inline SVG (no chart library): reviews per day,
// retention, the due forecast and, for a course with an exam date, the exam plan
// (#/stats?course=<id>). Each chart is an image with a summary for screen readers and a
// visually hidden table of its numbers.
import { clear, errorBox, guarded, h, percent } from "../ui.js";

const SVG = "http://www.w3.org/2000/svg";
const COLORS = { new: "#2f5bd3", review: "#067647", learning: "#d97706", due: "#7c3aed", plan: "#0e7490" };

function s(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) if (value !== undefined && value !== null) el.setAttribute(key, value);
  for (const child of children.flat()) if (child) el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  return el;
}

const dayLabel = (iso, opts = { day: "numeric", month: "short" }) => new Date(`${iso}T00:00:00`).toLocaleDateString(undefined, opts);

// A chart of one value per day: stacked bars (`series` of {key, label, color}) or a line with
// points (`line: true`, values 0..1 or null). Returns a <figure> with the SVG and the table.
function chart({ id, title, summary, rows, series, width = 640, line = false, format = String, empty = "Nothing yet." }) {
  const W = Math.round(Math.min(820, Math.max(300, width)));
  const H = 200;
  const pad = { l: 34, r: 8, t: 10, b: 24 };
  const w = W - pad.l - pad.r;
  const ht = H - pad.t - pad.b;
  const total = (r) => series.reduce((sum, x) => sum + (r[x.key] || 0), 0);
  const max = line ? 1 : Math.max(1, ...rows.map(total));
  const top = line ? 1 : niceMax(Math.max(2, max));
  const step = w / Math.max(rows.length, 1);
  const y = (v) => pad.t + ht - (v / top) * ht;
  const g = s("g");
  // grid lines and their labels
  for (const v of line ? [0, 0.5, 1] : [0, Number.isInteger(top / 2) ? top / 2 : null, top].filter((x) => x !== null)) {
    g.append(
      s("line", { x1: pad.l, x2: W - pad.r, y1: y(v), y2: y(v), class: "grid" }),
      s("text", { x: pad.l - 4, y: y(v) + 3, "text-anchor": "end" }, line ? `${Math.round(v * 100)}%` : String(Math.round(v))),
    );
  }
  if (line) {
    const key = series[0].key;
    const points = rows.map((r, i) => [pad.l + step * (i + 0.5), r[key]]).filter(([, v]) => v !== null && v !== undefined);
    if (points.length > 1) g.append(s("polyline", { points: points.map(([x, v]) => `${x},${y(v)}`).join(" "), fill: "none", stroke: series[0].color, "stroke-width": 2 }));
    for (const [x, v] of points) g.append(s("circle", { cx: x, cy: y(v), r: 3, fill: series[0].color }));
    if (!points.length) g.append(s("text", { x: pad.l + w / 2, y: pad.t + ht * 0.3, "text-anchor": "middle", class: "empty" }, empty));
  } else {
    rows.forEach((r, i) => {
      let base = 0;
      for (const x of series) {
        const v = r[x.key] || 0;
        if (!v) continue;
        g.append(s("rect", { x: pad.l + step * i + step * 0.12, width: Math.max(step * 0.76, 1), y: y(base + v), height: y(base) - y(base + v), fill: x.color }));
        base += v;
      }
    });
  }
  // a few day labels along the bottom
  const every = Math.max(1, Math.ceil(rows.length / Math.max(3, Math.floor(w / 80))));
  const last = rows.length - 1;
  rows.forEach((r, i) => {
    const edge = i === 0 || i === last;
    if (edge || (i % every === 0 && last - i >= every / 2)) {
      const anchor = i === last && last > 0 ? "end" : i === 0 ? "start" : "middle";
      const x = anchor === "end" ? W - pad.r : anchor === "start" ? pad.l : pad.l + step * (i + 0.5);
      g.append(s("text", { x, y: H - 6, "text-anchor": anchor }, dayLabel(r.day)));
    }
  });
  const svg = s("svg", { viewBox: `0 0 ${W} ${H}`, class: "chart", role: "img", "aria-label": summary, id }, g);
  const legend =
    series.length > 1
      ? h("ul", { class: "legend", "aria-hidden": "true" }, series.map((x) => h("li", {}, swatch(x.color), x.label)))
      : null;
  const table = h(
    "table",
    { "data-chart": id },
    h("caption", {}, title),
    h("thead", {}, h("tr", {}, h("th", { scope: "col" }, "Day"), series.map((x) => h("th", { scope: "col" }, x.label)))),
    h(
      "tbody",
      {},
      rows.map((r) =>
        h(
          "tr",
          {},
          h("th", { scope: "row" }, h("time", { datetime: r.day }, dayLabel(r.day, { weekday: "short", day: "numeric", month: "short" }))),
          series.map((x) => h("td", { "data-key": x.key }, format(r[x.key]))),
        ),
      ),
    ),
  );
  return h("figure", { class: "chart-box" }, h("figcaption", {}, h("h2", {}, title)), svg, legend, h("div", { class: "sr-only" }, table));
}

// A legend's colour square, coloured through the CSSOM (a strict CSP forbids style attributes).
function swatch(color) {
  const el = h("i");
  el.style.background = color;
  return el;
}

function niceMax(v) {
  const p = 10 ** Math.floor(Math.log10(v));
  for (const m of [1, 2, 4, 5, 10]) if (m * p >= v) return m * p;
  return 10 * p;
}

const tile = (label, value, note) => h("div", { class: "stat" }, h("span", { class: "muted" }, label), h("b", {}, value), note ? h("small", { class: "muted" }, note) : null);

function busiest(rows, key) {
  let best = null;
  for (const r of rows) if ((r[key] || 0) > 0 && (!best || r[key] > best[key])) best = r;
  return best;
}

export async function render(root, ctx) {
  const box = errorBox();
  const courseId = ctx.params.get("course") || "";
  const days = Number(ctx.params.get("days")) || 30;
  root.append(h("h1", {}, "Stats"), box);
  const loaded = await guarded(box, null, () =>
    Promise.all([ctx.api.get("/stats", { days, courseId: courseId || undefined }), ctx.api.get("/courses", { limit: 100 })]),
  );
  if (!loaded) return;
  const [stats, { courses }] = loaded;
  const course = courses.find((c) => c.id === courseId);

  const courseSelect = h(
    "select",
    { name: "course", "aria-label": "Course" },
    h("option", { value: "" }, "All cards"),
    courses.map((c) => h("option", { value: c.id, selected: c.id === courseId }, c.name + (c.examDate ? ` (exam ${dayLabel(c.examDate)})` : ""))),
  );
  const daysSelect = h("select", { name: "days", "aria-label": "Period" }, [7, 30, 90, 365].map((n) => h("option", { value: n, selected: n === days }, `Last ${n} days`)));
  const change = () => ctx.navigate("stats", Object.fromEntries(Object.entries({ course: courseSelect.value, days: daysSelect.value }).filter(([, v]) => v)));
  courseSelect.addEventListener("change", change);
  daysSelect.addEventListener("change", change);

  const perDay = stats.reviewsPerDay.map((d) => ({ ...d, learning: Math.max(0, d.reviews - d.newCards - d.reviewCards), rate: d.reviewCards ? d.passed / d.reviewCards : null }));
  const reviews = perDay.reduce((n, d) => n + d.reviews, 0);
  const top = busiest(perDay, "reviews");
  const { cards, retention, streak } = stats;
  const due = stats.forecast.reduce((n, d) => n + d.due, 0);
  const peak = busiest(stats.forecast, "due");

  const width = root.clientWidth - 60; // the figure's inner width: one SVG unit a pixel, text at its size
  const content = [
    h("div", { class: "row filters" }, h("label", { class: "field" }, h("span", {}, "Course"), courseSelect), h("label", { class: "field" }, h("span", {}, "Period"), daysSelect)),
    course ? h("p", { class: "muted scope" }, `Reviews, retention and streak count all your study; cards and the forecast are those of ${course.name}.`) : null,
    h(
      "div",
      { class: "tiles" },
      tile("Reviews", String(reviews), `in ${days} days · ${stats.totalReviews} in all`),
      tile("True retention", percent(retention.trueRetention), `of ${retention.reviewCount} review${retention.reviewCount === 1 ? "" : "s"}`),
      tile("Streak", `${streak.current} day${streak.current === 1 ? "" : "s"}`, `longest ${streak.longest}`),
      tile(course ? `Cards in ${course.name}` : "Cards", String(cards.total), `${cards.new} new · ${cards.learning + cards.relearning} learning · ${cards.review} review${cards.suspended ? ` · ${cards.suspended} suspended` : ""}`),
    ),
    h(
      "div",
      { class: "charts" },
      chart({
        id: "reviews-chart",
        width,
        title: "Reviews per day",
        summary: `Reviews per day over the last ${days} days: ${reviews} in total${top ? `, most on ${dayLabel(top.day)} (${top.reviews})` : ""}.`,
        rows: perDay,
        series: [
          { key: "newCards", label: "New", color: COLORS.new },
          { key: "learning", label: "Learning", color: COLORS.learning },
          { key: "reviewCards", label: "Review", color: COLORS.review },
        ],
      }),
      chart({
        id: "retention-chart",
        width,
        title: "Retention",
        summary:
          retention.trueRetention === null || retention.trueRetention === undefined
            ? `Retention: no reviews of review cards in the last ${days} days.`
            : `True retention ${percent(retention.trueRetention, 1)} over ${retention.reviewCount} reviews of review cards in the last ${days} days.`,
        rows: perDay,
        series: [{ key: "rate", label: "Passed share of review cards", color: COLORS.review }],
        line: true,
        format: (v) => (v === null || v === undefined ? "–" : percent(v)),
        empty: "No reviews of review cards in this period.",
      }),
      chart({
        id: "forecast-chart",
        width,
        title: "Due forecast",
        summary: `Cards due in the next ${stats.forecast.length} days: ${due} in total${peak ? `, most on ${dayLabel(peak.day)} (${peak.due})` : ""}.`,
        rows: stats.forecast,
        series: [{ key: "due", label: "Due", color: COLORS.due }],
      }),
    ),
  ];
  clear(root, h("h1", {}, course ? `Stats · ${course.name}` : "Stats"), box, content);
  if (course) root.append(await examPlan(ctx, course, width));
}

async function examPlan(ctx, course, width) {
  const section = h("section", { class: "plan", "aria-labelledby": "plan-title" }, h("h2", { id: "plan-title" }, "Exam plan"));
  if (!course.examDate) {
    section.append(h("p", { class: "muted" }, `${course.name} has no exam date: set one under Courses to get a plan.`));
    return section;
  }
  const box = errorBox();
  section.append(box);
  const plan = await guarded(box, null, () => ctx.api.get(`/courses/${course.id}/plan`));
  if (!plan) return section;
  const facts = h(
    "div",
    { class: "tiles" },
    tile("Exam", dayLabel(plan.examDate, { weekday: "short", day: "numeric", month: "short" }), `${plan.daysLeft} day${plan.daysLeft === 1 ? "" : "s"} left`),
    tile("New cards today", String(plan.newCardsPerDay), `${plan.newCards} not seen yet · ${plan.seenCards} seen`),
    tile("Peak reviews", String(plan.peakReviews), `a day (your limit ${plan.limits.reviewsPerDay})`),
    tile("Predicted recall", percent(plan.predictedRetention), "on the exam day"),
  );
  const verdict = plan.fits
    ? h("p", { class: "ok fits" }, `The plan fits your limits: every card seen ${plan.marginDays} day${plan.marginDays === 1 ? "" : "s"} before the exam.`)
    : h("div", { class: "error fits" }, h("p", {}, "The plan does not fit your daily limits. Some ways to make it fit:"), h("ul", {}, plan.suggestions.map((x) => h("li", {}, suggestion(x)))));
  const total = plan.daily.reduce((n, d) => n + d.newCards + d.reviews, 0);
  section.append(
    facts,
    verdict,
    plan.daily.length
      ? chart({
          id: "plan-chart",
          width,
          title: "Daily plan to the exam",
          summary: `Exam plan for ${course.name}: ${plan.daily.length} days to ${plan.examDate}, ${plan.newCards} new cards and up to ${plan.peakReviews} reviews a day; ${total} cards studied in all.`,
          rows: plan.daily,
          series: [
            { key: "newCards", label: "New cards", color: COLORS.new },
            { key: "reviews", label: "Reviews", color: COLORS.plan },
          ],
        })
      : null,
  );
  return section;
}

function suggestion(x) {
  switch (x.kind) {
    case "laterExam":
      return `Move the exam to ${x.examDate ? dayLabel(x.examDate, { day: "numeric", month: "long", year: "numeric" }) : "a later day"}.`;
    case "higherNewLimit":
      return `Allow ${x.newCardsPerDay} new card${x.newCardsPerDay === 1 ? "" : "s"} a day (Account settings).`;
    case "higherReviewLimit":
      return `Allow ${x.reviewsPerDay} reviews a day (Account settings).`;
    case "fewerCards":
      return x.cards
        ? `Keep to ${x.cards} new cards: what fits before the exam at your daily limit.`
        : "No new card fits before the exam at your daily limit.";
    default:
      return x.kind;
  }
}
