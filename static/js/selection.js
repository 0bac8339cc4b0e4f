// Selection pages; every page works without this file.
// The summary table's print button.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});

// The desk table: "check all on this page", the count of checked rows, the reason a return needs,
// and the hint that the whole filtered set (all pages) can be exported. The checkboxes sit in the
// table's rows and belong to #bulk-form through their form="bulk-form" attribute (form.elements).
(function () {
  function boxes(form) {
    return Array.prototype.filter.call(form.elements, function (el) { return el.name === "ids"; });
  }
  function update(form) {
    var all = boxes(form);
    var checked = all.filter(function (box) { return box.checked; }).length;
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = checked;
    var head = document.querySelector("[data-check-all]");
    if (head) {
      head.checked = all.length > 0 && checked === all.length;
      head.indeterminate = checked > 0 && checked < all.length;
    }
    var hint = form.querySelector(".select-all-hint");
    if (hint) hint.hidden = !(head && head.checked && Number(form.getAttribute("data-total")) > all.length);
  }
  function reasonRule(form) {
    var action = form.querySelector("select[name=action]");
    var reason = form.querySelector("input[name=reason]");
    if (action && reason) reason.required = action.value === "return";
  }
  document.addEventListener("change", function (event) {
    var form = event.target.form;
    if (!form || form.id !== "bulk-form") return;
    if (event.target.matches("[data-check-all]")) {
      boxes(form).forEach(function (box) { box.checked = event.target.checked; });
    }
    if (event.target.matches("select[name=action]")) reasonRule(form);
    update(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("bulk-form");
    if (form) { reasonRule(form); update(form); }
  });
})();
