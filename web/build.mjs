// Builds the web app into web/dist: src/main.js bundled (with Firebase Auth's web SDK) into
// app.js, beside index.html and style.css. Plain static files: the gateway serves them locally,
// and terraform's web bucket serves them in production (terraform/modules/web).
import { build } from "esbuild";
import { copyFileSync, mkdirSync, rmSync } from "node:fs";

const dist = new URL("./dist/", import.meta.url);
rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });
await build({
  entryPoints: [new URL("./src/main.js", import.meta.url).pathname],
  bundle: true,
  minify: true,
  sourcemap: true,
  format: "esm",
  target: ["es2022"],
  outfile: new URL("./app.js", dist).pathname,
  logLevel: "warning",
});
for (const file of ["index.html", "style.css", "icon.svg"]) {
  copyFileSync(new URL(`./src/${file}`, import.meta.url), new URL(file, dist));
}
console.log("web/dist built");
