// Account: the profile (display name), study settings, "Export my data" (a job: its progress is
// polled until the download link) and the danger zone (delete the account: the confirmation
// the API asks for, the password again for a recent sign-in, the job's progress, then signed out).
import { EmailAuthProvider, reauthenticateWithCredential, signOut } from "@firebase/auth";
import { ApiError } from "../api.js";
import { errorBox, field, fileSize, guarded, h, sleep } from "../ui.js";

const CONFIRMATION = "DELETE"; // what DELETE /account expects in `confirm`

export async function render(root, ctx) {
  const box = errorBox();
  root.append(h("h1", {}, "Account"), box);
  const profile = await guarded(box, null, () => ctx.api.get("/account"));
  if (!profile) return undefined;
  const state = { alive: () => ctx.alive };
  root.append(profileForm(ctx, profile), settingsForm(ctx, profile.settings), exportSection(ctx, state), dangerZone(ctx));
  return undefined;
}

// The API's message with what it says of each offending field (error.details).
async function detailed(action) {
  try {
    return await action();
  } catch (exc) {
    if (exc instanceof ApiError && Array.isArray(exc.details) && exc.details.length) {
      const parts = exc.details.map((d) => [d.field, d.message].filter(Boolean).join(": ")).filter(Boolean);
      if (parts.length) throw new ApiError(exc.status, exc.code, `${exc.message} ${parts.join("; ")}.`.replace("..", "."), exc.requestId, exc.details);
    }
    throw exc;
  }
}

function saved(out, text = "Saved.") {
  out.textContent = text;
}

function section(id, title, ...children) {
  return h("section", { class: "panel", "aria-labelledby": id }, h("h2", { id }, title), children);
}

function profileForm(ctx, profile) {
  const box = errorBox();
  const out = h("span", { class: "ok", role: "status" });
  const name = h("input", { name: "displayName", type: "text", maxlength: 100, value: profile.displayName || "", autocomplete: "name" });
  const button = h("button", { type: "submit" }, "Save name");
  const el = h(
    "form",
    { class: "profile" },
    h("p", {}, h("span", { class: "muted" }, "Email "), h("strong", { class: "email" }, profile.email || ctx.user.email), " ", h("span", { class: "muted plan-name" }, `· ${profile.plan} plan`)),
    field("Display name", name),
    h("div", { class: "row" }, button, out),
    box,
  );
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    out.textContent = "";
    guarded(box, button, async () => {
      const updated = await detailed(() => ctx.api.patch("/account", { displayName: name.value.trim() || null }));
      name.value = updated.displayName || "";
      saved(out);
    });
  });
  return section("profile-title", "Profile", el);
}

function timezones(current) {
  let zones = [];
  try {
    zones = Intl.supportedValuesOf("timeZone");
  } catch {
    /* an older browser: the current zone only */
  }
  if (!zones.includes("UTC")) zones = ["UTC", ...zones];
  if (!zones.includes(current)) zones = [current, ...zones];
  return zones;
}

function settingsForm(ctx, settings) {
  const box = errorBox();
  const out = h("span", { class: "ok", role: "status" });
  const drafts = h("input", { type: "checkbox", name: "draftGeneratedCards", checked: settings.draftGeneratedCards });
  // No min/max on the inputs: the API checks the values and its message is shown.
  const perDay = h("input", { type: "number", name: "newCardsPerDay", value: settings.newCardsPerDay, inputmode: "numeric" });
  const reviews = h("input", { type: "number", name: "reviewsPerDay", value: settings.reviewsPerDay, inputmode: "numeric" });
  const retention = h("input", { type: "number", name: "desiredRetention", value: settings.desiredRetention, step: "0.01", inputmode: "decimal" });
  const zone = h("select", { name: "timezone", "aria-label": "Time zone" }, timezones(settings.timezone).map((z) => h("option", { value: z, selected: z === settings.timezone }, z)));
  const hour = h(
    "select",
    { name: "reminderHour", "aria-label": "Daily reminder" },
    h("option", { value: "", selected: settings.reminderHour === null || settings.reminderHour === undefined }, "No reminder"),
    Array.from({ length: 24 }, (_, i) => h("option", { value: i, selected: settings.reminderHour === i }, `at ${String(i).padStart(2, "0")}:00`)),
  );
  const button = h("button", { type: "submit" }, "Save settings");
  const el = h(
    "form",
    { class: "settings", novalidate: true },
    h("label", { class: "choice check" }, drafts, "Review generated cards before saving"),
    h(
      "div",
      { class: "grid3" },
      field("New cards a day", perDay),
      field("Reviews a day", reviews),
      field("Desired retention (0.70–0.97)", retention),
      field("Time zone", zone),
      field("Daily reminder", hour),
    ),
    h("div", { class: "row" }, button, out),
    box,
  );
  const number = (input) => (input.value.trim() === "" ? NaN : Number(input.value));
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    out.textContent = "";
    guarded(box, button, async () => {
      const body = {
        draftGeneratedCards: drafts.checked,
        newCardsPerDay: number(perDay),
        reviewsPerDay: number(reviews),
        desiredRetention: number(retention),
        timezone: zone.value,
        reminderHour: hour.value === "" ? null : Number(hour.value),
      };
      for (const [key, value] of Object.entries(body)) if (typeof value === "number" && Number.isNaN(value)) body[key] = null;
      const updated = await detailed(() => ctx.api.patch("/account/settings", body));
      perDay.value = updated.newCardsPerDay;
      reviews.value = updated.reviewsPerDay;
      retention.value = updated.desiredRetention;
      saved(out);
    });
  });
  return section("settings-title", "Study settings", el);
}

function exportSection(ctx, state) {
  const box = errorBox();
  const button = h("button", { type: "button" }, "Export my data");
  const stage = h("p", { class: "export-stage", role: "status" });
  const bar = h("progress", { max: 1, value: 0, hidden: true, "aria-label": "Export progress" });
  const link = h("p", { class: "download" });
  const show = (x) => {
    const p = x.progress || { stage: x.status, done: 0, total: 0 };
    const running = x.status === "queued" || x.status === "running";
    bar.hidden = !running;
    if (p.total) {
      bar.max = p.total;
      bar.value = p.done;
    } else {
      bar.removeAttribute("value"); // indeterminate
    }
    if (running) stage.textContent = `Exporting: ${p.stage}${p.total ? ` ${p.done}/${p.total}` : ""}…`;
    else if (x.status === "succeeded") stage.textContent = `Ready${x.sizeBytes ? ` (${fileSize(x.sizeBytes)})` : ""}.`;
    else if (x.status === "failed") stage.textContent = `The export failed${x.error ? `: ${x.error}` : "."}`;
    else stage.textContent = "The last export has expired: make a new one.";
    link.replaceChildren();
    if (x.status === "succeeded" && x.downloadUrl) {
      link.append(h("a", { href: x.downloadUrl, download: "aksio-export.zip", class: "button" }, "Download the ZIP"), " ", h("small", { class: "muted" }, "The link is valid for an hour."));
    }
    button.disabled = running;
  };
  const follow = async (id) => {
    for (;;) {
      const x = await ctx.api.get(`/account/exports/${id}`);
      if (!state.alive()) return;
      show(x);
      if (x.status !== "queued" && x.status !== "running") return;
      await sleep(700);
    }
  };
  button.addEventListener("click", () =>
    guarded(box, null, async () => {
      button.disabled = true;
      let started;
      try {
        started = await ctx.api.post("/account/exports");
      } catch (exc) {
        button.disabled = false;
        throw exc;
      }
      show(started);
      await follow(started.id);
    }),
  );
  // The latest export, if any: resume following it, or offer its file again.
  guarded(box, null, async () => {
    const { exports } = await ctx.api.get("/account/exports", { limit: 1 });
    const last = exports && exports.find((x) => !x.deckId);
    if (last) await follow(last.id);
  });
  return section(
    "export-title",
    "Export my data",
    h("p", { class: "muted" }, "Everything of your account (cards, review history, courses, documents, quizzes, chats) as one ZIP file."),
    h("div", { class: "row" }, button),
    stage,
    bar,
    link,
    box,
  );
}

function dangerZone(ctx) {
  const box = errorBox();
  const confirm = h("input", { type: "text", name: "confirm", autocomplete: "off", spellcheck: "false" });
  const password = h("input", { type: "password", name: "password", autocomplete: "current-password" });
  const button = h("button", { type: "submit", class: "danger" }, "Delete my account");
  const progress = h("progress", { max: 5, value: 0, hidden: true, "aria-label": "Deletion progress" });
  const out = h("p", { role: "status", class: "deletion-status" });
  const el = h(
    "form",
    { class: "delete-account", novalidate: true },
    h("p", {}, "This deletes your account and everything in it: cards, history, documents, quizzes and your subscription. There is no undo."),
    field(`Type ${CONFIRMATION} to confirm`, confirm),
    field("Your password", password),
    button,
    progress,
    out,
    box,
  );
  const show = (d) => {
    progress.hidden = false;
    progress.max = d.stepsTotal;
    progress.value = d.stepsDone;
    out.textContent = d.status === "done" ? "Your account is deleted." : `Deleting… ${d.stepsDone}/${d.stepsTotal}${d.step ? ` (${d.step})` : ""}`;
  };
  el.addEventListener("submit", (event) => {
    event.preventDefault();
    guarded(box, button, async () => {
      // The API checks the confirmation and wants a sign-in within 5 minutes: with the
      // password given, sign in again first.
      if (confirm.value === CONFIRMATION && password.value) {
        try {
          const credential = EmailAuthProvider.credential(ctx.user.email, password.value);
          await reauthenticateWithCredential(ctx.auth.currentUser, credential);
          await ctx.auth.currentUser.getIdToken(true);
        } catch (exc) {
          const code = (exc && exc.code) || "";
          throw new Error(code.includes("credential") || code.includes("password") ? "Wrong password." : exc.message);
        }
      }
      let state = await detailed(() => ctx.api.del("/account", { confirm: confirm.value }));
      button.disabled = true;
      confirm.disabled = true;
      password.disabled = true;
      show(state);
      // Asking again answers the same deletion and how far it is, until the job has disabled
      // the account (401: its sessions are revoked) or finished.
      while (state.status !== "done") {
        await sleep(700);
        try {
          state = await ctx.api.del("/account", { confirm: CONFIRMATION });
          show(state);
        } catch (exc) {
          if (exc instanceof ApiError && exc.status === 401) break;
          throw exc;
        }
      }
      out.textContent = "Your account is disabled and being erased. Signing you out…";
      await sleep(600);
      await signOut(ctx.auth);
    });
  });
  return h("section", { class: "panel danger-zone", "aria-labelledby": "danger-title" }, h("h2", { id: "danger-title" }, "Danger zone"), el);
}
