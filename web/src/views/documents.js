// Documents: upload (a signed URL PUT straight from the browser to Cloud Storage, with its
// progress), processing progress, and card generation from ready documents, with drafts to
// review before they are saved when the account's setting asks for it.
import { clear, errorBox, field, fileSize, form, guarded, h, poll, uuid } from "../ui.js";

const TYPES = {
  pdf: "application/pdf",
  pptx: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
  docx: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
  md: "text/markdown",
  markdown: "text/markdown",
  txt: "text/plain",
};

function contentType(file) {
  const ext = file.name.split(".").pop().toLowerCase();
  return TYPES[ext] || file.type || "application/octet-stream";
}


export async function render(root, ctx) {
  const box = errorBox();
  const list = h("ul", { class: "list", id: "document-list" });
  const file = h("input", { name: "file", type: "file", required: true, accept: ".pdf,.docx,.pptx,.md,.txt" });
  const course = h("select", { name: "courseId" }, h("option", { value: "" }, "No course"));
  const uploadState = h("div", { id: "upload-state", "aria-live": "polite" });
  const uploadForm = form([field("File (PDF, Word, PowerPoint, Markdown or text)", file), field("Course", course)], "Upload", (data) => upload(data), {
    id: "upload",
    "aria-label": "Upload a document",
  });
  const generator = h("section", { id: "generate", "aria-labelledby": "generate-title" });
  clear(root, h("h1", {}, "Documents"), box, h("h2", {}, "Upload"), uploadForm, uploadState, h("h2", {}, "Your documents"), list, generator);

  let courses = [];
  let documents = [];

  async function refresh() {
    const [docPage, coursePage] = await Promise.all([ctx.api.get("/documents", { limit: 100 }), ctx.api.get("/courses", { limit: 100 })]);
    documents = docPage.documents;
    if (coursePage.courses.length !== courses.length) {
      courses = coursePage.courses;
      clear(course, h("option", { value: "" }, "No course"), courses.map((c) => h("option", { value: c.id }, c.name)));
      const wanted = ctx.params.get("course");
      if (wanted) course.value = wanted;
    }
    drawList();
    drawGenerator();
  }

  function drawList() {
    clear(
      list,
      documents.length ? null : h("li", { class: "muted" }, "Nothing uploaded yet."),
      documents.map((doc) => {
        const owner = courses.find((c) => c.id === doc.courseId);
        return h(
          "li",
          { dataset: { document: doc.id, status: doc.status } },
          h("strong", {}, doc.filename),
          h("span", { class: "muted" }, ` · ${fileSize(doc.sizeBytes)}`, owner ? ` · ${owner.name}` : ""),
          h("div", {}, statusText(doc)),
          doc.status === "processing" ? h("progress", { max: 100, value: doc.progress || 0, "aria-label": `Processing ${doc.filename}` }) : null,
        );
      }),
    );
  }

  async function upload(data) {
    const chosen = file.files[0];
    if (!chosen) throw new Error("Choose a file first.");
    const created = await ctx.api.post("/create-upload", { filename: chosen.name, contentType: contentType(chosen), sizeBytes: chosen.size });
    const doc = created.document;
    const courseId = data.get("courseId");
    if (courseId) await ctx.api.patch(`/documents/${doc.id}`, { courseId });
    const bar = h("progress", { max: chosen.size, value: 0, "aria-label": `Uploading ${chosen.name}` });
    const label = h("span", {}, `Uploading ${chosen.name}…`);
    clear(uploadState, label, bar);
    uploadState.dataset.progressEvents = "0";
    await put(created.upload, chosen, (sent) => {
      bar.value = sent;
      uploadState.dataset.progressEvents = String(Number(uploadState.dataset.progressEvents) + 1);
      uploadState.dataset.sentBytes = String(sent);
      label.textContent = `Uploading ${chosen.name}: ${fileSize(sent)} of ${fileSize(chosen.size)}`;
    });
    label.textContent = `Uploaded ${chosen.name} (${fileSize(chosen.size)}). Processing…`;
    bar.remove();
    uploadForm.reset();
    await poll(
      () => ctx.api.get(`/documents/${doc.id}`),
      (current) => {
        documents = [...documents.filter((d) => d.id !== current.id), current];
        drawList();
      },
      (current) => current.status === "ready" || current.status === "failed",
      () => ctx.alive,
    ).then((current) => {
      if (!current || !ctx.alive) return;
      label.textContent = current.status === "ready" ? `${chosen.name} is ready: ${current.pageCount} pages.` : `${chosen.name} failed: ${current.error ? current.error.message : "unknown error"}`;
      label.className = current.status === "ready" ? "ok" : "error";
    });
    await refresh();
  }

  function drawGenerator() {
    const ready = documents.filter((d) => d.status === "ready");
    if (!ready.length) {
      clear(generator);
      return;
    }
    const picks = ready.map((doc) => h("label", { class: "row" }, h("input", { type: "checkbox", name: "documentIds", value: doc.id, checked: true }), doc.filename));
    const deckName = h("input", { name: "deckName", required: true, value: ready.length === 1 ? ready[0].filename.replace(/\.[^.]+$/, "") : "New deck" });
    const count = h("input", { name: "count", type: "number", min: 1, max: 50, value: 10 });
    const cloze = h("input", { type: "checkbox", name: "cloze" });
    const genState = h("div", { id: "generation", "aria-live": "polite" });
    const genForm = form(
      [h("fieldset", {}, h("legend", {}, "From"), picks), field("Deck name", deckName), field("How many cards", count), h("label", { class: "row" }, cloze, "Include cloze deletions")],
      "Generate cards",
      async (data) => {
        const documentIds = data.getAll("documentIds");
        if (!documentIds.length) throw new Error("Choose at least one document.");
        const courseIds = new Set(documentIds.map((id) => (documents.find((d) => d.id === id) || {}).courseId).filter(Boolean));
        const body = {
          jobId: uuid(),
          documentIds,
          newDeckName: String(data.get("deckName")).trim(),
          count: Number(data.get("count")),
          types: data.get("cloze") ? ["basic", "cloze"] : ["basic"],
        };
        if (courseIds.size === 1) body.courseId = [...courseIds][0];
        const started = await ctx.api.post("/generate-flashcards", body);
        await follow(started.jobId, genState);
      },
      { id: "generate-form", "aria-label": "Generate flashcards" },
    );
    clear(generator, h("h2", { id: "generate-title" }, "Generate flashcards"), genForm, genState);
  }

  async function follow(jobId, place) {
    const bar = h("progress", { max: 1, value: 0, "aria-label": "Generation progress" });
    const label = h("p", {}, "Generating…");
    clear(place, label, bar);
    const job = await poll(
      () => ctx.api.get(`/generate-flashcards/${jobId}`),
      (current) => {
        const p = current.progress;
        bar.max = p.stepsTotal || 1;
        bar.value = p.stepsDone;
        label.textContent = `Generating: ${p.chunksDone} of ${p.chunksTotal || "?"} passages read, ${current.cardsCreated + current.draftsPending} cards so far`;
      },
      (current) => current.status === "succeeded" || current.status === "failed",
      () => ctx.alive,
    );
    if (!ctx.alive) return;
    bar.remove();
    if (job.status === "failed") {
      label.className = "error";
      label.textContent = `Generation failed: ${job.error ? job.error.message : "unknown error"}`;
      return;
    }
    if (job.draftsPending > 0) {
      await drafts(job, place);
      return;
    }
    label.className = "ok";
    clear(label, `${job.cardsCreated} cards added to your deck. `, h("a", { href: "#/study" }, "Study them now"));
  }

  async function drafts(job, place) {
    const { drafts: pending } = await ctx.api.get(`/generate-flashcards/${job.id}/drafts`);
    const draftBox = errorBox();
    const rows = pending.map((d) =>
      h(
        "li",
        { dataset: { draft: d.id } },
        h("label", { class: "row" }, h("input", { type: "checkbox", value: d.id, checked: true, "aria-label": `Keep: ${d.front}` }), h("span", {}, h("strong", {}, d.front), h("br"), d.back)),
      ),
    );
    const save = h("button", { type: "button" }, "Save the checked cards");
    save.addEventListener("click", () =>
      guarded(draftBox, save, async () => {
        const checked = [...place.querySelectorAll("input[type=checkbox]")];
        const keep = checked.filter((c) => c.checked).map((c) => c.value);
        const drop = checked.filter((c) => !c.checked).map((c) => c.value);
        const accepted = keep.length ? await ctx.api.post(`/generate-flashcards/${job.id}/drafts/accept`, { cardIds: keep }) : { accepted: 0 };
        if (drop.length) await ctx.api.post(`/generate-flashcards/${job.id}/drafts/reject`, { cardIds: drop });
        clear(place, h("p", { class: "ok" }, `${accepted.accepted} cards saved, ${drop.length} discarded. `, h("a", { href: "#/study" }, "Study them now")));
      }),
    );
    clear(place, h("h3", {}, `Review ${pending.length} drafts`), h("p", { class: "muted" }, "Uncheck the cards you do not want, then save."), h("ul", { class: "list", id: "drafts" }, rows), save, draftBox);
  }

  await guarded(box, null, refresh);
  const processing = documents.filter((d) => d.status === "processing" || d.status === "awaiting_upload");
  if (processing.length) {
    poll(
      () => ctx.api.get("/documents", { limit: 100 }),
      (page) => {
        documents = page.documents;
        drawList();
      },
      (page) => !page.documents.some((d) => d.status === "processing"),
      () => ctx.alive,
      1500,
    ).then(() => ctx.alive && drawGenerator());
  }
}

function statusText(doc) {
  switch (doc.status) {
    case "ready":
      return `Ready · ${doc.pageCount ?? "?"} pages`;
    case "processing":
      return `Processing… ${doc.progress || 0}%`;
    case "failed":
      return `Failed: ${doc.error ? doc.error.message : "unknown error"}`;
    default:
      return "Waiting for the upload";
  }
}

// PUT the file to the signed URL with the headers it was signed with; XMLHttpRequest because
// fetch() reports no upload progress. Cloud Storage's errors come back as XML: their <Message>.
function put(upload, file, onProgress) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(upload.method || "PUT", upload.url);
    for (const [name, value] of Object.entries(upload.headers || {})) xhr.setRequestHeader(name, value);
    xhr.upload.addEventListener("progress", (event) => onProgress(event.loaded));
    xhr.addEventListener("load", () => {
      if (xhr.status >= 200 && xhr.status < 300) return resolve();
      const message = /<Message>([^<]*)<\/Message>/.exec(xhr.responseText || "");
      reject(new Error(`The upload was refused (${xhr.status}): ${message ? message[1] : xhr.statusText}`));
    });
    xhr.addEventListener("error", () => reject(new Error("The upload could not reach storage (network or CORS).")));
    xhr.send(file);
  });
}
