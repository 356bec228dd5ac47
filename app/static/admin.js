// The back office's links to "#" (templates/admin/): menus, filters, actions, the current tab or
// page, and the delete buttons' confirmation (data-confirm). Flask-Admin's own templates use
// javascript: URLs and onclick attributes there, which the CSP blocks; this static file does
// their work instead.
"use strict";

// Capture phase: Flask-Admin's dropdown script stops the click from bubbling to the document.
document.addEventListener(
  "click",
  (event) => {
    const link = event.target.closest('a[href="#"]');
    if (link === null) {
      return;
    }
    event.preventDefault(); // stay on the page; Bootstrap and bs4_filters.js do the rest
    if (link.dataset.action) {
      modelActions.execute(link.dataset.action); // "With selected": actions.js posts the rows
    }
  },
  true,
);

// A form with data-confirm (a row's delete button) is sent only once the admin confirms.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset.confirm;
  if (message && !window.confirm(message)) {
    event.preventDefault();
  }
});
