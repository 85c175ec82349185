// Parts of a page that keep themselves current (the help desk's queue and conversation pages):
// every element with data-live="<name>" is replaced by the element of the same name in a fresh
// copy of the page, fetched every data-live-seconds (on <body> or the first live element) while
// the page is visible. What the person is typing is never touched: forms are live only where
// they have nothing to type into. Stops when the page no longer comes back as it was (signed
// out, an error page).
(function () {
  "use strict";

  function regions(root) {
    return Array.prototype.slice.call(root.querySelectorAll("[data-live]"));
  }

  function refresh() {
    return fetch(window.location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (response) {
        if (!response.ok || response.redirected) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        var found = 0;
        regions(document).forEach(function (old) {
          var replacement = fresh.querySelector('[data-live="' + old.getAttribute("data-live") + '"]');
          if (!replacement) return;
          found += 1;
          if (replacement.outerHTML !== old.outerHTML) old.replaceWith(document.importNode(replacement, true));
        });
        if (!found) throw new Error("not the same page");
      });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var first = regions(document)[0];
    if (!first) return;
    var seconds = Number(first.getAttribute("data-live-seconds")) || 5;
    var timer = window.setInterval(function () {
      if (document.hidden) return;
      refresh().catch(function () { window.clearInterval(timer); });
    }, seconds * 1000);
  });
})();
