// Selection pages: the print button of the summary table (the page prints fine without it).
document.addEventListener("click", function (event) {
  if (event.target.closest("[data-print]")) window.print();
});
