// Nothing typed is lost when the session ends mid-edit.
//
// When an autosave comes back 401 (the session ended: routing._not_signed_in), this tab keeps the form's
// words in sessionStorage, keyed by the person and the page's path, and autosave stops trying. Back on the page after
// signing in, the words are offered again ("Put back what I typed") when the server kept none, with the
// version they started from, so a save after someone else's meets the conflict page instead of
// overwriting it. Works on every form named by a [data-keep-input-for] offer (notifications/_kept_input.html).

const PREFIX = "portal:kept-input:";
// Set by app.js when a tab signs out; other tabs hear of it through the storage event.
const SIGNED_OUT_KEY = "portal:signed-out";
// Keyed by the person as well as the page: whoever signs in next in this tab must never be offered
// someone else's words.
const person = document.querySelector("[data-keep-input-for]")?.dataset.person || "";
const key = `${PREFIX}${person}:${window.location.pathname}`;

function read() {
  try {
    const kept = JSON.parse(window.sessionStorage.getItem(key) || "null");
    return kept && Array.isArray(kept.fields) ? kept : null;
  } catch {
    return null;
  }
}

function write(kept) {
  try {
    window.sessionStorage.setItem(key, JSON.stringify(kept));
  } catch {
    // Storage full or switched off: the server's copy is all there is.
  }
}

function forget() {
  try {
    window.sessionStorage.removeItem(key);
  } catch {
    // As above.
  }
}

// The form's words as it would post them: no CSRF token (the browser's, not the person's), no files.
function wordsOf(form) {
  const fields = [];
  for (const [name, value] of new FormData(form)) {
    if (name !== "csrf_token" && typeof value === "string") fields.push([name, value]);
  }
  return fields;
}

function versionOf(fields) {
  const found = fields.find(([name]) => name === "version");
  return found ? found[1] : "";
}

// The same words, whatever version they started from: nothing to offer back.
function sameWords(a, b) {
  const words = (fields) => JSON.stringify(fields.filter(([name]) => name !== "version"));
  return words(a) === words(b);
}

function putBack(form, fields) {
  const values = new Map();
  for (const [name, value] of fields) {
    if (!values.has(name)) values.set(name, []);
    values.get(name).push(value);
  }
  const used = new Map();
  for (const element of form.elements) {
    const name = element.name;
    if (!name || name === "csrf_token" || element.type === "file" || element.type === "submit") continue;
    if (element.tagName === "BUTTON") continue;
    const given = values.get(name) || [];
    if (element.type === "checkbox" || element.type === "radio") {
      element.checked = given.includes(element.value);
    } else if (element.tagName === "SELECT" && element.multiple) {
      for (const option of element.options) option.selected = given.includes(option.value);
    } else if (values.has(name)) {
      // Fields that share a name take their values in order.
      const index = used.get(name) || 0;
      element.value = given[index] ?? "";
      used.set(name, index + 1);
    }
  }
  // GOV.UK Frontend shows each checked answer's follow-up question again on pageshow.
  window.dispatchEvent(new PageTransitionEvent("pageshow", { persisted: false }));
}

function timeOf(when) {
  const date = new Date(when);
  if (Number.isNaN(date.getTime())) return "";
  const time = date.toLocaleTimeString("en-GB", { hour: "numeric", minute: "2-digit", hour12: true });
  return " at " + time.replace(/\s/g, "").toLowerCase();
}

function announce(form, words) {
  const region = form.querySelector("[role=status]");
  if (region) region.textContent = words;
}

function firstField(form) {
  return [...form.elements].find(
    (element) => element.type !== "hidden" && !element.disabled && element.offsetParent !== null,
  );
}

function offerBack(offer, form) {
  const kept = read();
  if (!kept) return;
  const now = wordsOf(form);
  if (sameWords(kept.fields, now)) {
    forget();
    return;
  }
  // The server kept this page's words and shows them already; this tab's copy waits its turn.
  if (offer.dataset.serverKept === "true") return;
  const time = offer.querySelector("[data-kept-time]");
  if (time) time.textContent = timeOf(kept.at);
  const changed = offer.querySelector("[data-kept-changed]");
  if (changed) changed.hidden = versionOf(kept.fields) === versionOf(now);
  offer.hidden = false;
  offer.querySelector("[data-kept-restore]").addEventListener("click", () => {
    putBack(form, kept.fields);
    offer.hidden = true;
    announce(form, "We put back what you typed. Check it, then save.");
    firstField(form)?.focus();
  });
  offer.querySelector("[data-kept-discard]").addEventListener("click", () => {
    forget();
    offer.hidden = true;
    announce(form, "We discarded what this browser tab kept. The form shows the saved answers.");
    firstField(form)?.focus();
  });
}

function keepInput(offer) {
  const form = document.getElementById(offer.dataset.keepInputFor);
  if (!form) return;
  // signedOut: the server answered 401, so autosave stops. keeping: this tab keeps every change, which it
  // starts doing as soon as it hears the session ended, from the server or from another tab.
  let signedOut = false;
  let keeping = false;
  const keep = () => write({ at: new Date().toISOString(), fields: wordsOf(form) });

  // Signed out in another tab of this browser (app.js says so through localStorage): this tab's next save,
  // autosave or button, would reach the server with no session to keep the words for. So this tab keeps
  // them from now on, and says so, before the person presses a button that would lose them.
  window.addEventListener("storage", (event) => {
    if (event.key !== SIGNED_OUT_KEY || keeping) return;
    keeping = true;
    keep();
    announce(
      form,
      "You signed out in another tab, so this is not being saved. This tab keeps what you type: sign in again to get it back and save it.",
    );
  });

  document.addEventListener("htmx:responseError", (event) => {
    if (event.detail.elt !== form || event.detail.xhr.status !== 401) return;
    signedOut = true;
    keeping = true;
    keep();
  });
  // Autosave stops trying once the session has ended: every try would only say so again.
  document.addEventListener("htmx:beforeRequest", (event) => {
    if (signedOut && event.detail.elt === form) event.preventDefault();
  });
  form.addEventListener("input", () => keeping && keep());
  form.addEventListener("change", () => keeping && keep());
  form.addEventListener("submit", () => {
    // Sent while signed in, the words reach the server; after the session ended, the server keeps them
    // only if it still knows whose they are, so this tab keeps its copy too.
    if (keeping) keep();
    else forget();
  });
  offerBack(offer, form);
}

for (const offer of document.querySelectorAll("[data-keep-input-for]")) keepInput(offer);
