// Confirmation before irreversible steps: any submit button with data-confirm asks first.
document.addEventListener("click", function (event) {
  const button = event.target.closest("[data-confirm]");
  if (button && !window.confirm(button.getAttribute("data-confirm"))) {
    event.preventDefault();
  }
});
// Move focus to the error summary so screen readers announce it.
window.addEventListener("DOMContentLoaded", function () {
  const summary = document.getElementById("form-errors");
  if (summary) { summary.focus(); }
});
