// Swap a server-rendered section for a newer rendering without losing what a person was
// doing in it: the fields they changed, the focus and caret, the <details> they opened.
//
// Used where an event makes a page fetch a section again while someone may be typing in it
// (the chair filling the open-vote form while ballots come in; a voter choosing an option
// when the page reconnects; a reply being written in a clause's discussion panel while
// others comment). Forms are matched by action, data attributes and rank among equals;
// fields by name (and value, for radios and checkboxes).
//
// replaceKeeping() swaps one element for another; capture() and restore() are for a caller
// that puts the new rendering in place itself (the discussion panel, discussion.js).

const TYPED = new Set(["text", "search", "email", "url", "tel", "number", "password", "date", "datetime-local", "time"]);

export function isTyped(element) {
  return element instanceof HTMLTextAreaElement || (element instanceof HTMLInputElement && TYPED.has(element.type));
}

function formKeys(root) {
  const seen = new Map();
  const keys = new Map();
  for (const form of root.querySelectorAll("form")) {
    // Data attributes with their values: the console's forms are told apart by them
    // (data-vote-open-form="clause-12"), whatever clauses come and go around them.
    const data = [...form.attributes].filter((a) => a.name.startsWith("data-")).map((a) => `${a.name}=${a.value}`).sort();
    const base = `${form.getAttribute("action") ?? ""}|${data.join(",")}`;
    const rank = seen.get(base) ?? 0;
    seen.set(base, rank + 1);
    keys.set(form, `${base}|${rank}`);
  }
  return keys;
}

/** What a person changed in a form since the server rendered it. */
function dirtyFields(form) {
  const dirty = [];
  for (const element of form.elements) {
    if (!element.name || element.type === "hidden") continue;
    if (element instanceof HTMLInputElement && (element.type === "checkbox" || element.type === "radio")) {
      if (element.checked !== element.defaultChecked) {
        dirty.push({ name: element.name, value: element.value, checked: element.checked });
      }
    } else if (isTyped(element) && element.value !== element.defaultValue) {
      dirty.push({ name: element.name, value: element.value });
    } else if (element instanceof HTMLSelectElement) {
      const initial = [...element.options].find((option) => option.defaultSelected)?.value ?? element.options[0]?.value;
      if (element.value !== initial) dirty.push({ name: element.name, value: element.value });
    }
  }
  return dirty;
}

/** The field of `form` called `name` (with that value, for a radio or checkbox), or null. */
export function fieldOf(form, name, value = undefined) {
  return [...form.elements].find((element) =>
    element.name === name && (value === undefined || element.value === value)) ?? null;
}

/** A key for a <details> element: the nearest ancestor with an id, and its rank in it. */
function detailsKey(details, root) {
  const ancestor = details.parentElement?.closest("[id]");
  const scope = ancestor && root.contains(ancestor) ? ancestor : root;
  return `${scope === root ? "" : scope.id}|${[...scope.querySelectorAll("details")].indexOf(details)}`;
}

/** How the focused element is found again when it is in no form and has no id. */
function markOf(active, root, marks) {
  for (const attribute of marks) {
    const marked = active.closest(`[${attribute}]`);
    const value = marked && root.contains(marked) ? marked.getAttribute(attribute) : null;
    if (value) return { attribute, value };
  }
  return {};
}

/**
 * What the person changed, opened and focused in `root`, for restore() to put back into a
 * newer rendering of it.
 * - skip: an element (the form just sent) whose fields and <details> are not carried over:
 *   the server's answer has the last word on them;
 * - hidden: (name) => whether that hidden field of a form the person changed goes with the
 *   changes (what they were written against, an amendment's base_text say); none by default;
 * - marks: attributes, tried in order, by which a focused element in no form and without an id
 *   is found again: its own or its nearest ancestor's (by default a link's href);
 * - scroll: elements whose scroll positions are kept (they must outlive the new rendering).
 */
export function capture(root, { skip = null, hidden = null, marks = ["href"], scroll = [] } = {}) {
  const keys = formKeys(root);
  const forms = [];
  for (const [form, key] of keys) {
    if (skip?.contains(form)) continue;
    const dirty = dirtyFields(form);
    if (dirty.length === 0) continue;
    const written = hidden
      ? [...form.elements]
        .filter((e) => e.type === "hidden" && e.name && hidden(e.name))
        .map((e) => ({ name: e.name, value: e.value }))
      : [];
    forms.push({ key, dirty, hidden: written });
  }
  // Null when the focus was elsewhere; {} when it was here but cannot be found again.
  let focus = null;
  // Whichever it is, a field or a button: each property read is undefined on the others.
  const active = /** @type {any} */ (document.activeElement);
  if (active && active !== root && root.contains(active)) {
    const form = active.form ?? active.closest("form");
    if (form && keys.has(form)) {
      focus = {
        key: keys.get(form),
        name: active.name || null,
        value: active.type === "radio" || active.tagName === "BUTTON" ? active.value : undefined,
        index: [...form.elements].indexOf(active),
        selection: isTyped(active) ? [active.selectionStart, active.selectionEnd, active.selectionDirection] : null,
      };
    } else if (active.id) {
      focus = { id: active.id };
    } else {
      focus = markOf(active, root, marks);
    }
  }
  const details = new Map();
  for (const element of root.querySelectorAll("details")) {
    if (!skip?.contains(element)) details.set(detailsKey(element, root), element.open);
  }
  return { forms, focus, details, scroll: scroll.map((element) => [element, element.scrollTop]) };
}

/**
 * Put what capture() kept into the newer rendering in `root`. Returns whether the focus was
 * given back (false too when it was not in the old rendering: see `kept.focus`).
 * - focusable: make the element that gets the focus back focusable if it is not (a thread
 *   that was focused from a script, with a tabindex the new rendering lacks);
 * - fallback: (focus) => an element in `root` to focus when the one focused is gone.
 */
export function restore(root, kept, { focusable = false, fallback = null } = {}) {
  const keys = new Map([...formKeys(root)].map(([form, key]) => [key, form]));
  for (const { key, dirty, hidden } of kept.forms) {
    const form = keys.get(key);
    if (!form) continue;
    for (const { name, value } of hidden) {
      const field = fieldOf(form, name);
      if (field) field.value = value;
    }
    for (const { name, value, checked } of dirty) {
      if (checked !== undefined) {
        const box = fieldOf(form, name, value);
        if (box) box.checked = checked;
      } else {
        const field = fieldOf(form, name);
        if (field) field.value = value;
      }
    }
  }
  for (const element of root.querySelectorAll("details")) {
    const open = kept.details.get(detailsKey(element, root));
    if (open !== undefined) element.open = open;
  }
  for (const [element, top] of kept.scroll) element.scrollTop = top;
  const { focus } = kept;
  if (!focus) return false;
  let target = null;
  if (focus.key) {
    const form = keys.get(focus.key);
    if (form) target = (focus.name && fieldOf(form, focus.name, focus.value)) || form.elements[focus.index] || null;
  } else if (focus.id) {
    target = root.querySelector(`#${CSS.escape(focus.id)}`);
  } else if (focus.attribute) {
    target = [...root.querySelectorAll(`[${focus.attribute}]`)].find((e) => e.getAttribute(focus.attribute) === focus.value) ?? null;
  }
  if (!target && fallback) target = fallback(focus);
  if (!target || !root.contains(target)) return false;
  if (focusable && target.tabIndex < 0 && !target.matches("a[href], button, input, textarea, select")) target.tabIndex = -1;
  target.focus({ preventScroll: true });
  if (focus.selection && isTyped(target)) {
    try {
      target.setSelectionRange(...focus.selection);
    } catch {
      // a field type without a caret
    }
  }
  return true;
}

/**
 * Put `fresh` (adopted into this document) where `old` is, carrying over what the person
 * changed or focused in `old`. Returns whether the focus was inside `old` and could not be
 * given back (the caller decides where it goes then).
 */
export function replaceKeeping(old, fresh) {
  const kept = capture(old);
  const hadFocus = old.contains(document.activeElement) && document.activeElement !== document.body;
  old.replaceWith(fresh);
  const restored = restore(fresh, kept);
  return hadFocus && !restored;
}

/** The first element matching `selector` in an HTML answer, adopted into this document. */
export function extract(html, selector) {
  const parsed = new DOMParser().parseFromString(html, "text/html");
  const element = parsed.querySelector(selector);
  return element ? document.adoptNode(element) : null;
}
