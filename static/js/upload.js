// Resumable uploads (tus) with a progress bar, pause/resume, automatic retry and resume after a
// page reload or a lost connection. Needs static/vendor/tus-js-client/tus.min.js (loaded first,
// or fetched from beside this file).
//
//   <div data-upload data-endpoint="/api/v1/uploads/" data-slot="p1-video"
//        data-accept=".mp4,video/mp4" data-max-mb="1024" data-label="选择视频"></div>
//
// Attributes: data-endpoint (default /api/v1/uploads/), data-slot (any text: sent as metadata and
// part of the resume fingerprint, so two slots never mix), data-accept (file chooser hint only; the
// server checks the content), data-max-mb (refuse bigger files before sending), data-chunk-mb
// (PATCH size, default 32), data-label (button text), data-csrf (else the csrftoken cookie).
// On success the element dispatches a bubbling CustomEvent "jpk:uploaded" with
// detail = {fileId, name, size, type, slot, uploadUrl}; on a final failure "jpk:upload-error" with
// detail = {message, slot}. Widgets added later (htmx) are set up on htmx:load, or call
// JpkUpload.init(rootElement).
(function () {
  "use strict";
  var RETRY = [0, 1000, 3000, 5000, 10000, 20000, 30000, 60000, 60000, 60000];
  var scriptSrc = document.currentScript && document.currentScript.src;

  function loadTus(callback) {
    if (window.tus) return callback();
    var existing = document.querySelector("script[data-jpk-tus]");
    if (!existing) {
      existing = document.createElement("script");
      existing.setAttribute("data-jpk-tus", "");
      existing.src = (scriptSrc || "/static/js/upload.js").replace(/js\/upload(\.[0-9a-f]+)?\.js.*$/, "vendor/tus-js-client/tus.min.js");
      document.head.appendChild(existing);
    }
    existing.addEventListener("load", callback);
  }

  function csrfToken(el) {
    if (el.getAttribute("data-csrf")) return el.getAttribute("data-csrf");
    var m = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    if (m) return decodeURIComponent(m[1]);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    if (input) return input.value;
    try { return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRFToken"] || ""; } catch (e) { return ""; }
  }

  function mb(bytes) {
    return bytes >= 1024 * 1024 * 1024 ? (bytes / 1073741824).toFixed(2) + " GB" : (bytes / 1048576).toFixed(1) + " MB";
  }

  function duration(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "";
    if (seconds < 60) return "约 " + Math.max(1, Math.round(seconds)) + " 秒";
    if (seconds < 3600) return "约 " + Math.round(seconds / 60) + " 分钟";
    return "约 " + (seconds / 3600).toFixed(1) + " 小时";
  }

  // The site's CSS gives buttons a display, which beats the hidden attribute: set it inline.
  function visible(node, shown) {
    node.style.display = shown ? "" : "none";
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text) node.textContent = text;
    return node;
  }

  function serverMessage(error) {
    var res = error && error.originalResponse;
    var body = res && res.getBody && res.getBody();
    if (body && /[\u4e00-\u9fff]/.test(body)) return body.trim();
    if (res && res.getStatus && res.getStatus() === 401) return "登录已过期，请重新登录后再继续上传（已上传的部分会保留）。";
    if (!navigator.onLine) return "网络已断开。网络恢复后会自动继续，已上传的部分不会丢失。";
    return "上传中断：网络或服务器暂时不可用。请点“继续”重试，已上传的部分不会丢失。";
  }

  function mount(root) {
    if (root.jpkUpload) return root.jpkUpload;
    var endpoint = root.getAttribute("data-endpoint") || "/api/v1/uploads/";
    var slot = root.getAttribute("data-slot") || "";
    var maxMb = parseFloat(root.getAttribute("data-max-mb") || "0");
    var chunk = (parseFloat(root.getAttribute("data-chunk-mb") || "32") || 32) * 1024 * 1024;

    var input = root.querySelector("input[type=file]");
    var pick = el("label", {"class": "button secondary jpk-upload-pick"}, root.getAttribute("data-label") || "选择文件");
    if (!input) input = el("input", {type: "file"});
    input.style.display = "none";
    if (root.getAttribute("data-accept")) input.setAttribute("accept", root.getAttribute("data-accept"));
    pick.appendChild(input);
    var progress = el("progress", {max: "100", value: "0", "aria-label": "上传进度"});
    progress.style.width = "100%";
    visible(progress, false);
    var status = el("p", {"class": "jpk-upload-status", "aria-live": "polite"});
    var actions = el("div", {"class": "actions"});
    var pauseBtn = el("button", {type: "button", "class": "secondary", "data-act": "pause"}, "暂停");
    var resumeBtn = el("button", {type: "button", "data-act": "resume"}, "继续");
    var cancelBtn = el("button", {type: "button", "class": "secondary", "data-act": "cancel"}, "取消");
    [pauseBtn, resumeBtn, cancelBtn].forEach(function (b) { visible(b, false); actions.appendChild(b); });
    var row = el("div", {"class": "actions"});
    row.appendChild(pick);
    root.appendChild(row);
    root.appendChild(progress);
    root.appendChild(status);
    root.appendChild(actions);

    var state = {upload: null, file: null, started: 0, startBytes: 0, running: false};

    function show(buttons) {
      visible(pauseBtn, buttons.indexOf("pause") >= 0);
      visible(resumeBtn, buttons.indexOf("resume") >= 0);
      visible(cancelBtn, buttons.indexOf("cancel") >= 0);
    }
    function say(text, kind) {
      status.textContent = text;
      status.className = "jpk-upload-status" + (kind ? " " + kind : "");
      root.setAttribute("data-state", kind || "");
    }

    function fingerprint(file) {
      return Promise.resolve(["jpk", endpoint, slot, file.name, file.type, file.size, file.lastModified].join("|"));
    }

    function finished(fileId) {
      state.running = false;
      progress.value = 100;
      show([]);
      visible(pick, true);
      pick.firstChild.textContent = "重新选择";
      say("上传完成：" + state.file.name + "（" + mb(state.file.size) + "）", "done");
      root.setAttribute("data-file-id", fileId);
      root.dispatchEvent(new CustomEvent("jpk:uploaded", {bubbles: true, detail: {
        fileId: fileId, name: state.file.name, size: state.file.size, type: state.file.type,
        slot: slot, uploadUrl: state.upload.url}}));
    }

    function fileIdFrom(payload) {
      var res = payload && payload.lastResponse;
      var id = res && res.getHeader && res.getHeader("X-Jpk-File-Id");
      if (id) return Promise.resolve(id);
      // Resumed an upload that was already complete: ask which file it became.
      var uploadId = state.upload.url.replace(/\/+$/, "").split("/").pop();
      return fetch("/api/v1/files/uploads/" + uploadId, {credentials: "same-origin"})
        .then(function (r) { return r.json(); })
        .then(function (body) { return body.file_id; });
    }

    function start(file) {
      if (maxMb && file.size > maxMb * 1024 * 1024) {
        say("文件太大：" + mb(file.size) + "，这里最多 " + maxMb + " MB。请压缩后再上传。", "error");
        return;
      }
      if (state.upload && state.running) state.upload.abort();
      state.file = file;
      var options = {
        endpoint: endpoint,
        chunkSize: chunk,
        retryDelays: RETRY,
        metadata: {filename: file.name, filetype: file.type || "application/octet-stream", slot: slot},
        headers: {"X-CSRFToken": csrfToken(root)},
        fingerprint: fingerprint,
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        onProgress: function (sent, total) {
          var pct = total ? Math.floor(sent / total * 100) : 0;
          progress.value = pct;
          var elapsed = (Date.now() - state.started) / 1000;
          var rate = elapsed > 2 ? (sent - state.startBytes) / elapsed : 0;
          say("已上传 " + pct + "%（" + mb(sent) + " / " + mb(total) + "）" +
              (rate > 0 ? "，" + duration((total - sent) / rate) + "后完成" : ""), "uploading");
        },
        onSuccess: function (payload) {
          fileIdFrom(payload).then(finished, function () {
            say("文件已上传，但没有拿到文件编号。请刷新页面查看。", "error");
          });
        },
        onError: function (error) {
          state.running = false;
          var message = serverMessage(error);
          say(message, "error");
          show(["resume", "cancel"]);
          root.dispatchEvent(new CustomEvent("jpk:upload-error", {bubbles: true, detail: {message: message, slot: slot}}));
        },
        onShouldRetry: function (error, retryAttempt, opts) {
          var res = error && error.originalResponse;
          var code = res ? res.getStatus() : 0;
          if (code === 409 || code === 423) return true;
          if (code >= 400 && code < 500) return false;  // refused: retrying would not help
          say("网络不稳定，正在重试（第 " + (retryAttempt + 1) + " 次）……已上传的部分不会丢失。", "uploading");
          return true;
        }
      };
      var upload = new window.tus.Upload(file, options);
      state.upload = upload;
      visible(progress, true);
      progress.value = 0;
      visible(pick, false);
      upload.findPreviousUploads().then(function (previous) {
        if (previous.length) {
          upload.resumeFromPreviousUpload(previous[0]);
          say("找到上次未完成的上传，正在从断点继续……", "uploading");
        } else {
          say("正在上传 " + file.name + "……", "uploading");
        }
        go();
      });
    }

    function go() {
      state.started = Date.now();
      state.startBytes = 0;
      state.running = true;
      show(["pause", "cancel"]);
      state.upload.start();
    }

    input.addEventListener("change", function () {
      if (input.files && input.files[0]) start(input.files[0]);
      input.value = "";
    });
    pauseBtn.addEventListener("click", function () {
      if (!state.upload) return;
      state.upload.abort().then(function () {
        state.running = false;
        say("已暂停（" + progress.value + "%）。点“继续”接着上传，关闭页面后重新选择同一个文件也能从断点继续。", "paused");
        show(["resume", "cancel"]);
      });
    });
    resumeBtn.addEventListener("click", function () { if (state.upload) go(); });
    cancelBtn.addEventListener("click", function () {
      if (!state.upload) return;
      var upload = state.upload;
      state.upload = null;
      state.running = false;
      upload.abort(true).catch(function () {}).then(function () {
        visible(progress, false);
        visible(pick, true);
        show([]);
        say("已取消上传。", "");
      });
    });
    // The connection came back: continue an upload that stopped on a network error.
    window.addEventListener("online", function () {
      if (state.upload && !state.running && root.getAttribute("data-state") === "error") go();
    });

    // Tell about unfinished uploads of this slot from an earlier visit (they resume when the same
    // file is chosen again; browsers do not let a page reopen a file by itself).
    loadTus(function () {
      if (!window.tus.defaultOptions || !window.tus.defaultOptions.urlStorage) return;
      window.tus.defaultOptions.urlStorage.findAllUploads().then(function (all) {
        var mine = all.filter(function (u) {
          return u.metadata && u.metadata.slot === slot && String(u.urlStorageKey || "").indexOf("tus::jpk|" + endpoint + "|") === 0;
        });
        if (mine.length && !state.upload) {
          say("上次“" + mine[0].metadata.filename + "”没有传完。请重新选择这个文件，会从断点继续上传。", "paused");
        }
      }).catch(function () {});
    });

    root.jpkUpload = {start: start, mount: root};
    return root.jpkUpload;
  }

  function init(scope) {
    var roots = (scope || document).querySelectorAll ? (scope || document).querySelectorAll("[data-upload]") : [];
    if (scope && scope.matches && scope.matches("[data-upload]")) roots = [scope].concat(Array.prototype.slice.call(roots));
    Array.prototype.forEach.call(roots, function (root) {
      loadTus(function () { mount(root); });
    });
  }

  window.JpkUpload = {init: init, mount: mount};
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { init(document); });
  } else {
    init(document);
  }
  document.addEventListener("htmx:load", function (event) { init(event.target); });
})();
