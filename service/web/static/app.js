// Small helpers of the console (served from this site; the CSP forbids inline scripts).
document.addEventListener("click", (event) => {
  // Clicking a column name in the workspace inserts it into the SQL editor at the caret.
  const target = event.target.closest("[data-insert]");
  if (!target) return;
  const editor = document.getElementById("sql");
  if (!editor) return;
  event.preventDefault();
  const text = target.dataset.insert;
  const start = editor.selectionStart, end = editor.selectionEnd;
  editor.value = editor.value.slice(0, start) + text + editor.value.slice(end);
  editor.selectionStart = editor.selectionEnd = start + text.length;
  editor.focus();
});
document.addEventListener("keydown", (event) => {
  // Tab indents in the SQL editor; Ctrl/Cmd+Enter runs it on simulated data.
  if (event.target.id !== "sql") return;
  if (event.key === "Tab" && !event.shiftKey) {
    event.preventDefault();
    const editor = event.target, start = editor.selectionStart;
    editor.value = editor.value.slice(0, start) + "    " + editor.value.slice(editor.selectionEnd);
    editor.selectionStart = editor.selectionEnd = start + 4;
  } else if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
    event.preventDefault();
    document.getElementById("run-simulated")?.click();
  }
});
document.addEventListener("htmx:xhr:progress", (event) => {
  // Upload progress of the dataset registration form.
  const bar = document.getElementById("upload-progress");
  if (bar && event.detail.lengthComputable) {
    bar.hidden = false;
    bar.value = Math.round((event.detail.loaded / event.detail.total) * 100);
  }
});
document.addEventListener("submit", (event) => {
  const form = event.target, button = event.submitter;
  // A button that needs a field (a rejection needs its reason) says so in place, before any
  // round trip; the server checks again.
  const needs = button?.dataset.needs && form.elements[button.dataset.needs];
  if (needs && !needs.value.trim()) {
    event.preventDefault();
    needs.setCustomValidity(button.dataset.needsMessage || "");
    needs.reportValidity();
    needs.addEventListener("input", () => needs.setCustomValidity(""), { once: true });
    return;
  }
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    return;
  }
  // One click, one submission: later clicks while the first is on its way do nothing. The
  // buttons are disabled after the form's data is taken (a disabled submitter sends no value).
  if (form.dataset.sending) {
    event.preventDefault();
    return;
  }
  form.dataset.sending = "1";
  setTimeout(() => {
    form.querySelectorAll("button, input[type=submit]").forEach((b) => {
      if (!b.disabled) { b.disabled = true; b.dataset.reenable = "1"; }
    });
  });
});
function reenable(root) {
  root.querySelectorAll("form[data-sending]").forEach((form) => {
    delete form.dataset.sending;
    form.querySelectorAll("[data-reenable]").forEach((b) => {
      b.disabled = false;
      delete b.dataset.reenable;
    });
  });
}
// htmx forms stay on the page: their buttons come back when the answer has arrived; a page
// restored by the back button gets its buttons back too.
document.addEventListener("htmx:afterRequest", () => reenable(document));
window.addEventListener("pageshow", () => reenable(document));
