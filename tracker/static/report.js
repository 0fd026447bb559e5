// The print button (no inline script: the content security policy forbids it).
document.addEventListener("DOMContentLoaded", function () {
  const button = document.getElementById("print-report");
  if (button) { button.addEventListener("click", function () { window.print(); }); }
});
