// The course page: a finished upload (static/js/upload.js, event "jpk:uploaded") is put into its
// slot by POSTing the file id to the slot card's data-attach-url; the card comes back with the
// check report and replaces itself (htmx), and the submit box refreshes (HX-Trigger).
(function () {
  "use strict";
  document.addEventListener("jpk:uploaded", function (event) {
    var card = event.target.closest("[data-attach-url]");
    if (!card || !event.detail || !event.detail.fileId || !window.htmx) return;
    var status = card.querySelector(".jpk-upload-status");
    if (status) status.textContent = "上传完成，正在放入并检测……";
    window.htmx.ajax("POST", card.getAttribute("data-attach-url"), {
      source: card, target: card, swap: "outerHTML", values: {file_id: event.detail.fileId}
    });
  });
  // A card polls while its check runs ([data-slot-poll]), but never while a replacement is being
  // uploaded into it (swapping the card would break the upload off). A listener, not an htmx
  // trigger filter: filters are eval'd, which the Content-Security-Policy forbids.
  function slotIdle(el) {
    var card = el.closest("article");
    var widget = card && card.querySelector("[data-upload]");
    var state = widget ? widget.getAttribute("data-state") : "";
    return !state || state === "done";
  }
  document.addEventListener("htmx:beforeRequest", function (event) {
    var el = event.detail && event.detail.elt;
    if (el && el.hasAttribute && el.hasAttribute("data-slot-poll") && !slotIdle(el)) event.preventDefault();
  });
})();
