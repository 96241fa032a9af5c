// The Aksio reference web app: sign-in, then one screen per hash route (#/study, #/tutor...).
// Settings come from /config.json (the API base and Firebase Auth's settings; locally the Auth
// emulator); every API call goes through api.js with the user's ID token.
import { initializeApp } from "@firebase/app";
import {
  connectAuthEmulator,
  createUserWithEmailAndPassword,
  getAuth,
  onAuthStateChanged,
  sendEmailVerification,
  signInWithEmailAndPassword,
  signOut,
} from "@firebase/auth";
import { createApi } from "./api.js";
import { clear, errorBox, field, form, guarded, h } from "./ui.js";
import * as account from "./views/account.js";
import * as courses from "./views/courses.js";
import * as documents from "./views/documents.js";
import * as inbox from "./views/inbox.js";
import * as plan from "./views/plan.js";
import * as quizzes from "./views/quizzes.js";
import * as stats from "./views/stats.js";
import * as study from "./views/study.js";
import * as tutor from "./views/tutor.js";

const ROUTES = {
  study: ["Study", study],
  courses: ["Courses", courses],
  documents: ["Documents", documents],
  tutor: ["Tutor", tutor],
  quizzes: ["Quizzes", quizzes],
  stats: ["Stats", stats],
  inbox: ["Inbox", inbox],
  plan: ["Plan", plan],
  account: ["Account", account],
};

const app = document.getElementById("app");
let leave = null; // the current view's cleanup (key handlers, polling)
let session = null;

function route() {
  const [name, query] = (location.hash.replace(/^#\/?/, "") || "study").split("?");
  return { name: ROUTES[name] ? name : "study", params: new URLSearchParams(query || "") };
}

export function navigate(name, params) {
  const query = params ? `?${new URLSearchParams(params)}` : "";
  location.hash = `#/${name}${query}`;
}

async function refreshUnread() {
  const badge = document.getElementById("unread");
  if (!badge || !session) return;
  try {
    const { unread } = await session.api.get("/notifications/unread");
    badge.textContent = unread ? String(unread) : "";
    badge.hidden = !unread;
    badge.setAttribute("aria-label", `${unread} unread`);
  } catch {
    /* the badge is a hint; the inbox shows errors */
  }
}

function shell(user) {
  const current = route().name;
  const links = Object.entries(ROUTES).map(([name, [label]]) =>
    h(
      "a",
      { href: `#/${name}`, "aria-current": name === current ? "page" : null, "data-route": name },
      label,
      name === "inbox" ? h("span", { id: "unread", class: "badge", hidden: true }) : null,
    ),
  );
  const out = h("button", { type: "button", class: "link", onclick: () => signOut(session.auth) }, "Sign out");
  const main = h("main", { id: "view", tabindex: "-1" });
  clear(
    app,
    h("header", {}, h("strong", { class: "brand" }, "Aksio"), h("nav", { "aria-label": "Main" }, links), h("span", { class: "who" }, user.email, " ", out)),
    user.emailVerified ? null : verifyBanner(user),
    main,
  );
  return main;
}

// Uploads and AI need a verified email (the API answers 403 email_not_verified). The link is
// sent at sign-up; once it is opened, the ID token must be refreshed to carry the claim.
function verifyBanner(user) {
  const box = errorBox();
  const note = h("span", {}, `Verify ${user.email} to upload documents and use AI: open the link we emailed you. `);
  const resend = h("button", { type: "button", class: "link" }, "Send the link again");
  const done = h("button", { type: "button", class: "secondary" }, "I have verified it");
  const banner = h("div", { class: "notice", id: "verify-email", role: "status" }, note, resend, " ", done, box);
  resend.addEventListener("click", () =>
    guarded(box, resend, async () => {
      await sendEmailVerification(user);
      note.textContent = `We sent a new link to ${user.email}. `;
    }),
  );
  done.addEventListener("click", () =>
    guarded(box, done, async () => {
      await user.reload();
      if (!session.auth.currentUser.emailVerified) throw new Error("Not verified yet: open the link in the email first.");
      await session.auth.currentUser.getIdToken(true);
      banner.remove();
    }),
  );
  return banner;
}

async function show() {
  if (!session || !session.user) return;
  if (leave) {
    try {
      leave();
    } catch {
      /* a view's cleanup never blocks the next view */
    }
    leave = null;
  }
  const { name, params } = route();
  const main = shell(session.user);
  document.title = `${ROUTES[name][0]} · Aksio`;
  const ctx = { ...session, params, navigate, refreshUnread, alive: true };
  const [, view] = ROUTES[name];
  const cleanup = await view.render(main, ctx);
  leave = () => {
    ctx.alive = false;
    if (typeof cleanup === "function") cleanup();
  };
  refreshUnread();
}

function signInScreen(auth) {
  const email = h("input", { name: "email", type: "email", autocomplete: "email", required: true });
  const password = h("input", { name: "password", type: "password", autocomplete: "current-password", required: true, minlength: 6 });
  let mode = "in";
  const title = h("h1", {}, "Sign in to Aksio");
  const toggle = h("button", { type: "button", class: "link" }, "New here? Create an account");
  const body = form(
    [field("Email", email), field("Password", password)],
    "Continue",
    async (data) => {
      try {
        if (mode === "up") {
          const credential = await createUserWithEmailAndPassword(auth, data.get("email"), data.get("password"));
          await sendEmailVerification(credential.user).catch(() => {});
        } else {
          await signInWithEmailAndPassword(auth, data.get("email"), data.get("password"));
        }
      } catch (exc) {
        throw new Error(authMessage(exc));
      }
    },
    { id: "sign-in", "aria-labelledby": "auth-title" },
  );
  title.id = "auth-title";
  toggle.addEventListener("click", () => {
    mode = mode === "in" ? "up" : "in";
    title.textContent = mode === "up" ? "Create your Aksio account" : "Sign in to Aksio";
    toggle.textContent = mode === "up" ? "Have an account? Sign in" : "New here? Create an account";
    password.autocomplete = mode === "up" ? "new-password" : "current-password";
  });
  clear(app, h("main", { class: "auth" }, title, body, toggle));
}

function authMessage(exc) {
  const code = (exc && exc.code) || "";
  const known = {
    "auth/invalid-credential": "Wrong email or password.",
    "auth/wrong-password": "Wrong email or password.",
    "auth/user-not-found": "No account has this email.",
    "auth/email-already-in-use": "An account with this email exists: sign in instead.",
    "auth/weak-password": "Choose a password of at least 6 characters.",
    "auth/invalid-email": "That email address is not valid.",
    "auth/user-disabled": "This account is disabled.",
  };
  return known[code] || (exc && exc.message) || String(exc);
}

async function boot() {
  const box = errorBox();
  let config;
  try {
    const response = await fetch("config.json", { cache: "no-store" });
    if (!response.ok) throw new Error(`config.json answered ${response.status}`);
    config = await response.json();
  } catch (exc) {
    clear(app, box);
    box.show(new Error(`The app's settings could not be loaded: ${exc.message}`));
    return;
  }
  const firebase = initializeApp(config.firebase);
  const auth = getAuth(firebase);
  if (config.authEmulator) connectAuthEmulator(auth, config.authEmulator, { disableWarnings: true });
  const api = createApi(config.apiBase, async () => (auth.currentUser ? auth.currentUser.getIdToken() : null));
  window.addEventListener("hashchange", () => show());
  onAuthStateChanged(auth, (user) => {
    if (!user) {
      session = null;
      signInScreen(auth);
      return;
    }
    session = { auth, user, api, config };
    guarded(box, null, show);
  });
}

boot();
