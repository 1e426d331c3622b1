// Bundles static/src/ into static/dist/ with esbuild.
//
//   npm run build            one minified build with source maps
//   npm run build -- --watch rebuild on every change until interrupted
//
// Every file name carries a hash of its content, so a browser may keep each one for a year
// and still never run yesterday's code: static/dist/manifest.json tells the server which
// hashed file each entry is today (drafting/assets.py reads it for the templates).
// Code two entries share (socket.io-client, api.js, keep.js) goes into a chunk of its own,
// fetched and evaluated once per page however many entries import it.
//
// Paths are resolved from this file, so the script works from any working directory.
import { mkdir, rm, writeFile } from "node:fs/promises";
import { basename, dirname, relative, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const srcDir = fileURLToPath(new URL(".", import.meta.url));
const distDir = fileURLToPath(new URL("../dist/", import.meta.url));
const watch = process.argv.includes("--watch");

/**
 * One line of manifest.json: the entry's hashed file, the chunks it imports (for
 * <link rel="modulepreload">) and the CSS it brought in, all relative to static/dist/.
 * @typedef {{ file: string, imports?: string[], css?: string[] }} ManifestEntry
 */

/**
 * The manifest of one build, keyed by each entry's file name as the templates know it
 * ("main.js", "editor.css").
 * @param {import("esbuild").Metafile} metafile
 * @returns {Record<string, ManifestEntry>}
 */
function manifestOf(metafile) {
  const outputs = metafile.outputs;
  // The metafile's paths are relative to absWorkingDir; the manifest's to static/dist/.
  const fromDist = (/** @type {string} */ path) => relative(distDir, resolve(srcDir, path));
  /** Every chunk an output imports statically, depth first: what loads before it runs. */
  const importsOf = (/** @type {string} */ path, seen = new Set()) => {
    for (const { path: imported, kind } of outputs[path].imports) {
      if (kind === "import-statement" && !seen.has(imported) && outputs[imported]) {
        seen.add(imported);
        importsOf(imported, seen);
      }
    }
    return seen;
  };
  /** @type {Record<string, ManifestEntry>} */
  const manifest = {};
  for (const [path, output] of Object.entries(outputs)) {
    if (!output.entryPoint || path.endsWith(".map")) continue;
    const name = basename(output.entryPoint);
    if (manifest[name]) throw new Error(`two entries are named ${name}: rename one`);
    /** @type {ManifestEntry} */
    const entry = { file: fromDist(path) };
    const imports = [...importsOf(path)].map(fromDist);
    if (imports.length) entry.imports = imports;
    if (output.cssBundle) entry.css = [fromDist(output.cssBundle)];
    manifest[name] = entry;
  }
  return manifest;
}

/** @type {import("esbuild").Plugin} */
const writeManifest = {
  name: "manifest",
  setup(build) {
    build.onEnd(async (result) => {
      if (result.errors.length || !result.metafile) return;
      const manifest = manifestOf(result.metafile);
      await mkdir(distDir, { recursive: true });
      await writeFile(resolve(distDir, "manifest.json"), `${JSON.stringify(manifest, null, 2)}\n`);
    });
  },
};

/** @type {import("esbuild").BuildOptions} */
const options = {
  absWorkingDir: srcDir,
  // One entry per page script or stylesheet, linked by the templates through the manifest
  // under its file name (editor/editor.js is "editor.js").
  // editor.js/.css: the live editor, linked only by recommendations/show.html, so other
  // pages do not download Yjs and CodeMirror.
  // votes.js: a vote's page and its projector view kept live (Socket.IO only, no editor).
  // export.js: the export page's live progress bars (Socket.IO, polling as the fallback).
  entryPoints: ["main.js", "main.css", "editor/editor.js", "editor/editor.css", "votes/votes.js",
                "export/export.js"],
  outdir: distDir,
  entryNames: "[name]-[hash]",
  chunkNames: "chunks/[name]-[hash]",
  assetNames: "assets/[name]-[hash]",
  bundle: true,
  splitting: true,
  format: "esm",
  metafile: true,
  // Browsers that support <script type="module"> and the CSS we write.
  target: ["es2020", "chrome100", "edge100", "firefox100", "safari15"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  loader: { ".svg": "file", ".woff2": "file", ".png": "file" },
  logLevel: "info",
  plugins: [writeManifest],
};

// axe-core, for the accessibility test only (tests/test_accessibility_browser.py): outside
// the manifest, so no template can link it, and under a fixed name for the test to find.
// The test loads it into the page from the same origin, which the CSP allows.
/** @type {import("esbuild").BuildOptions} */
const testOptions = {
  absWorkingDir: srcDir,
  entryPoints: { axe: "testing/axe.js" },
  outdir: resolve(distDir, "testing"),
  bundle: true,
  format: "iife",
  target: options.target,
  minify: true,
  legalComments: "linked",
  logLevel: "warning",
};

// A clean output folder, so files of a removed entry or an older hash never linger and get
// served. (In --watch, superseded hashed files stay until the next full build.)
await rm(distDir, { recursive: true, force: true });
await mkdir(dirname(distDir), { recursive: true });

if (watch) {
  await esbuild.build(testOptions);
  const context = await esbuild.context(options);
  await context.watch();
  console.log("esbuild: watching static/src/ (Ctrl+C to stop)");
  const stop = async () => {
    await context.dispose();
    process.exit(0);
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
} else {
  try {
    await Promise.all([esbuild.build(options), esbuild.build(testOptions)]);
  } catch {
    // esbuild has already printed the errors (logLevel "info").
    process.exit(1);
  }
}
