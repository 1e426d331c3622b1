// The editor's words come from the page, translated by the server (gettext), never from
// here: recommendations/_editor.html renders them as data attributes of one hidden element,
//   <div id="editor-strings" hidden data-status-saved="Saved" data-added="Clause {number} added.">
// read here as strings.statusSaved, strings.added. Placeholders are written {name}.

let strings = {};

export function loadStrings(id = "editor-strings") {
  strings = { ...(document.getElementById(id)?.dataset ?? {}) };
  return strings;
}

/** The string for `key` with each {name} replaced by params[name]; the key itself if unknown. */
export function t(key, params = {}) {
  const template = strings[key] ?? key;
  return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
}

/** A stakeholder category's label ("government_official" -> strings.categoryGovernmentOfficial). */
export function categoryLabel(value) {
  const key = `category${String(value)
    .split("_")
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join("")}`;
  return strings[key] ?? String(value);
}
