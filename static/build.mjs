// Builds static/dist: the portal's CSS from GOV.UK Frontend's Sass, GOV.UK
// Frontend's JS, htmx and our own files, each renamed with a content hash so
// browsers may cache them for a year. manifest.json maps plain names to hashed ones.
import { createHash } from "node:crypto";
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, extname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const root = dirname(dirname(fileURLToPath(import.meta.url)));
const dist = join(root, "static", "dist");
const manifest = {};

function emit(name, content) {
  const hash = createHash("sha256").update(content).digest("hex").slice(0, 12);
  const ext = extname(name);
  const hashed = `${basename(name, ext)}.${hash}${ext}`;
  writeFileSync(join(dist, hashed), content);
  manifest[name] = hashed;
}

rmSync(dist, { recursive: true, force: true });
mkdirSync(dist, { recursive: true });

const css = sass.compile(join(root, "static", "src", "app.scss"), {
  style: "compressed",
  loadPaths: [root],
  quietDeps: true,
  silenceDeprecations: ["import"],
});
emit("app.css", css.css);

// app.js imports GOV.UK Frontend by a relative name: point it at the hashed file, then hash app.js.
emit("govuk-frontend.min.js", readFileSync(join(root, "node_modules/govuk-frontend/dist/govuk/govuk-frontend.min.js")));
const appJs = readFileSync(join(root, "static/src/app.js"), "utf8")
  .replace("./govuk-frontend.min.js", `./${manifest["govuk-frontend.min.js"]}`);
emit("app.js", appJs);
emit("htmx.min.js", readFileSync(join(root, "node_modules/htmx.org/dist/htmx.min.js")));
emit("favicon.svg", readFileSync(join(root, "static/src/favicon.svg")));
for (const own of ["autosave.js", "session_timeout.js"]) {
  try {
    emit(own, readFileSync(join(root, "static/src", own)));
  } catch (error) {
    if (error.code !== "ENOENT") throw error;
  }
}

writeFileSync(join(dist, "manifest.json"), JSON.stringify(manifest, null, 2));
console.log(`built ${Object.keys(manifest).length} assets into static/dist (app.css ${css.css.length} bytes)`);
