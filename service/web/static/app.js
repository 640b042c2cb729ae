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
