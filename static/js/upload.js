// Resumable uploads with a progress bar, pause/resume, automatic retry and resume after a page
// reload or a lost connection: tus to the server (static/vendor/tus-js-client/tus.min.js), or, when
// the page says the files live in an object store (data-storage="s3"), straight from the browser to
// the store with S3 multipart through Uppy (static/vendor/uppy/uppy.min.js: core + AWS S3 plugin;
// our API starts, signs, lists, completes and aborts; the server never sees a byte). The library is
// loaded first, or fetched from beside this file.
//
//   <div data-upload data-endpoint="/api/v1/uploads/" data-slot="p1-video"
//        data-accept=".mp4,video/mp4" data-max-mb="1024" data-label="选择视频"></div>
//
// Attributes: data-endpoint (default /api/v1/uploads/), data-slot (any text: sent as metadata and
// part of the resume fingerprint, so two slots never mix), data-accept (file chooser hint only; the
// server checks the content), data-max-mb (refuse bigger files before sending), data-chunk-mb
// (PATCH size, default 32), data-label (button text), data-csrf (else the csrftoken cookie).
// Object store: data-storage="s3" and data-direct-url (the API that starts an upload for this slot,
// POST {filename, size}); the part size (16–64 MiB) is the one the server answers with.
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

  function loadUppy(callback) {
    if (window.Uppy && window.Uppy.AwsS3) return callback();
    var existing = document.querySelector("script[data-jpk-uppy]");
    if (!existing) {
      existing = document.createElement("script");
      existing.setAttribute("data-jpk-uppy", "");
      existing.src = (scriptSrc || "/static/js/upload.js").replace(/js\/upload(\.[0-9a-f]+)?\.js.*$/, "vendor/uppy/uppy.min.js");
      document.head.appendChild(existing);
    }
    existing.addEventListener("load", callback);
  }

  function isS3(root) {
    return root.getAttribute("data-storage") === "s3" && !!root.getAttribute("data-direct-url");
  }

  // The API of direct uploads: JSON in and out; a refusal rejects with its Chinese "detail".
  function api(root, method, url, body) {
    var headers = {"X-CSRFToken": csrfToken(root), "Accept": "application/json"};
    if (body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(url, {method: method, credentials: "same-origin", headers: headers,
                       body: body === undefined ? undefined : JSON.stringify(body)})
      .then(function (r) {
        if (r.status === 204) return null;
        return r.json().catch(function () { return {}; }).then(function (data) {
          if (r.ok) return data;
          var error = new Error(data && data.detail ? data.detail : "服务器暂时不可用（" + r.status + "）。");
          error.status = r.status;
          error.refused = !!(data && data.detail);
          throw error;
        });
      });
  }

  var S3_KEY = "jpk-s3|";
  var MULTIPART = "/api/v1/files/multipart/";

  function s3Fingerprint(directUrl, file) {
    return S3_KEY + [directUrl, file.name, file.type, file.size, file.lastModified].join("|");
  }

  function remembered(key) {
    try { return JSON.parse(window.localStorage.getItem(key) || "null"); } catch (e) { return null; }
  }

  function remember(key, value) {
    try {
      if (value) window.localStorage.setItem(key, JSON.stringify(value)); else window.localStorage.removeItem(key);
    } catch (e) { /* private mode: no resume after a reload, uploads still work */ }
  }

  // One file straight to the object store, with the interface the widget uses for tus uploads:
  // start() (first time, or again after a pause or an error), abort(terminate) → Promise, url.
  function S3Upload(root, file, hooks) {
    var directUrl = root.getAttribute("data-direct-url");
    var key = s3Fingerprint(directUrl, file);
    var self = this;
    var partSize = 32 * 1024 * 1024;
    var uppy = new window.Uppy.Uppy({autoProceed: false, allowMultipleUploadBatches: true});
    var fileId = null;  // Uppy's id of the file
    var stored = null;  // our StoredFile id, when complete
    var begun = false;
    var failed = false;
    self.url = "";

    uppy.use(window.Uppy.AwsS3, {
      shouldUseMultipart: true,
      limit: 1,
      retryDelays: RETRY,
      getChunkSize: function () { return partSize; },
      createMultipartUpload: function () {  // only when no upload was prepared (see prepare)
        return api(root, "POST", directUrl, {filename: file.name, size: file.size}).then(function (b) {
          self.url = MULTIPART + b.id;
          remember(key, {id: b.id, key: b.key, partSize: b.part_size});
          return {uploadId: b.id, key: b.key};
        });
      },
      listParts: function (f, opts) {
        return api(root, "GET", MULTIPART + opts.uploadId + "/parts").then(function (parts) {
          return parts.map(function (p) { return {PartNumber: p.number, Size: p.size, ETag: p.etag}; });
        });
      },
      signPart: function (f, opts) {
        return api(root, "POST", MULTIPART + opts.uploadId + "/sign", {parts: [opts.partNumber]}).then(function (b) {
          return {method: "PUT", url: b.parts[0].url};
        });
      },
      abortMultipartUpload: function (f, opts) {
        remember(key, null);
        return api(root, "DELETE", MULTIPART + opts.uploadId).catch(function () {});
      },
      completeMultipartUpload: function (f, opts) {
        return api(root, "POST", MULTIPART + opts.uploadId + "/complete").then(function (b) {
          stored = b.id;
          return {location: b.url};
        });
      }
    });
    uppy.on("upload-progress", function (f, progress) {
      if (progress && progress.bytesTotal) hooks.onProgress(progress.bytesUploaded, progress.bytesTotal);
    });
    uppy.on("upload-success", function () {
      remember(key, null);
      hooks.onSuccess(stored);
    });
    uppy.on("upload-error", function (f, error) {
      failed = true;
      if (error && error.refused && error.status !== 409) remember(key, null);  // refused: start over next time
      hooks.onError(error);
    });

    // An unfinished upload of this file from an earlier visit (or another tab, or another node):
    // resume it; else start a new one. Either way Uppy then lists the parts the store holds.
    function prepare() {
      var previous = remembered(key);
      var ready = previous ? api(root, "GET", MULTIPART + previous.id).then(function (b) {
        if (b.complete) return {done: b.file_id};
        hooks.onResume();
        return b;
      }, function () { remember(key, null); return null; }) : Promise.resolve(null);
      return ready.then(function (b) {
        if (b && b.done) return b;
        return b || api(root, "POST", directUrl, {filename: file.name, size: file.size});
      }).then(function (b) {
        if (b.done) return b;
        self.url = MULTIPART + b.id;
        partSize = b.part_size;
        remember(key, {id: b.id, key: b.key, partSize: b.part_size});
        fileId = uppy.addFile({name: file.name, type: file.type || "application/octet-stream", data: file,
                               source: "jpk", isRemote: false});
        uppy.setFileState(fileId, {s3Multipart: {uploadId: String(b.id), key: b.key}});
        return b;
      });
    }

    self.start = function () {
      if (!begun) {
        begun = true;
        prepare().then(function (b) {
          if (b.done) { remember(key, null); hooks.onSuccess(b.done); return; }
          return uppy.upload();
        }).catch(function (error) { begun = false; failed = true; hooks.onError(error); });
        return;
      }
      if (!fileId) { begun = false; self.start(); return; }
      if (failed) { failed = false; uppy.retryUpload(fileId); } else { uppy.resumeAll(); }
    };

    self.abort = function (terminate) {
      if (terminate) {
        if (fileId) uppy.removeFile(fileId);  // the plugin aborts the multipart upload (DELETE)
        remember(key, null);
        begun = false;
      } else if (fileId) {
        uppy.pauseAll();
      }
      return Promise.resolve();
    };
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

    function progressed(sent, total) {
      var pct = total ? Math.floor(sent / total * 100) : 0;
      progress.value = pct;
      var elapsed = (Date.now() - state.started) / 1000;
      var rate = elapsed > 2 ? (sent - state.startBytes) / elapsed : 0;
      say("已上传 " + pct + "%（" + mb(sent) + " / " + mb(total) + "）" +
          (rate > 0 ? "，" + duration((total - sent) / rate) + "后完成" : ""), "uploading");
    }

    function failedWith(message) {
      state.running = false;
      say(message, "error");
      show(["resume", "cancel"]);
      root.dispatchEvent(new CustomEvent("jpk:upload-error", {bubbles: true, detail: {message: message, slot: slot}}));
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
      if (isS3(root)) {
        state.upload = new S3Upload(root, file, {
          onProgress: progressed,
          onResume: function () { say("找到上次未完成的上传，正在从断点继续……", "uploading"); },
          onSuccess: finished,
          onError: function (error) {
            failedWith(error && error.refused ? error.message : (!navigator.onLine
              ? "网络已断开。网络恢复后会自动继续，已上传的部分不会丢失。"
              : "上传中断：网络或存储服务暂时不可用。请点“继续”重试，已上传的部分不会丢失。"));
          }
        });
        visible(progress, true);
        progress.value = 0;
        visible(pick, false);
        say("正在上传 " + file.name + "……", "uploading");
        go();
        return;
      }
      var options = {
        endpoint: endpoint,
        chunkSize: chunk,
        retryDelays: RETRY,
        metadata: {filename: file.name, filetype: file.type || "application/octet-stream", slot: slot},
        headers: {"X-CSRFToken": csrfToken(root)},
        fingerprint: fingerprint,
        storeFingerprintForResuming: true,
        removeFingerprintOnSuccess: true,
        onProgress: progressed,
        onSuccess: function (payload) {
          fileIdFrom(payload).then(finished, function () {
            say("文件已上传，但没有拿到文件编号。请刷新页面查看。", "error");
          });
        },
        onError: function (error) { failedWith(serverMessage(error)); },
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
    if (isS3(root)) {
      try {
        var prefix = S3_KEY + root.getAttribute("data-direct-url") + "|";
        for (var i = 0; i < window.localStorage.length; i++) {
          var k = window.localStorage.key(i);
          if (k && k.indexOf(prefix) === 0 && !state.upload) {
            say("上次“" + k.slice(prefix.length).split("|")[0] + "”没有传完。请重新选择这个文件，会从断点继续上传。", "paused");
            break;
          }
        }
      } catch (e) { /* no storage: nothing to tell */ }
    } else loadTus(function () {
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
      (isS3(root) ? loadUppy : loadTus)(function () { mount(root); });
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
