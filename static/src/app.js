// Starts GOV.UK Frontend's components. Loaded as an external module so the
// Content-Security-Policy needs no 'unsafe-inline'.
import { initAll } from "./govuk-frontend.min.js";

initAll();

// A section's form autosaves through htmx while people type, and its own buttons (save, upload a
// file, remove one) send the same answers with the version the page last had. An autosave that
// lands while such a request is on its way moves the version on, and the request, though it carries
// the same words, would come back as someone else's change. So a form being sent stops autosaving,
// and a send waits for an autosave already on its way, whose reply brings the new version.
function sendAfterAutosave(form) {
  let autosaving = false;
  let sending = false;
  let waiting = null;
  form.addEventListener("htmx:beforeRequest", (event) => {
    if (sending) {
      event.preventDefault();
    } else {
      autosaving = true;
    }
  });
  form.addEventListener("htmx:afterRequest", () => {
    autosaving = false;
    if (waiting) {
      const submitter = waiting.submitter;
      waiting = null;
      form.requestSubmit(submitter);
    }
  });
  form.addEventListener("submit", (event) => {
    if (event.defaultPrevented) return;
    if (autosaving) {
      event.preventDefault();
      waiting = { submitter: event.submitter };
      return;
    }
    sending = true;
  });
  // Back to this page from the browser's cache: nothing is on its way any more.
  window.addEventListener("pageshow", () => {
    sending = false;
  });
}

const sectionForm = document.getElementById("section-form");
if (sectionForm) sendAfterAutosave(sectionForm);

// Signing out in one tab tells this browser's other tabs (autosave.js listens), so a form open there keeps
// what is typed in it instead of losing it to a save that finds no session.
for (const signOut of document.querySelectorAll("form[data-sign-out]")) {
  signOut.addEventListener("submit", () => {
    try {
      window.localStorage.setItem("portal:signed-out", String(Date.now()));
    } catch {
      // Storage switched off: the other tabs learn of it from their next save, as before.
    }
  });
}
