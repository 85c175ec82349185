// The 加签 org-tree picker: departments load their people when opened, a name search lists
// matches, ticked people become hidden "users" inputs of the decision form. Text is set
// with textContent only, never as HTML.
// window.campusOrg is shared with person_picker.js (the person field of a matter's form).
(function () {
  "use strict";

  // A page-session JSON read (the /web/org/ endpoints): a promise of the body.
  function getJson(path) {
    return fetch(path, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      });
  }

  // The people the org search finds: a promise of a list.
  function people(query) {
    return getJson("/web/org/users?" + query).then(function (body) { return body.items; });
  }

  function describe(person) {
    var roles = person.roles && person.roles.length ? " · " + person.roles.join("、") : "";
    return person.name + "(" + person.department + roles + ")";
  }

  // Fills a <ul> with one item per person found (makeItem builds it), with waiting, none
  // found and failure shown in the list itself.
  function fillList(list, query, makeItem) {
    list.textContent = "";
    var waiting = document.createElement("li");
    waiting.textContent = "加载中…";
    list.appendChild(waiting);
    return people(query)
      .then(function (items) {
        list.textContent = "";
        if (!items.length) {
          var none = document.createElement("li");
          none.textContent = "没有找到人员";
          list.appendChild(none);
        }
        items.forEach(function (person) { list.appendChild(makeItem(person)); });
      })
      .catch(function () {
        list.textContent = "";
        var failed = document.createElement("li");
        failed.textContent = "加载失败,请重试";
        list.appendChild(failed);
        list.dataset.loaded = "";
      });
  }

  // A department's <details>: its people are loaded the first time it is opened.
  function loadOnOpen(branch, makeItem) {
    branch.addEventListener("toggle", function () {
      var list = branch.querySelector(":scope > [data-people]");
      if (!branch.open || list.dataset.loaded) return;
      list.dataset.loaded = "1";
      fillList(list, "limit=100&department=" + encodeURIComponent(branch.dataset.dept), makeItem);
    });
  }

  window.campusOrg = { getJson: getJson, people: people, describe: describe, fillList: fillList, loadOnOpen: loadOnOpen };

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
    label.appendChild(box);
    label.appendChild(document.createTextNode(describe(person)));
    item.appendChild(label);
    return item;
  }

  Array.prototype.forEach.call(picker.querySelectorAll("details[data-dept]"), function (branch) {
    loadOnOpen(branch, personItem);
  });

  searchForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var q = picker.querySelector("input[name=q]").value.trim();
    if (q) fillList(results, "limit=50&q=" + encodeURIComponent(q), personItem);
  });

  render();
})();
