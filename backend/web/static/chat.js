// The web chat panel: a short-lived token from /web/chat/token, messages through the
// same-origin relay /web/chat/send to Rasa's webchat channel (the channel takes the
// sender from the token; nothing here names a sender). Text is always set with
// textContent, never as HTML.
(function () {
  "use strict";

  var panel = document.getElementById("chat-panel");
  if (!panel) return;
  var toggle = document.getElementById("chat-toggle");
  var log = document.getElementById("chat-log");
  var form = document.getElementById("chat-form");
  var input = document.getElementById("chat-input");
  var statusLine = document.getElementById("chat-status");
  var retryButton = document.getElementById("chat-retry");
  var closeButton = document.getElementById("chat-close");

  var OPEN_KEY = "webchat:open";
  var HISTORY_LIMIT = 200;
  var REFRESH_MARGIN_MS = 60 * 1000;   // ask for a new token a minute before expiry
  var MAX_BACKOFF_MS = 15 * 1000;
  var NOTICE_POLL_MS = 10 * 1000;       // notifications for people without WeCom
  // Links the bot may send that open in the hall (this window), e.g. a progress page.
  var HALL_LINK = /(?:https?:\/\/[^\s\/]+)?(\/applications\/\d+\/progress|\/progress\/\d+|\/tasks\/\d+|\/matters\/[a-z][a-z0-9_]*)/g;

  var chat = { token: null, expiresAt: 0, username: null, refreshTimer: null,
               sending: false, failures: 0, retryTimer: null, loggedOut: false, tokenRetries: 0,
               checkingNotices: false };

  // ------------------------------------------------------------ storage (this tab only)
  function historyKey() { return "webchat:history:" + chat.username; }
  function queueKey() { return "webchat:queue:" + chat.username; }
  function load(key) {
    try { return JSON.parse(sessionStorage.getItem(key) || "[]"); } catch (e) { return []; }
  }
  function save(key, value) {
    try { sessionStorage.setItem(key, JSON.stringify(value)); } catch (e) { /* storage full or off */ }
  }
  function remember(entry) {
    var history = load(historyKey());
    history.push(entry);
    save(historyKey(), history.slice(-HISTORY_LIMIT));
  }
  function markChoiceUsed(id) {
    var history = load(historyKey());
    history.forEach(function (entry) { if (entry.id === id) entry.used = true; });
    save(historyKey(), history);
  }

  // ------------------------------------------------------------ drawing
  function csrfToken() {
    var meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.getAttribute("content") : "";
  }

  function setStatus(state, text) {
    statusLine.dataset.state = state;
    statusLine.textContent = text;
    retryButton.hidden = state !== "offline";
    panel.dataset.state = state;
  }

  function appendText(container, text) {
    var last = 0;
    text.replace(HALL_LINK, function (match, path, offset) {
      container.appendChild(document.createTextNode(text.slice(last, offset)));
      var link = document.createElement("a");
      link.href = path;          // a path on this site only: the origin part is dropped
      link.textContent = path;
      link.className = "chat-link";
      link.dataset.testid = "chat-link";
      link.addEventListener("click", function () { setOpen(false); });  // the hall is shown, not hidden behind the chat
      container.appendChild(link);
      last = offset + match.length;
      return match;
    });
    container.appendChild(document.createTextNode(text.slice(last)));
  }

  function draw(entry) {
    var item = document.createElement("li");
    item.className = "chat-msg chat-" + entry.from;
    item.dataset.testid = entry.from === "bot" ? "chat-bot-message" : "chat-" + entry.from + "-message";
    if (entry.text) {
      var bubble = document.createElement("div");
      bubble.className = "chat-bubble";
      appendText(bubble, entry.text);
      item.appendChild(bubble);
    }
    if (entry.buttons && entry.buttons.length) {
      var choices = document.createElement("div");
      choices.className = "chat-choices";
      entry.buttons.forEach(function (choice) {
        var button = document.createElement("button");
        button.type = "button";
        button.className = "chat-choice";
        button.dataset.testid = "chat-button";
        button.textContent = choice.title;
        button.disabled = !!entry.used;
        button.addEventListener("click", function () {
          Array.prototype.forEach.call(choices.children, function (b) { b.disabled = true; });
          markChoiceUsed(entry.id);
          send(choice.payload || choice.title, choice.title);
        });
        choices.appendChild(button);
      });
      item.appendChild(choices);
    }
    log.appendChild(item);
    log.scrollTop = log.scrollHeight;
  }

  function add(entry) {
    entry.id = Date.now().toString(36) + Math.random().toString(36).slice(2);
    remember(entry);
    draw(entry);
  }

  function showBotReplies(messages) {
    messages.forEach(function (message) {
      var buttons = (message.buttons || []).filter(function (b) { return b && b.title; })
        .map(function (b) { return { title: String(b.title), payload: String(b.payload || b.title) }; });
      var text = message.text || (message.image ? "[图片] " + message.image : "");
      if (text || buttons.length) add({ from: "bot", text: String(text), buttons: buttons });
    });
  }

  // ------------------------------------------------------------ talking to the backend
  function post(url, body) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "application/json", "X-CSRF-Token": csrfToken() },
      body: JSON.stringify(body || {})
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        return { status: response.status, data: data };
      });
    });
  }

  function loggedOut() {
    chat.loggedOut = true;
    setStatus("logged-out", "登录已失效,请重新登录");
  }

  function fetchToken() {
    return post("/web/chat/token").then(function (answer) {
      if (answer.status === 401) { loggedOut(); throw new Error("logged out"); }
      if (answer.status !== 200) throw new Error("token " + answer.status);
      var first = chat.username === null;
      chat.token = answer.data.token;
      chat.username = answer.data.username;
      chat.expiresAt = Date.now() + answer.data.expires_in * 1000;
      clearTimeout(chat.refreshTimer);
      chat.refreshTimer = setTimeout(refreshToken, Math.max(10000, answer.data.expires_in * 1000 - REFRESH_MARGIN_MS));
      if (first) { restore(); checkNotices(); }
    });
  }

  function refreshToken() {
    fetchToken().catch(function () { if (!chat.loggedOut) offline(); });
  }

  function validToken() {
    if (chat.token && Date.now() < chat.expiresAt - 5000) return Promise.resolve();
    return fetchToken();
  }

  function offline() {
    chat.failures += 1;
    var wait = Math.min(MAX_BACKOFF_MS, 1000 * Math.pow(2, chat.failures - 1));
    setStatus("offline", "连接中断," + Math.round(wait / 1000) + " 秒后重试…");
    clearTimeout(chat.retryTimer);
    chat.retryTimer = setTimeout(resume, wait);
  }

  function resume() {
    clearTimeout(chat.retryTimer);
    if (chat.loggedOut) return;
    // Nothing queued after a failure: a fresh token is the way to see the connection is back.
    if (chat.username === null || (chat.failures > 0 && !load(queueKey()).length)) {
      setStatus("connecting", "连接中…");
      fetchToken().then(function () { online(); flush(); }, function () { if (!chat.loggedOut) offline(); });
    } else {
      flush();
    }
  }

  function online() {
    chat.failures = 0;
    setStatus("online", "在线");
  }

  // Messages wait in a queue (kept in sessionStorage) until the relay has answered them,
  // so a dropped connection or a reload loses nothing typed.
  function flush() {
    var queue = load(queueKey());
    if (chat.sending || chat.loggedOut || !queue.length) {
      if (!queue.length && !chat.loggedOut && !chat.sending && chat.failures === 0) online();
      return;
    }
    chat.sending = true;
    setStatus("sending", "助手正在回复…");
    validToken().then(function () {
      return post("/web/chat/send", { token: chat.token, message: queue[0] });
    }).then(function (answer) {
      chat.sending = false;
      if (answer.status === 200) {
        save(queueKey(), load(queueKey()).slice(1));
        chat.failures = 0;
        chat.tokenRetries = 0;
        showBotReplies(answer.data.messages || []);
        flush();
      } else if (answer.status === 401 && answer.data.error && answer.data.error.code === "chat_token_invalid") {
        chat.token = null;            // stale token: fetch a new one and try again, once
        if (chat.tokenRetries++ < 1) flush(); else { chat.tokenRetries = 0; offline(); }
      } else if (answer.status === 401) {
        loggedOut();
      } else if (answer.status >= 400 && answer.status < 500) {
        save(queueKey(), load(queueKey()).slice(1));   // this message can never succeed: drop it, say why
        var error = answer.data.error || {};
        add({ from: "system", text: "消息未发送:" + (error.message || "请求有误") });
        flush();
      } else {
        offline();
      }
    }, function () {
      chat.sending = false;
      if (!chat.loggedOut) offline();
    });
  }

  function send(message, shownAs) {
    message = String(message || "").trim();
    if (!message) return;
    if (chat.username === null) { setStatus("connecting", "尚未连接到助手,请稍候再发送"); return; }
    add({ from: "user", text: shownAs || message });
    var queue = load(queueKey());
    queue.push(message);
    save(queueKey(), queue);
    flush();
  }

  function restore() {
    log.textContent = "";
    var history = load(historyKey());
    history.forEach(function (entry) { draw(entry); });
    if (!history.length) add({ from: "bot", text: "您好!我是校务助手,可以帮您办事项、查进度、处理待办。试试说「我要盖章」或「我有什么待办」。", buttons: [] });
  }

  // ------------------------------------------------------------ notifications
  // For people without WeCom the assistant's notifications (a new task, an approval, a
  // return) wait on the server: drawn live while the panel is open, else counted on the
  // toggle and drawn when it opens; marked read once drawn.
  function checkNotices() {
    if (chat.loggedOut || chat.username === null || chat.checkingNotices) return;
    chat.checkingNotices = true;
    fetch("/web/chat/notices?unread=1", { credentials: "same-origin", headers: { "Accept": "application/json" } })
      .then(function (response) { return response.ok ? response.json() : { items: [] }; })
      .then(function (data) {
        var items = data.items || [];
        toggle.dataset.unread = items.length ? String(items.length) : "";
        if (!items.length || panel.hidden) return null;
        items.forEach(function (item) { showBotReplies(item.messages || []); });
        toggle.dataset.unread = "";
        return post("/web/chat/notices/read", { up_to: items[items.length - 1].id });
      })
      .catch(function () { /* the next round tries again */ })
      .then(function () { chat.checkingNotices = false; });
  }

  // ------------------------------------------------------------ opening and closing
  function setOpen(open) {
    panel.hidden = !open;
    toggle.setAttribute("aria-expanded", String(open));
    document.documentElement.classList.toggle("chat-open", open);
    try { sessionStorage.setItem(OPEN_KEY, open ? "1" : "0"); } catch (e) { /* ignore */ }
    if (open) { input.focus(); checkNotices(); }
  }

  toggle.addEventListener("click", function () { setOpen(panel.hidden); });
  closeButton.addEventListener("click", function () { setOpen(false); });
  retryButton.addEventListener("click", resume);
  window.addEventListener("online", resume);
  document.addEventListener("visibilitychange", function () {
    if (!document.hidden && chat.username !== null && Date.now() > chat.expiresAt - REFRESH_MARGIN_MS) refreshToken();
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    var text = input.value;
    input.value = "";
    send(text);
  });

  setOpen(sessionStorage.getItem(OPEN_KEY) === "1");
  resume();
  setInterval(checkNotices, NOTICE_POLL_MS);
})();
