// Behaviour shared by every page, loaded by base.html as a module.
//
// The CSP is `script-src 'self'`: no inline scripts or on* attributes anywhere, so
// pages declare behaviour with data attributes and this file wires it up with
// listeners delegated to the document (they also cover markup added later).
//
//   <form data-confirm="Delete this clause?">   asks before submitting
//   <button data-confirm="...">                 the same, for one submit button
//   <button data-nav-toggle aria-controls="id"> opens/closes the mobile navigation
//   <select data-autosubmit>                    submits its form on change

export { apiFetch, ApiError, csrfToken } from "./api.js";

function confirmSubmit(event) {
  const form = event.target;
  const message = event.submitter?.dataset.confirm ?? form.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
}

function autosubmit(event) {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.hasAttribute("data-autosubmit") && select.form) {
    // requestSubmit, unlike submit, fires the submit event (and so data-confirm).
    select.form.requestSubmit();
  }
}

function navFor(toggle) {
  const id = toggle.getAttribute("aria-controls");
  return (id && document.getElementById(id)) || toggle.closest("header")?.querySelector("nav");
}

function setNavOpen(toggle, open) {
  toggle.setAttribute("aria-expanded", String(open));
  navFor(toggle)?.classList.toggle("nav--open", open);
}

function toggleNav(event) {
  const toggle = event.target.closest?.("[data-nav-toggle]");
  if (toggle) {
    setNavOpen(toggle, toggle.getAttribute("aria-expanded") !== "true");
  }
}

function closeNavOnEscape(event) {
  if (event.key !== "Escape") return;
  for (const toggle of document.querySelectorAll('[data-nav-toggle][aria-expanded="true"]')) {
    const nav = navFor(toggle);
    if (toggle.contains(document.activeElement) || nav?.contains(document.activeElement)) {
      setNavOpen(toggle, false);
      /** @type {HTMLElement} */ (toggle).focus();
    }
  }
}

// Lets CSS collapse the mobile navigation only when the toggle can open it again.
document.documentElement.classList.add("js");
document.addEventListener("submit", confirmSubmit);
document.addEventListener("change", autosubmit);
document.addEventListener("click", toggleNav);
document.addEventListener("keydown", closeNavOnEscape);
