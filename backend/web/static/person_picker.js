// A matter form's person fields: the username box becomes hidden and is filled by choosing a
// person in the org tree (departments load their people when opened) or from a name search;
// the chosen person's name and department are shown. Without JS the box stays as it is.
// Text is set with textContent only, never as HTML. Needs hall.js (window.campusOrg).
(function () {
  "use strict";

  var org = window.campusOrg;
  var tree = null;  // the department tree, fetched once for every picker on the page

  function departments() {
    if (!tree) tree = org.getJson("/web/org/departments");
    return tree;
  }

  function setUp(picker) {
    var input = picker.querySelector("[data-person-input]");
    var chosen = picker.querySelector("[data-person-chosen]");
    var chosenName = picker.querySelector("[data-person-name]");
    var browser = picker.querySelector("[data-person-browser]");
    var results = picker.querySelector("[data-person-results]");
    var query = picker.querySelector("[data-person-query]");
    var root = picker.querySelector("[data-person-tree]");

    function show(text) {
      chosenName.textContent = text || "(未选择)";
    }

    // 抄送 keeps several people (usernames joined by commas), a person field one.
    var multiple = picker.hasAttribute("data-person-multiple");
    var picked = [];  // [{username, label}]

    function showPicked() {
      input.value = picked.map(function (p) { return p.username; }).join(",");
      show(picked.map(function (p) { return p.label; }).join("、"));
    }

    function choose(person) {
      var entry = { username: person.username, label: org.describe(person) };
      if (!multiple) picked = [];
      if (!picked.some(function (p) { return p.username === entry.username; })) picked.push(entry);
      showPicked();
      input.dispatchEvent(new Event("change", { bubbles: true }));
    }

    function personItem(person) {
      var item = document.createElement("li");
      var button = document.createElement("button");
      button.type = "button";
      button.className = "person-choice";
      button.setAttribute("data-testid", "choose-" + person.username);
      button.textContent = org.describe(person);
      button.addEventListener("click", function () { choose(person); });
      item.appendChild(button);
      return item;
    }

    function branch(department) {
      var item = document.createElement("li");
      var details = document.createElement("details");
      details.dataset.dept = department.code;
      var summary = document.createElement("summary");
      summary.setAttribute("data-testid", "dept-" + department.code);
      summary.textContent = department.name;
      details.appendChild(summary);
      if (department.children.length) details.appendChild(branches(department.children));
      var people = document.createElement("ul");
      people.className = "org-people";
      people.dataset.people = "";
      details.appendChild(people);
      org.loadOnOpen(details, personItem);
      item.appendChild(details);
      return item;
    }

    function branches(children) {
      var list = document.createElement("ul");
      list.className = "org-tree";
      children.forEach(function (department) { list.appendChild(branch(department)); });
      return list;
    }

    root.addEventListener("toggle", function () {
      if (!root.open || root.dataset.loaded) return;
      root.dataset.loaded = "1";
      departments().then(function (body) {
        root.querySelector("summary").textContent = body.name;
        root.appendChild(branches(body.children));
      }).catch(function () {
        root.dataset.loaded = "";
        var failed = document.createElement("p");
        failed.textContent = "加载失败,请重试";
        root.appendChild(failed);
      });
    });

    function search() {
      var q = query.value.trim();
      if (q) org.fillList(results, "limit=50&q=" + encodeURIComponent(q), personItem);
    }
    picker.querySelector("[data-person-search]").addEventListener("click", search);
    query.addEventListener("keydown", function (event) {
      if (event.key !== "Enter") return;
      event.preventDefault();  // Enter searches here; it must not submit the matter's form
      search();
    });
    picker.querySelector("[data-person-clear]").addEventListener("click", function () {
      picked = [];
      showPicked();
    });

    // A value already there (a returned application, a refused form) is shown by name; one
    // that names nobody is shown as such, the backend refuses it again.
    var kept = input.value.split(/[\s,,、;;]+/).filter(Boolean);
    if (!multiple) kept = kept.length ? [input.value.trim()] : [];
    picked = kept.map(function (username) { return { username: username, label: username }; });
    if (picked.length) showPicked();
    picked.forEach(function (entry) {
      org.people("limit=20&q=" + encodeURIComponent(entry.username)).then(function (items) {
        var found = items.filter(function (person) { return person.username === entry.username; })[0];
        entry.label = found ? org.describe(found) : entry.username + "(没有找到该人员)";
        showPicked();
      }).catch(function () { /* the username itself stays shown */ });
    });

    input.type = "hidden";
    // The field's label now names the search box, the one thing left to type in.
    var label = picker.parentNode.querySelector('label[for="' + input.id + '"]');
    query.id = input.id + "-search";
    if (label) label.htmlFor = query.id;
    chosen.hidden = false;
    browser.hidden = false;
  }

  if (!org) return;
  Array.prototype.forEach.call(document.querySelectorAll("[data-person-picker]"), setUp);
})();
