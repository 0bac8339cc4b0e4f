// Small progressive enhancements; every page works without them.
document.addEventListener("click", function (event) {
  var button = event.target.closest("[data-toggle]");
  if (!button) return;
  var target = document.getElementById(button.getAttribute("data-toggle"));
  if (!target) return;
  var open = target.classList.toggle("open");
  button.setAttribute("aria-expanded", open ? "true" : "false");
});
// Deadline countdowns: <span data-deadline="2024-09-20T23:59:59+08:00">
function jpkCountdown() {
  document.querySelectorAll("[data-deadline]").forEach(function (el) {
    var end = new Date(el.getAttribute("data-deadline"));
    var ms = end - new Date();
    if (isNaN(ms)) return;
    if (ms <= 0) { el.textContent = "已截止"; el.classList.add("overdue"); return; }
    var d = Math.floor(ms / 86400000), h = Math.floor(ms % 86400000 / 3600000), m = Math.floor(ms % 3600000 / 60000);
    el.textContent = "剩余 " + (d ? d + " 天 " : "") + h + " 小时 " + m + " 分";
  });
}
document.addEventListener("DOMContentLoaded", function () { jpkCountdown(); setInterval(jpkCountdown, 30000); });
// Forms that ask before they act: <form data-confirm="确定要…吗？">
document.addEventListener("submit", function (event) {
  var form = event.target.closest("form[data-confirm]");
  if (form && !window.confirm(form.getAttribute("data-confirm"))) event.preventDefault();
});
