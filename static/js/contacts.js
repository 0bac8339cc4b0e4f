// The contact form: "+ 再添加一位联系人" copies the blank row (without JavaScript the page always
// ends with one blank row, so a person can still be added one save at a time).
document.addEventListener("DOMContentLoaded", function () {
  var button = document.getElementById("add-person");
  var template = document.getElementById("person-template");
  var people = document.getElementById("people");
  if (!button || !template || !people) return;
  button.hidden = false;
  // The blank row that lets a person be added without JavaScript: not needed once there is a person.
  var blanks = people.querySelectorAll("[data-blank]");
  if (blanks.length && blanks.length < people.querySelectorAll("[data-row]").length) {
    blanks.forEach(function (row) {
      if (!row.querySelector(".errorlist")) row.remove();
    });
  }
  button.addEventListener("click", function () {
    var rows = people.querySelectorAll("[data-row]");
    var next = 0;
    rows.forEach(function (row) {
      var input = row.querySelector("input[name$='-name']");
      var match = input && input.name.match(/^p-(\d+)-name$/);
      if (match) next = Math.max(next, parseInt(match[1], 10) + 1);
    });
    var html = template.innerHTML.replace(/__i__/g, String(next)).replace(/__n__/g, String(rows.length + 1));
    people.insertAdjacentHTML("beforeend", html);
    var added = people.lastElementChild.querySelector("input[type=text]");
    if (added) added.focus();
  });
});
