// Bundles static/src/ into static/dist/ with esbuild.
//
//   npm run build            one minified build with source maps
//   npm run build -- --watch rebuild on every change until interrupted
//
// Paths are resolved from this file, so the script works from any working directory.
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";

const srcDir = fileURLToPath(new URL(".", import.meta.url));
const distDir = fileURLToPath(new URL("../dist/", import.meta.url));
const watch = process.argv.includes("--watch");

/** @type {import("esbuild").BuildOptions} */
const options = {
  absWorkingDir: srcDir,
  // One entry per output file name in static/dist/ (templates link them by that name).
  // editor.js/.css: the live editor, linked only by recommendations/show.html, so other
  // pages do not download Yjs and CodeMirror.
  // votes.js: a vote's page and its projector view kept live (Socket.IO only, no editor).
  // export.js: the export page's live progress bars (Socket.IO, polling as the fallback).
  entryPoints: ["main.js", "main.css", "editor/editor.js", "editor/editor.css", "votes/votes.js",
                "export/export.js"],
  outdir: distDir,
  entryNames: "[name]",
  assetNames: "assets/[name]-[hash]",
  bundle: true,
  format: "esm",
  // Browsers that support <script type="module"> and the CSS we write.
  target: ["es2020", "chrome100", "edge100", "firefox100", "safari15"],
  minify: true,
  sourcemap: true,
  legalComments: "linked",
  loader: { ".svg": "file", ".woff2": "file", ".png": "file" },
  logLevel: "info",
};

// A clean output folder, so files of a removed entry never linger and get served.
await rm(distDir, { recursive: true, force: true });

if (watch) {
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
    await esbuild.build(options);
  } catch {
    // esbuild has already printed the errors (logLevel "info").
    process.exit(1);
  }
}
