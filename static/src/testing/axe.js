// axe-core for the accessibility test, and nothing else: build.mjs bundles it outside the
// manifest, so no page links it. Bundled, axe's own "window.axe =" does not run (it sees
// a CommonJS module), hence this line.
import axe from "axe-core";

window.axe = axe;
