// A matter form's attachment fields: chosen files are uploaded at once to /web/files (one
// request per choice, with a progress bar), listed with a link and a 移除 button, and their
// ids kept in the field's hidden box, which the form posts. The file input is emptied after
// each upload so the form does not send the files again. Without JS the chosen files go with
// the form itself. Sizes and kinds are checked here for a quick answer; the backend checks
// them again. Text is set with textContent only, never as HTML.
(function () {
  "use strict";

  var token = document.querySelector('meta[name="csrf-token"]');

  function size(bytes) {
    if (bytes < 1024) return bytes + " B";
    if (bytes < 1024 * 1024) return (bytes / 1024).toFixed(1) + " KB";
    return (bytes / 1024 / 1024).toFixed(1) + " MB";
  }

  function setUp(box) {
    var ids = box.querySelector("[data-upload-ids]");
    var list = box.querySelector("[data-upload-list]");
    var input = box.querySelector("[data-upload-input]");
    var bar = box.querySelector("[data-upload-progress]");
    var error = box.querySelector("[data-upload-error]");
    var maxBytes = Number(box.dataset.maxBytes);
    var maxFiles = Number(box.dataset.maxFiles);
    var types = box.dataset.types.split(",");

    function held() {
      return ids.value.split(",").filter(function (id) { return /^\d+$/.test(id); });
    }

    function fail(text) {
      error.textContent = text;
      error.hidden = false;
    }

    function remove(item) {
      var id = item.dataset.fileId;
      ids.value = held().filter(function (x) { return x !== id; }).join(",");
      item.remove();
    }

    function listed(file) {
      var item = document.createElement("li");
      item.dataset.fileId = String(file.id);
      item.setAttribute("data-testid", "uploaded-" + file.id);
      var link = document.createElement("a");
      link.href = "/files/" + file.id;
      link.target = "_blank";
      link.rel = "noopener";
      link.textContent = file.name;
      var note = document.createElement("span");
      note.className = "muted";
      note.textContent = "(" + size(file.size) + ")";
      var button = document.createElement("button");
      button.type = "button";
      button.textContent = "移除";
      button.setAttribute("data-testid", "remove-" + file.id);
      button.addEventListener("click", function () { remove(item); });
      item.append(link, " ", note, " ", button);
      return item;
    }

    function problem(files) {
      if (files.length > maxFiles) return "一次最多上传 " + maxFiles + " 个文件";
      for (var i = 0; i < files.length; i++) {
        var name = files[i].name;
        var kind = name.indexOf(".") >= 0 ? name.split(".").pop().toLowerCase() : "";
        if (types.indexOf(kind) < 0) return "文件「" + name + "」的类型不支持";
        if (files[i].size > maxBytes) return "文件「" + name + "」超过 " + size(maxBytes);
      }
      return null;
    }

    function upload() {
      var files = Array.prototype.slice.call(input.files);
      if (!files.length) return;
      error.hidden = true;
      var refused = problem(files);
      if (refused) { fail(refused); input.value = ""; return; }
      var body = new FormData();
      files.forEach(function (file) { body.append("files", file, file.name); });
      var request = new XMLHttpRequest();
      request.open("POST", "/web/files");
      request.setRequestHeader("X-CSRF-Token", token ? token.content : "");
      request.setRequestHeader("Accept", "application/json");
      request.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) bar.value = Math.round(100 * event.loaded / event.total);
      });
      request.addEventListener("load", function () {
        bar.hidden = true;
        var answer = null;
        try { answer = JSON.parse(request.responseText); } catch (e) { answer = null; }
        if (request.status === 201 && answer) {
          answer.items.forEach(function (file) {
            list.appendChild(listed(file));
            ids.value = held().concat([String(file.id)]).join(",");
          });
          var typed = list.querySelector("li.muted");
          if (typed) typed.remove();  // an older typed file name gives way to real files
        } else {
          fail(answer && answer.error ? answer.error.message : "上传失败,请重试");
        }
      });
      request.addEventListener("error", function () { bar.hidden = true; fail("上传失败,请检查网络后重试"); });
      bar.value = 0;
      bar.hidden = false;
      input.value = "";  // sent now: the form must not send these again
      request.send(body);
    }

    Array.prototype.forEach.call(list.querySelectorAll("[data-upload-remove]"), function (button) {
      button.addEventListener("click", function () { remove(button.closest("li")); });
    });
    input.addEventListener("change", upload);
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-uploader]"), setUp);
})();
