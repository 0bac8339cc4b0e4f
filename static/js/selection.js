// Selection pages; every page works without this file.
// The summary table's print button.
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});

// The desk table: "check all on this page", the count of checked rows, the reason a return needs,
// and the hint that the whole filtered set (all pages) can be exported.
(function () {
  function update(form) {
    var boxes = form.querySelectorAll("input[name=ids]");
    var checked = form.querySelectorAll("input[name=ids]:checked").length;
    var count = form.querySelector("[data-selected-count]");
    if (count) count.textContent = checked;
    var all = form.querySelector("[data-check-all]");
    if (all) {
      all.checked = boxes.length > 0 && checked === boxes.length;
      all.indeterminate = checked > 0 && checked < boxes.length;
    }
    var hint = form.querySelector(".select-all-hint");
    if (hint) hint.hidden = !(all && all.checked && Number(form.getAttribute("data-total")) > boxes.length);
  }
  function reasonRule(form) {
    var action = form.querySelector("select[name=action]");
    var reason = form.querySelector("input[name=reason]");
    if (action && reason) reason.required = action.value === "return";
  }
  document.addEventListener("change", function (event) {
    var form = event.target.closest("#bulk-form");
    if (!form) return;
    if (event.target.matches("[data-check-all]")) {
      form.querySelectorAll("input[name=ids]").forEach(function (box) { box.checked = event.target.checked; });
    }
    if (event.target.matches("select[name=action]")) reasonRule(form);
    update(form);
  });
  document.addEventListener("DOMContentLoaded", function () {
    var form = document.getElementById("bulk-form");
    if (form) { reasonRule(form); update(form); }
  });
})();
