// Small helpers of the console (served from this site; the CSP forbids inline scripts).
function quoted(name) {
  return '"' + name.replace(/"/g, '""') + '"';
}
const KEYWORDS = new Set(["SELECT", "FROM", "JOIN", "WHERE", "BY", "ON", "AND", "OR", "AS",
  "DISTINCT", "NOT", "HAVING", "USING", "IN", "WHEN", "THEN", "ELSE", "CASE", "WITH", "OVER",
  "PARTITION", "IS", "LIKE", "BETWEEN", "SET", "ALL", "ANY", "UNION", "EXCEPT", "INTERSECT"]);
function separator(before, kind) {
  // What goes between the SQL before the caret and a name inserted there.
  const trimmed = before.replace(/[ \t]+$/, "");
  const spaced = trimmed.length < before.length || before === "" || /\s$/.test(before);
  const word = trimmed.match(/[A-Za-z_]+$/);
  if (word && KEYWORDS.has(word[0].toUpperCase())) return spaced ? "" : " ";
  if (/[\w"\u0080-\uffff)*]$/.test(trimmed)) return kind === "column" ? ", " : " ";
  if (/[(.]$/.test(before) || spaced) return "";
  return " ";
}
document.addEventListener("click", (event) => {
  // Clicking a table or column name in the workspace inserts it into the SQL editor at the
  // caret: quoted (Chinese names and keywords need it), and after a name already there a
  // column is separated by a comma, a table by a space.
  const target = event.target.closest("[data-insert]");
  if (!target) return;
  const editor = document.getElementById("sql");
  if (!editor) return;
  event.preventDefault();
  const start = editor.selectionStart, end = editor.selectionEnd;
  const text = separator(editor.value.slice(0, start), target.dataset.kind) +
    quoted(target.dataset.insert);
  editor.value = editor.value.slice(0, start) + text + editor.value.slice(end);
  editor.selectionStart = editor.selectionEnd = start + text.length;
  editor.dispatchEvent(new Event("input", { bubbles: true }));
  editor.focus();
});
// The SQL draft survives leaving the page: kept in this browser's storage per workspace (the
// SQL only, never a result), restored when the page opens without SQL of its own.
document.querySelectorAll("textarea[data-draft]").forEach((editor) => {
  const key = editor.dataset.draft;
  try {
    const saved = window.localStorage.getItem(key);
    if (saved && !editor.dataset.given && !editor.value.trim()) editor.value = saved;
  } catch (e) { /* storage refused (private mode): the draft is not kept */ }
  editor.addEventListener("input", () => {
    try { window.localStorage.setItem(key, editor.value); } catch (e) { /* not kept */ }
  });
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
// Captured at the document, before htmx's own listener on the form: a refused submission never
// reaches it, so nothing is sent.
document.addEventListener("submit", (event) => {
  const form = event.target, button = event.submitter;
  // A button that needs a field (a rejection needs its reason) says so in place, before any
  // round trip; the server checks again.
  const needs = button?.dataset.needs && form.elements[button.dataset.needs];
  if (needs && !needs.value.trim()) {
    event.preventDefault();
    event.stopPropagation();
    needs.setCustomValidity(button.dataset.needsMessage || "");
    needs.reportValidity();
    needs.addEventListener("input", () => needs.setCustomValidity(""), { once: true });
    return;
  }
  if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) {
    event.preventDefault();
    event.stopPropagation();
    return;
  }
  // One click, one submission: later clicks while the first is on its way do nothing. The
  // buttons are disabled after the form's data is taken (a disabled submitter sends no value).
  if (form.dataset.sending) {
    event.preventDefault();
    event.stopPropagation();
    return;
  }
  form.dataset.sending = "1";
  setTimeout(() => {
    form.querySelectorAll("button, input[type=submit]").forEach((b) => {
      if (!b.disabled) { b.disabled = true; b.dataset.reenable = "1"; }
    });
  });
}, true);
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
