/* The course site's own script (jupyter-book adds every JS file in _static/ to each page).
 *
 * Sidebar toggles: pydata-sphinx-theme 0.17 and sphinx-book-theme 1.3 attach
 * their open/collapse handlers to the *first* .primary-toggle (and
 * .secondary-toggle) of the page, the header-bar button that sphinx-book-theme
 * hides. The toggles readers see, in the article header, got no handler: on a
 * phone the menu could not be opened. Forward their clicks to the wired button.
 *
 * Printing: folded dropdowns are opened for the printout (see below).
 */
(function () {
  function forwardSidebarToggles() {
    ["primary-toggle", "secondary-toggle"].forEach(function (kind) {
      var buttons = Array.prototype.slice.call(document.querySelectorAll("." + kind));
      var wired = buttons[0];
      buttons.slice(1).forEach(function (button) {
        button.addEventListener("click", function (event) {
          event.preventDefault();
          button.blur(); // or its tooltip stays on screen
          wired.click();
        });
      });
    });
  }

  // Printing (or "Save as PDF"): open the folded dropdowns, such as the model
  // answers to interview questions, so the paper copy has them; fold them again after.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll("details:not([open])").forEach(function (details) {
      details.setAttribute("data-opened-for-print", "");
      details.open = true;
    });
  });
  window.addEventListener("afterprint", function () {
    document.querySelectorAll("details[data-opened-for-print]").forEach(function (details) {
      details.removeAttribute("data-opened-for-print");
      details.open = false;
    });
  });

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", forwardSidebarToggles);
  } else {
    forwardSidebarToggles();
  }
})();
