// The inbox: notifications newest first ("Load more" pages on with nextCursor), unread in bold.
// Marking one read (or following its link) (POST /notifications/{id}/read) and updates the nav badge.
import { clear, errorBox, guarded, h } from "../ui.js";

const PAGE = 20;

function when(iso) {
  if (!iso) return "";
  return new Date(iso).toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit" });
}

export async function render(root, ctx) {
  const box = errorBox();
  const items = h("ul", { class: "list inbox", "aria-label": "Notifications" });
  const more = h("button", { type: "button", class: "secondary", hidden: true }, "Load more");
  const allRead = h("button", { type: "button", class: "secondary", hidden: true }, "Mark all read");
  const count = h("p", { class: "muted", role: "status" });
  root.append(h("div", { class: "row inbox-head" }, h("h1", {}, "Inbox"), allRead), count, box, items, more);
  let cursor = null;
  const unread = new Map(); // id → function that marks it read

  const updateCount = () => {
    const n = unread.size;
    count.textContent = items.children.length ? (n ? `${n} unread` : "All read") : "";
    allRead.hidden = n === 0;
  };

  const entry = (n) => {
    const li = h("li", { class: `note ${n.read ? "read" : "unread"}`, dataset: { notification: n.id } });
    const status = h("span", { class: "sr-only" }, n.read ? "" : "Unread: ");
    const title = h("span", {}, status, n.title);
    const body = h("p", { class: "note-body" }, n.body);
    const meta = h("small", { class: "muted" }, h("time", { datetime: n.createdAt || "" }, when(n.createdAt)));
    const action = studyLink(n);
    const mark = h("button", { type: "button", class: "link mark", "aria-label": `Mark read: ${n.title}` }, "Mark read");
    const markRead = () =>
      guarded(box, mark, async () => {
        const updated = await ctx.api.post(`/notifications/${n.id}/read`);
        unread.delete(n.id);
        li.classList.replace("unread", "read");
        status.textContent = "";
        mark.remove();
        if (updated.readAt) meta.append(` · read ${when(updated.readAt)}`);
        updateCount();
        await ctx.refreshUnread();
      });
    mark.addEventListener("click", markRead);
    if (action) action.addEventListener("click", () => unread.has(n.id) && markRead());
    if (!n.read) unread.set(n.id, markRead);
    li.append(h("div", { class: "note-row" }, h("h2", { class: "note-title" }, title), meta), body, h("div", { class: "row" }, action, n.read ? null : mark));
    if (n.readAt) meta.append(` · read ${when(n.readAt)}`);
    return li;
  };

  const load = () =>
    guarded(box, more, async () => {
      const page = await ctx.api.get("/notifications", { limit: PAGE, cursor: cursor || undefined });
      items.querySelector(".empty")?.remove();
      for (const n of page.notifications) items.append(entry(n));
      cursor = page.nextCursor || null;
      more.hidden = !cursor;
      if (!items.children.length) items.append(h("li", { class: "muted empty" }, "Nothing here yet: reminders and news will show up here."));
      updateCount();
    });
  more.addEventListener("click", load);
  allRead.addEventListener("click", () =>
    guarded(box, allRead, async () => {
      for (const markRead of [...unread.values()]) await markRead();
    }),
  );
  await load();
  if (items.querySelector(".empty")) clear(count);
}

function studyLink(n) {
  if (n.kind === "reminder") return h("a", { href: "#/study", class: "note-action" }, "Study now");
  return null;
}
