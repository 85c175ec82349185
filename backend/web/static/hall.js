// The 加签 org-tree picker: departments load their people when opened, a name search lists
// matches, ticked people become hidden "users" inputs of the decision form. Text is set
// with textContent only, never as HTML.
(function () {
  "use strict";

  var picker = document.querySelector("[data-org-picker]");
  if (!picker) return;
  var selectedInputs = picker.querySelector("[data-selected-inputs]");
  var selectedNames = picker.querySelector("[data-selected-names]");
  var results = picker.querySelector("[data-org-results]");
  var searchForm = document.querySelector("[data-org-search-form]");
  var selected = {};  // username -> display name

  Array.prototype.forEach.call(selectedInputs.querySelectorAll("input"), function (input) {
    selected[input.value] = input.value;
  });

  function render() {
    selectedInputs.textContent = "";
    var names = [];
    Object.keys(selected).forEach(function (username) {
      var input = document.createElement("input");
      input.type = "hidden";
      input.name = "users";
      input.value = username;
      selectedInputs.appendChild(input);
      names.push(selected[username]);
    });
    selectedNames.textContent = names.length ? names.join("、") : "(未选择)";
    Array.prototype.forEach.call(picker.querySelectorAll("input[data-username]"), function (box) {
      box.checked = Object.prototype.hasOwnProperty.call(selected, box.dataset.username);
    });
  }

  function personItem(person) {
    var item = document.createElement("li");
    var label = document.createElement("label");
    var box = document.createElement("input");
    box.type = "checkbox";
    box.dataset.username = person.username;
    box.setAttribute("data-testid", "pick-" + person.username);
    box.checked = Object.prototype.hasOwnProperty.call(selected, person.username);
    box.addEventListener("change", function () {
      if (box.checked) selected[person.username] = person.name;
      else delete selected[person.username];
      render();
    });
    var roles = person.roles && person.roles.length ? " · " + person.roles.join("、") : "";
    label.appendChild(box);
    label.appendChild(document.createTextNode(person.name + "(" + person.department + roles + ")"));
    item.appendChild(label);
    return item;
  }

  function fill(list, query) {
    list.textContent = "";
    var waiting = document.createElement("li");
    waiting.textContent = "加载中…";
    list.appendChild(waiting);
    return fetch("/web/org/users?" + query, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (body) {
        list.textContent = "";
        if (!body.items.length) {
          var none = document.createElement("li");
          none.textContent = "没有找到人员";
          list.appendChild(none);
        }
        body.items.forEach(function (person) { list.appendChild(personItem(person)); });
      })
      .catch(function () {
        list.textContent = "";
        var failed = document.createElement("li");
        failed.textContent = "加载失败,请重试";
        list.appendChild(failed);
        list.dataset.loaded = "";
      });
  }

  Array.prototype.forEach.call(picker.querySelectorAll("details[data-dept]"), function (branch) {
    branch.addEventListener("toggle", function () {
      var list = branch.querySelector(":scope > [data-people]");
      if (!branch.open || list.dataset.loaded) return;
      list.dataset.loaded = "1";
      fill(list, "limit=100&department=" + encodeURIComponent(branch.dataset.dept));
    });
  });

  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var q = picker.querySelector("input[name=q]").value.trim();
    if (q) fill(results, "limit=50&q=" + encodeURIComponent(q));
  });

  render();
})();
