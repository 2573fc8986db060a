// The timeout warning (WCAG 2.2.1), after GOV.UK's timeout-warning pattern: before the idle sign-out a
// modal dialog says how long is left and offers to stay signed in. The server decides when a session
// ends; every signed-in page (data-session-seconds-left on <body>) and every htmx answer (a header)
// says how long is left, and this script only counts down from the latest word. Without JavaScript
// the dialog never opens, and pages where people type say the limit in words instead.

const dialog = document.getElementById("session-timeout");
const numbers = document.body.dataset;

// The words change at these steps only, so a screen reader hears a few updates, not one a second.
const LAST_STEP_SECONDS = 20;
// However long the next change is, look again this often: timers stop while a computer sleeps.
const LONGEST_WAIT_MS = 30_000;

if (dialog && typeof dialog.showModal === "function" && numbers.sessionSecondsLeft) {
  startCounting(dialog, Number(numbers.sessionSecondsLeft), Number(numbers.sessionWarningSeconds));
}

function inWords(msLeft) {
  const seconds = Math.ceil(msLeft / 1000);
  if (seconds <= LAST_STEP_SECONDS) return `less than ${LAST_STEP_SECONDS} seconds`;
  const minutes = Math.ceil(seconds / 60);
  return minutes === 1 ? "1 minute" : `${minutes} minutes`;
}

// How long until inWords would say something else: the next whole minute, then the last step, then the end.
function untilTheWordsChange(msLeft) {
  if (msLeft > 60_000) return msLeft - (Math.ceil(msLeft / 60_000) - 1) * 60_000;
  if (msLeft > LAST_STEP_SECONDS * 1000) return msLeft - LAST_STEP_SECONDS * 1000;
  return msLeft;
}

function startCounting(dialog, secondsLeft, warningSeconds) {
  const count = dialog.querySelector("[data-timeout-count]");
  const stayButton = dialog.querySelector("[data-timeout-stay]");
  const problem = dialog.querySelector("[data-timeout-problem]");
  const announcer = dialog.querySelector("[data-timeout-announce]");
  const signedOutHeading = dialog.querySelector("#session-timeout-signed-out-heading");
  const csrfToken = dialog.querySelector("input[name=csrf_token]").value;
  const warningMs = warningSeconds * 1000;
  // Other tabs of the same person share one session: when one is busy, the others need not warn.
  const otherTabs = "BroadcastChannel" in window ? new BroadcastChannel("portal-session") : null;

  let deadline = Date.now() + secondsLeft * 1000;
  let state = "counting"; // then "warning" while the dialog is open, or "signed-out" for good
  let timer = null;
  let focusBefore = null;
  let asking = false;

  function showPart(name) {
    for (const part of dialog.querySelectorAll("[data-timeout-part]")) part.hidden = part.dataset.timeoutPart !== name;
  }

  function announce(text) {
    announcer.textContent = text;
  }

  function check() {
    clearTimeout(timer);
    if (state === "signed-out") return;
    const msLeft = deadline - Date.now();
    if (msLeft <= 0) {
      signedOut("idle");
      return;
    }
    if (msLeft > warningMs) {
      if (state === "warning") closeWarning();
      wait(msLeft - warningMs);
      return;
    }
    const words = inWords(msLeft);
    if (state !== "warning") {
      openWarning(words);
    } else if (count.textContent !== words) {
      count.textContent = words;
      announce(`We will sign you out in ${words}.`);
    }
    wait(untilTheWordsChange(msLeft));
  }

  function wait(ms) {
    timer = setTimeout(check, Math.min(ms, LONGEST_WAIT_MS));
  }

  function openWarning(words) {
    state = "warning";
    count.textContent = words;
    problem.hidden = true;
    showPart("warning");
    focusBefore = document.activeElement;
    dialog.showModal();
    stayButton.focus();
  }

  function closeWarning() {
    state = "counting";
    announce("");
    dialog.close();
    // The browser usually does this on close; not every one does.
    if (focusBefore && focusBefore.isConnected && focusBefore !== document.body) focusBefore.focus();
    focusBefore = null;
  }

  function signedOut(reason) {
    clearTimeout(timer);
    state = "signed-out";
    showPart("signed-out");
    let message = "";
    for (const text of dialog.querySelectorAll("[data-timeout-reason]")) {
      text.hidden = text.dataset.timeoutReason !== reason;
      if (!text.hidden) {
        message = text.textContent;
        dialog.setAttribute("aria-describedby", text.id);
      }
    }
    dialog.setAttribute("aria-labelledby", signedOutHeading.id);
    if (!dialog.open) {
      focusBefore = document.activeElement;
      dialog.showModal();
    }
    signedOutHeading.focus();
    announce(`You have been signed out. ${message}`);
  }

  // The server's word on how long is left: it replaces the count, and tells the other tabs.
  function follow(seconds) {
    if (!Number.isFinite(seconds)) return;
    deadline = Date.now() + seconds * 1000;
    if (otherTabs) otherTabs.postMessage({ deadline });
    check();
  }

  async function staySignedIn() {
    if (asking) return;
    asking = true;
    problem.hidden = true;
    let seconds = Number.NaN;
    let ended = false;
    try {
      // A session that has ended answers with a redirect to the signed-out page: not followed, it means "ended".
      const response = await fetch(dialog.dataset.keepAliveUrl, {
        method: "POST",
        headers: { "X-CSRF-Token": csrfToken },
        credentials: "same-origin",
        redirect: "manual",
      });
      ended = response.type === "opaqueredirect";
      if (response.ok) seconds = Number((await response.json()).seconds_left);
    } catch {
      // No answer at all: said below, and the person can try again.
    } finally {
      asking = false;
    }
    if (ended) {
      signedOut("ended");
    } else if (Number.isFinite(seconds)) {
      follow(seconds);
    } else {
      problem.hidden = false;
      announce(problem.textContent);
    }
  }

  stayButton.addEventListener("click", staySignedIn);

  // Escape means "stay signed in", as in GOV.UK's pattern. Once signed out, Escape closes the dialog, so
  // the person can still copy what they typed.
  dialog.addEventListener("cancel", (event) => {
    if (state === "warning") {
      event.preventDefault();
      staySignedIn();
    }
  });

  // A modal dialog keeps the page out of reach, but Tab would still leave for the browser's own controls.
  dialog.addEventListener("keydown", (event) => {
    if (event.key !== "Tab") return;
    const stops = [...dialog.querySelectorAll("a[href], button, input:not([type=hidden])")].filter(
      (element) => !element.disabled && element.getClientRects().length > 0,
    );
    if (stops.length === 0) return;
    event.preventDefault();
    const at = stops.indexOf(document.activeElement);
    const next = event.shiftKey ? (at <= 0 ? stops.length - 1 : at - 1) : (at + 1) % stops.length;
    stops[next].focus();
  });

  // htmx answers carry the server's count; read before the swap, while the element is still in the page.
  document.addEventListener("htmx:beforeOnLoad", (event) => {
    const header = event.detail.xhr && event.detail.xhr.getResponseHeader("X-Session-Seconds-Left");
    if (header !== null && header !== "" && state !== "signed-out") follow(Number(header));
  });

  if (otherTabs) {
    otherTabs.addEventListener("message", (event) => {
      const later = event.data && Number(event.data.deadline);
      if (later > deadline && state !== "signed-out") {
        deadline = later;
        check();
      }
    });
    // A new page is activity the other tabs have not heard of.
    otherTabs.postMessage({ deadline });
  }

  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") check();
  });

  check();
}
