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
// A character counter beside every field with a length limit (data-maxlength). Nothing is cut:
// text over the limit is marked, and the server refuses it with a message at the field.
window.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-maxlength]").forEach(function (field) {
    const limit = parseInt(field.getAttribute("data-maxlength"), 10);
    if (!limit) { return; }
    const counter = document.createElement("div");
    counter.className = "form-text text-end char-counter";
    counter.id = (field.id || "field") + "-counter";
    counter.setAttribute("aria-live", "polite");
    field.insertAdjacentElement("afterend", counter);
    const described = field.getAttribute("aria-describedby");
    field.setAttribute("aria-describedby", (described ? described + " " : "") + counter.id);
    const template = document.body.getAttribute("data-counter-text") || "%(n)s / %(max)s";
    function update() {
      const length = field.value.length;
      counter.textContent = template.replace("%(n)s", length).replace("%(max)s", limit);
      const over = length > limit;
      counter.classList.toggle("text-danger", over);
      counter.classList.toggle("fw-bold", over);
      // Announce only when it matters (near or over the limit).
      counter.setAttribute("aria-live", length > limit * 0.9 ? "polite" : "off");
      counter.hidden = length < limit * 0.5 && field.tagName !== "TEXTAREA";
    }
    field.addEventListener("input", update);
    update();
  });
});
// Files over the size limit are named next to the field before anything is sent.
window.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("input[type=file][data-max-bytes]").forEach(function (input) {
    const limit = parseInt(input.getAttribute("data-max-bytes"), 10);
    const note = document.createElement("div");
    note.className = "invalid-feedback d-block";
    note.id = input.id + "-size";
    note.setAttribute("role", "alert");
    input.insertAdjacentElement("afterend", note);
    const template = document.body.getAttribute("data-file-too-large") || "%(name)s is larger than %(mb)s MB.";
    input.addEventListener("change", function () {
      const big = Array.from(input.files || []).filter(function (file) { return file.size > limit; });
      const message = big.map(function (file) {
        return template.replace("%(name)s", "“" + file.name + "”").replace("%(mb)s", Math.floor(limit / 1048576));
      }).join(" ");
      note.textContent = message;
      input.setCustomValidity(message);
      input.classList.toggle("is-invalid", big.length > 0);
    });
  });
});
document.addEventListener("submit", function (event) {
  const tooLarge = Array.from(event.target.querySelectorAll("input[type=file][data-max-bytes]"))
    .find(function (input) { return input.validationMessage; });
  if (tooLarge) {
    event.preventDefault();
    tooLarge.focus();
  }
});
// Questions shown only for some answers of another question (data-show-if names its field).
window.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("[data-show-if]").forEach(function (block) {
    const name = block.getAttribute("data-show-if");
    const wanted = (block.getAttribute("data-show-values") || "").split("|");
    const inputs = Array.from(document.querySelectorAll('[name="' + name + '"]'));
    if (!inputs.length) { return; }
    function chosen() {
      return inputs.flatMap(function (input) {
        if (input.type === "checkbox" || input.type === "radio") { return input.checked ? [input.value] : []; }
        if (input.multiple) { return Array.from(input.selectedOptions).map(function (o) { return o.value; }); }
        return [input.value];
      });
    }
    function update() {
      block.hidden = !chosen().some(function (value) { return wanted.indexOf(value) >= 0; });
    }
    inputs.forEach(function (input) { input.addEventListener("change", update); });
    update();
  });
});
// A box that scrolls sideways (a wide table on a phone, the workflow diagram) can be reached and
// scrolled with the keyboard: it becomes focusable, named by its first heading or caption.
function markScrollableRegions() {
  const used = {};
  document.querySelectorAll(".table-responsive, figure.scrollable").forEach(function (box) {
    const scrolls = box.scrollWidth > box.clientWidth + 1 || box.scrollHeight > box.clientHeight + 1;
    if (scrolls && !box.hasAttribute("tabindex")) {
      box.setAttribute("tabindex", "0");
      box.setAttribute("data-scroll-marked", "");
      if (!box.hasAttribute("role")) { box.setAttribute("role", "region"); }
      if (!box.hasAttribute("aria-label") && !box.hasAttribute("aria-labelledby")) {
        // Named by its caption, else by the heading of its section, else generically; a
        // name already given to another box gets a number, as landmarks must differ.
        const caption = box.querySelector("caption, figcaption");
        const section = box.closest("section");
        const heading = section && section.querySelector("h1, h2, h3, h4");
        const generic = document.body.getAttribute("data-scroll-label") || "Scrollable content";
        let label = caption ? caption.textContent.trim()
          : heading ? generic + ": " + heading.textContent.trim().replace(/\s+/g, " ")
          : generic;
        used[label] = (used[label] || 0) + 1;
        if (used[label] > 1) { label = label + " (" + used[label] + ")"; }
        box.setAttribute("aria-label", label);
      }
    } else if (!scrolls && box.hasAttribute("data-scroll-marked")) {
      box.removeAttribute("tabindex");
      box.removeAttribute("data-scroll-marked");
    }
  });
}
window.addEventListener("DOMContentLoaded", markScrollableRegions);
window.addEventListener("resize", markScrollableRegions);
// Long country lists become searchable pickers (Tom Select, served from the app): type to
// filter, arrows and Enter to choose, Backspace to remove; the chosen countries stay listed in
// the field.
window.addEventListener("DOMContentLoaded", function () {
  if (typeof TomSelect === "undefined") { return; }
  document.querySelectorAll("select[data-picker]").forEach(function (select) {
    const multiple = select.multiple;
    const picker = new TomSelect(select, {
      plugins: multiple ? ["remove_button"] : [],
      maxOptions: null,
      allowEmptyOption: true,
      hidePlaceholder: multiple,
      placeholder: select.getAttribute("data-placeholder") || "",
    });
    // Tom Select names its input after the field's label; the field's help text and errors
    // describe it too.
    const input = picker.control_input;
    const described = select.getAttribute("aria-describedby");
    if (described && input) { input.setAttribute("aria-describedby", described); }
    // Tom Select's input now carries the field's label; the original list stays in the page
    // for the form's sake only, out of sight and out of the screen reader's way.
    select.setAttribute("aria-hidden", "true");
  });
});
