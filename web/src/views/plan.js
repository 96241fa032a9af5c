import { h } from "../ui.js";

export async function render(root) {
  root.append(h("h1", {}, "Plan"), h("p", {}, "Coming soon."));
}
