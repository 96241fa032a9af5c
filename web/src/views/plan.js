// Plan and usage: each quota with what is used and when it resets; the upgrade goes through
// Stripe Checkout and comes back here (?checkout=success), where the new plan is awaited (the
// webhook sets it); a subscriber manages billing in Stripe's portal.
import { clear, day, errorBox, guarded, h, poll } from "../ui.js";

export async function render(root, ctx) {
  const box = errorBox();
  const summary = h("section", { id: "plan-summary", "aria-live": "polite" });
  const quotas = h("section", { id: "quotas" });
  const back = new URLSearchParams(location.search).get("checkout");
  const notice = h("p", { id: "checkout-notice", role: "status" });
  clear(root, h("h1", {}, "Plan and usage"), notice, box, summary, quotas);

  function draw(usage) {
    const sub = usage.subscription || {};
    const upgrade = h("button", { type: "button", id: "upgrade" }, "Upgrade to Pro");
    upgrade.addEventListener("click", () =>
      guarded(box, upgrade, async () => {
        const here = `${location.origin}${location.pathname}`;
        const session = await ctx.api.post("/create-checkout-session", {
          plan: "pro",
          successUrl: `${here}?checkout=success&session_id={CHECKOUT_SESSION_ID}#/plan`,
          cancelUrl: `${here}?checkout=canceled#/plan`,
        });
        location.assign(session.url);
      }),
    );
    const manage = h("button", { type: "button", class: "secondary", id: "manage-billing" }, "Manage billing");
    manage.addEventListener("click", () =>
      guarded(box, manage, async () => {
        const portal = await ctx.api.post("/create-portal-session", { returnUrl: `${location.origin}${location.pathname}#/plan` });
        location.assign(portal.url);
      }),
    );
    clear(
      summary,
      h("p", {}, "Your plan: ", h("strong", { id: "plan-name" }, usage.planName)),
      sub.status ? h("p", { class: "muted" }, `Subscription ${sub.status}`, sub.currentPeriodEnd ? `, renews ${day(sub.currentPeriodEnd)}` : "", sub.cancelAtPeriodEnd ? " (ends then)" : "", sub.inGrace ? ` · payment problem: grace until ${day(sub.graceEndsAt)}` : "") : null,
      h("div", { class: "row" }, usage.plan === "free" ? upgrade : null, sub.status ? manage : null),
    );
    clear(
      quotas,
      h("h2", {}, "This period"),
      h(
        "table",
        {},
        h("thead", {}, h("tr", {}, h("th", {}, "What"), h("th", {}, "Used"), h("th", {}, "Limit"), h("th", {}, "Resets"))),
        h(
          "tbody",
          {},
          usage.quotas.map((q) =>
            h(
              "tr",
              { dataset: { quota: q.quota } },
              h("td", {}, q.what),
              h("td", {}, h("progress", { max: q.limit || 1, value: Math.min(q.used, q.limit), "aria-label": `${q.what}: ${q.used} of ${q.limit}` }), ` ${q.used.toLocaleString()}`),
              h("td", {}, q.limit.toLocaleString()),
              h("td", {}, day(q.resetsAt)),
            ),
          ),
        ),
      ),
    );
  }

  let usage = await guarded(box, null, () => ctx.api.get("/account/usage"));
  if (!usage) return;
  draw(usage);
  if (back === "canceled") {
    notice.textContent = "Checkout was canceled: nothing was charged.";
  } else if (back === "success") {
    if (usage.plan === "free") {
      notice.textContent = "Payment received. Activating your plan…";
      let tries = 0; // Stripe's webhook usually lands within seconds; stop asking after a minute
      usage = await guarded(box, null, () =>
        poll(
          () => ctx.api.get("/account/usage"),
          draw,
          (current) => current.plan !== "free" || ++tries >= 60,
          () => ctx.alive,
          1000,
        ),
      );
    }
    if (ctx.alive && usage) {
      notice.textContent = usage.plan === "free" ? "Your payment is still being confirmed: this page will show your new plan once it is." : `Welcome to ${usage.planName}!`;
    }
  }
  if (back) history.replaceState(null, "", `${location.pathname}${location.hash}`);
}
