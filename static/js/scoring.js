// The scoring page: save the form by itself a few seconds after a change (and every 10 s while
// there are unsaved changes), show the result beside the total. Without JavaScript the page's
// buttons save and submit as an ordinary form.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.getElementById("score-form");
  if (!form || form.dataset.readonly) return;
  var url = form.dataset.autosave;
  var status = document.getElementById("save-status");
  var total = document.getElementById("sheet-total");
  var dirty = false, saving = false, timer = null;

  function show(text, bad) {
    if (!status) return;
    status.textContent = text;
    status.classList.toggle("bad", !!bad);
  }

  function markInputs(errors) {
    form.querySelectorAll("input[name^='points-']").forEach(function (input) {
      var max = parseFloat(input.dataset.max);
      var text = input.value.trim();
      var value = Number(text);
      var bad = text !== "" && (!/^\d+(\.\d)?$/.test(text) || value < 0 || value > max);
      input.classList.toggle("bad", bad);
      input.setAttribute("aria-invalid", bad ? "true" : "false");
    });
  }

  function save() {
    if (saving || !dirty) return Promise.resolve();
    saving = true;
    dirty = false;
    show("正在保存…");
    return fetch(url, {
      method: "POST", body: new FormData(form), credentials: "same-origin",
      headers: {"X-Requested-With": "fetch", "Accept": "application/json"},
    }).then(function (response) {
      return response.json().then(function (data) {
        if (response.ok) {
          show(data.detail);
          if (total) total.textContent = data.total === null ? "—" : data.total;
        } else {
          show("未保存：" + data.detail, true);
        }
      });
    }).catch(function () {
      dirty = true;
      show("网络中断，未保存；恢复后会自动重试。", true);
    }).finally(function () {
      saving = false;
    });
  }

  function changed() {
    dirty = true;
    markInputs();
    clearTimeout(timer);
    timer = setTimeout(save, 1500);
  }

  form.addEventListener("input", changed);
  form.addEventListener("change", changed);
  setInterval(save, 10000);
  window.addEventListener("beforeunload", function (event) {
    if (dirty) { event.preventDefault(); event.returnValue = ""; }
  });
  form.addEventListener("submit", function () { dirty = false; clearTimeout(timer); });
});
