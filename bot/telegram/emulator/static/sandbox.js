// The sandbox's chat page. It talks only to its own origin (the emulator's control API), and
// builds every element with createElement/textContent: nothing a message says is ever parsed
// as HTML.
"use strict";

const WORDS = {
  zh: {
    you_are: "你是：", sandbox: "离线体验", tour: "导览", send: "发送", attach: "📷 照片",
    locate: "📍 位置", placeholder: "输入消息…", group: "群聊", private_chat: "与机器人的私聊",
    starting: "机器人启动中…", online: "已连接（离线模拟）", offline: "连接中断，正在重试…",
    reply: "回复", replying: "回复：", cancel: "取消", you: "（你）", voice: "🎤 语音 {n} 秒",
    contact: "📞 联系人 {name} {phone}", location: "📍 位置 {lat}, {lon}", choose_place: "选择一个地点：",
    link_blocked: "体验环境中不打开外部链接", photo: "[照片]", doc: "[文件]", no_messages: "还没有消息",
    votes: "{n} 票", caption: "照片说明（可选）：", sent_as: "以 {who} 的身份",
    tour_offer_title: "第一次来？", tour_offer: "用两分钟走一遍：居民反映问题，书记分派，工作人员办结，居民确认，最后看统计。",
    start_tour: "开始导览", no_thanks: "不用了", back: "上一步", next: "下一步", close: "关闭",
    switch_to: "切换为 {who}", step: "第 {n}/{total} 步",
  },
  en: {
    you_are: "You are:", sandbox: "sandbox", tour: "Tour", send: "Send", attach: "📷 Photo",
    locate: "📍 Location", placeholder: "Write a message…", group: "group", private_chat: "private chat with the bot",
    starting: "The bot is starting…", online: "Connected (offline emulation)", offline: "Connection lost, retrying…",
    reply: "Reply", replying: "Replying to: ", cancel: "Cancel", you: " (you)", voice: "🎤 voice {n} s",
    contact: "📞 contact {name} {phone}", location: "📍 location {lat}, {lon}", choose_place: "Pick a place:",
    link_blocked: "Links do not open in the sandbox", photo: "[photo]", doc: "[file]", no_messages: "No messages yet",
    votes: "{n} votes", caption: "Caption (optional):", sent_as: "as {who}",
    tour_offer_title: "First time here?", tour_offer: "A two-minute walk through: a resident reports, the secretary assigns, staff resolve, the resident confirms, then the figures.",
    start_tour: "Start the tour", no_thanks: "No thanks", back: "Back", next: "Next", close: "Close",
    switch_to: "Switch to {who}", step: "Step {n} of {total}",
  },
};

// The tour: which persona to be, and what to type or press, at each step.
const TOUR = [
  { who: null,
    zh: ["欢迎", "这是一个模拟的 Telegram：左边是聊天，上面选择你扮演的人。机器人和真实环境一样运行，只是不连网。"],
    en: ["Welcome", "This page is a pretend Telegram: chats on the left, the person you play at the top. The bot runs as it really does, just offline."] },
  { who: "resident",
    zh: ["1. 以居民身份反映问题", "切换为居民王芳，输入 /report ，选择“其他”，写一句描述（例如：楼下路灯坏了），照片按“跳过”，位置选一个地点或点“跳过”，选择“向处理人员显示姓名”，最后“确认提交”。记下案件编号 #N。"],
    en: ["1. Report as a resident", "Switch to resident Wang, type /report, choose “其他” (Other), describe the problem, skip photos, pick a place or skip, show your name, then confirm. Note the case number #N."] },
  { who: "secretary",
    zh: ["2. 以书记身份分派", "切换为书记赵敏，输入 /queue 查看待分派的案件，然后输入 /assign N property （N 换成案件编号），交给物业服务公司。"],
    en: ["2. Triage as the secretary", "Switch to secretary Zhao, type /queue to see cases waiting, then /assign N property (N is the case number) to hand it to the property company."] },
  { who: "staff",
    zh: ["3. 以工作人员身份办结", "切换为物业工作人员陈刚。他收到了“有新案件”的通知：按“受理”，再按“已解决”，输入处理结果（例如：已更换灯泡）。"],
    en: ["3. Resolve as staff", "Switch to property staff Chen. A “case for you” notice has arrived: press Accept, then Resolved, and type what was done."] },
  { who: "resident",
    zh: ["4. 居民确认", "切换回居民王芳，回答“是否已解决？”：按“是，已解决”，再给几颗星。"],
    en: ["4. Confirm as the resident", "Switch back to Wang and answer “is it fixed?”: press Yes, then give some stars."] },
  { who: "secretary",
    zh: ["5. 看数据", "切换为书记赵敏，输入 /stats 查看本月数据和图表；输入 /export 下载 Excel 报表。"],
    en: ["5. See the figures", "Switch to secretary Zhao and type /stats for this month's figures and chart; /export downloads the workbook."] },
  { who: null,
    zh: ["自由体验", "还可以试试：群里发 #反映 …；调解员 /duty；巡查员 /inspect；英文居民 Alice；/help 查看全部命令。"],
    en: ["Explore", "Also try: #report … in the group; /duty as a mediator; /inspect as the inspector; Alice speaks English; /help lists everything."] },
];
const TOUR_KEY = "yishi-sandbox-tour";

const $ = (id) => document.getElementById(id);
const state = {
  info: null, personas: [], users: new Map(), me: null, chatId: null, lastId: 0, revision: null,
  messages: new Map(), abort: null, unread: new Map(), keyboardSeen: "", keyboardHidden: false,
  replyTo: null,
};

function lang() {
  const user = state.users.get(state.me);
  return user && String(user.language_code || "").toLowerCase().startsWith("en") ? "en" : "zh";
}
function t(key, values) {
  let text = (WORDS[lang()] || WORDS.zh)[key] || key;
  for (const [name, value] of Object.entries(values || {})) text = text.split(`{${name}}`).join(String(value));
  return text;
}

// The one way this page makes an element: attributes and text, never markup.
function el(tag, props, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props || {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "text") node.textContent = String(value);
    else if (key === "className") node.className = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else if (key === "dataset") Object.assign(node.dataset, value);
    else node.setAttribute(key, String(value));
  }
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    node.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return node;
}

async function api(path, options) {
  const response = await fetch(path, options);  // relative: this origin only
  const body = await response.json();
  if (!response.ok) throw new Error(body.error || response.statusText);
  return body;
}
const post = (path, body) => api(path, {
  method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
});

function persona(userId) { return state.personas.find((p) => p.user_id === userId); }
function personaByRole(role) {
  const key = state.info.tour && state.info.tour[role];
  return state.personas.find((p) => p.key === key) || state.personas.find((p) => p.role === role);
}
function who(userId) {
  const p = persona(userId);
  if (p) return p.label[lang()];
  const user = state.users.get(userId);
  return user ? [user.first_name, user.last_name].filter(Boolean).join(" ") : String(userId);
}

function toast(text, long) {
  const box = $("toast");
  box.textContent = text;
  box.hidden = false;
  clearTimeout(toast.timer);
  toast.timer = setTimeout(() => { box.hidden = true; }, long ? 6000 : 2500);
}

// ---- message rendering ------------------------------------------------------------------
const STYLES = { bold: "b", italic: "i", underline: "u", strikethrough: "s", code: "code", pre: "pre", spoiler: "span", blockquote: "blockquote" };

function formatted(text, entities) {
  // Offsets are UTF-16 code units, exactly what JavaScript strings index by.
  const frag = document.createDocumentFragment();
  const spans = (entities || []).filter((e) => STYLES[e.type] || e.type === "text_link")
    .sort((a, b) => a.offset - b.offset);
  let at = 0;
  for (const e of spans) {
    if (e.offset < at) continue;  // nested styles: the outer one is enough here
    frag.append(document.createTextNode(text.slice(at, e.offset)));
    const part = text.slice(e.offset, e.offset + e.length);
    const tag = e.type === "text_link" ? "u" : STYLES[e.type];
    frag.append(el(tag, { text: part, title: e.type === "text_link" ? e.url : undefined }));
    at = e.offset + e.length;
  }
  frag.append(document.createTextNode(text.slice(at)));
  return frag;
}

function fileUrl(fileId) { return "/control/file/" + encodeURIComponent(fileId); }

function deepLink(url) {
  // t.me/<our bot>?start=X becomes "/start X" in the persona's private chat; nothing leaves.
  const bot = String(state.info.bot.username || "").toLowerCase();
  const match = /^https?:\/\/t\.me\/([A-Za-z0-9_]+)\?start=([A-Za-z0-9_-]+)$/.exec(url || "");
  return match && match[1].toLowerCase() === bot ? match[2] : null;
}

function inlineKeyboard(message) {
  const rows = (message.reply_markup || {}).inline_keyboard || [];
  if (!rows.length) return null;
  return el("div", { className: "inline-kb" }, ...rows.map((row) => el("div", { className: "row" },
    ...row.map((button) => {
      if (button.callback_data !== undefined) {
        return el("button", { type: "button", text: button.text, onclick: () => press(message, button) });
      }
      const start = button.url ? deepLink(button.url) : null;
      if (start) return el("button", { type: "button", text: button.text, onclick: () => startBot(start) });
      return el("button", { type: "button", text: button.text, disabled: true, title: t("link_blocked") });
    }))));
}

function pollBox(message) {
  const poll = message.poll;
  return el("div", { className: "poll" }, el("b", { text: poll.question }),
    ...poll.options.map((option, index) => el("button", {
      type: "button", text: `${option.text} · ${t("votes", { n: option.voter_count })}`,
      onclick: () => vote(message, index),
    })));
}

function body(message) {
  const parts = [];
  if (message.photo) {
    const largest = message.photo[message.photo.length - 1];
    const img = el("img", { src: fileUrl(largest.file_id), alt: t("photo") });
    img.addEventListener("click", () => window.open(fileUrl(largest.file_id), "_blank", "noopener"));
    parts.push(img);
  }
  if (message.document) {
    const name = message.document.file_name || "file";
    parts.push(el("a", { className: "doc", href: fileUrl(message.document.file_id), download: name, text: "📄 " + name }));
  }
  if (message.sticker) parts.push(el("span", { text: message.sticker.emoji || "🙂" }));
  if (message.voice) parts.push(el("span", { text: t("voice", { n: message.voice.duration }) }));
  if (message.location) {
    const { latitude, longitude } = message.location;
    const place = (state.info.places || []).find((p) => Math.abs(p.latitude - latitude) < 1e-4 && Math.abs(p.longitude - longitude) < 1e-4);
    parts.push(el("span", { text: t("location", { lat: latitude.toFixed(5), lon: longitude.toFixed(5) }) + (place ? ` · ${place[lang()]}` : "") }));
  }
  if (message.contact) parts.push(el("span", { text: t("contact", { name: message.contact.first_name, phone: message.contact.phone_number }) }));
  if (message.poll) parts.push(pollBox(message));
  const text = message.text !== undefined ? message.text : message.caption;
  if (text) parts.push(el("div", { className: "text" }, formatted(text, message.entities || message.caption_entities)));
  return parts;
}

function renderMessage(message) {
  const fromId = message.from && message.from.id;
  const mine = fromId === state.me;
  const isBot = fromId === state.info.bot.id;
  const quote = message.reply_to_message;
  const time = new Date(message.date * 1000).toLocaleTimeString(lang() === "zh" ? "zh-CN" : "en-GB", { hour: "2-digit", minute: "2-digit" });
  return el("div", { className: "msg" + (mine ? " mine" : isBot ? " bot" : ""), dataset: { id: message.message_id, from: isBot ? "bot" : String(fromId) } },
    mine ? null : el("div", { className: "sender", text: isBot ? state.info.bot.first_name : who(fromId) }),
    quote ? el("div", { className: "quote", text: (quote.text || quote.caption || t("doc")).slice(0, 120) }) : null,
    ...body(message),
    inlineKeyboard(message),
    el("div", { className: "meta" }, time,
      el("button", { type: "button", text: t("reply"), onclick: () => setReply(message) })));
}

function renderAll() {
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 80;
  const ids = [...state.messages.keys()].sort((a, b) => a - b);
  box.replaceChildren(...(ids.length ? ids.map((id) => renderMessage(state.messages.get(id))) : [el("div", { className: "empty", text: t("no_messages") })]));
  if (atBottom || renderAll.first) box.scrollTop = box.scrollHeight;
  renderAll.first = false;
}

function renderKeyboard(markup) {
  const box = $("keyboard");
  const seen = JSON.stringify(markup || null);
  if (seen !== state.keyboardSeen) { state.keyboardSeen = seen; state.keyboardHidden = false; }
  const rows = (markup && markup.keyboard) || [];
  if (!rows.length || state.keyboardHidden) { box.hidden = true; box.replaceChildren(); return; }
  box.hidden = false;
  box.replaceChildren(...rows.map((row) => el("div", { className: "row" }, ...row.map((button) => {
    const spec = typeof button === "string" ? { text: button } : button;
    return el("button", { type: "button", text: spec.text, onclick: () => keyboardPress(spec, markup) });
  }))));
}

// ---- acting as the persona --------------------------------------------------------------
async function act(promise) {
  try { return await promise; } catch (error) { toast(String(error.message || error), true); return null; }
}

async function press(message, button) {
  const query = await act(post("/control/press", { user_id: state.me, chat_id: state.chatId, message_id: message.message_id, data: button.callback_data }));
  if (!query) return;
  const answered = await act(api(`/control/answer?query_id=${encodeURIComponent(query.id)}&timeout=5`));
  if (answered && answered.answer && answered.answer.text) toast(answered.answer.text, answered.answer.show_alert);
}

async function vote(message, index) {
  await act(post("/control/vote", { user_id: state.me, chat_id: state.chatId, message_id: message.message_id, option_ids: [index] }));
}

async function sendText(text) {
  const payload = { user_id: state.me, chat_id: state.chatId, text };
  if (state.replyTo) payload.reply_to_message_id = state.replyTo.message_id;
  setReply(null);
  return act(post("/control/send_text", payload));
}

async function startBot(payload) {
  await openChat(state.me);
  await sendText(`/start ${payload}`);
}

function keyboardPress(spec, markup) {
  if (markup.one_time_keyboard) { state.keyboardHidden = true; renderKeyboard(markup); }
  if (spec.request_location) { togglePlaces(true); return; }
  if (spec.request_contact) {
    const p = persona(state.me);
    act(post("/control/send_contact", { user_id: state.me, chat_id: state.chatId, phone_number: (p && p.phone) || "13800000000" }));
    return;
  }
  sendText(spec.text);
}

function togglePlaces(show) {
  const box = $("places");
  box.hidden = show === undefined ? !box.hidden : !show;
  box.replaceChildren(el("span", { text: t("choose_place") }), ...(state.info.places || []).map((place) => el("button", {
    type: "button", text: place[lang()], onclick: () => {
      box.hidden = true;
      act(post("/control/send_location", { user_id: state.me, chat_id: state.chatId, latitude: place.latitude, longitude: place.longitude }));
    },
  })));
}

async function sendPhoto(file) {
  const form = new FormData();
  form.append("user_id", String(state.me));
  form.append("chat_id", String(state.chatId));
  const caption = $("text").value.trim();
  if (caption) form.append("caption", caption);
  form.append("photo", file, file.name || "photo.jpg");
  $("text").value = "";
  await act(api("/control/send_photo", { method: "POST", body: form }));
}

function setReply(message) {
  state.replyTo = message;
  const box = $("replying");
  box.hidden = !message;
  if (message) box.replaceChildren(t("replying") + (message.text || message.caption || t("doc")).slice(0, 60) + " ", el("button", { type: "button", text: t("cancel"), onclick: () => setReply(null) }));
}

// ---- chats, personas, live updates ------------------------------------------------------
function chatsFor() {
  const group = state.info.chats.filter((c) => c.type !== "private");
  return [...group.map((c) => ({ id: c.id, title: c.title, sub: t("group") })),
    ...state.personas.map((p) => ({ id: p.user_id, title: p.label[lang()] + (p.user_id === state.me ? t("you") : ""), sub: t("private_chat") }))];
}

function renderChats() {
  $("chats").replaceChildren(...chatsFor().map((chat) => el("button", {
    type: "button", className: "chat-item" + (chat.id === state.chatId ? " active" : ""), dataset: { chat: chat.id },
    onclick: () => (chat.id > 0 ? switchPersona(chat.id, true) : openChat(chat.id)),
  }, state.unread.get(chat.id) ? el("span", { className: "unread", text: "•" }) : null,
  el("span", { className: "who", text: chat.title }), el("span", { className: "what", text: chat.sub }))));
}

function renderChrome() {
  document.documentElement.lang = lang() === "zh" ? "zh-CN" : "en";
  $("persona-label").textContent = t("you_are");
  $("brand-sub").textContent = t("sandbox");
  $("tour-button").textContent = t("tour");
  $("send").textContent = t("send");
  $("attach").textContent = t("attach");
  $("locate").textContent = t("locate");
  $("text").placeholder = t("placeholder");
  const select = $("persona");
  select.replaceChildren(...state.personas.map((p) => el("option", { value: p.user_id, text: p.label[lang()], selected: p.user_id === state.me })));
  const chat = chatsFor().find((c) => c.id === state.chatId);
  $("chat-title").textContent = chat ? `${chat.title} · ${chat.sub}` : "";
  renderChats();
  renderTour();
}

async function switchPersona(userId, toPrivate) {
  // Like a real client: in the group you stay in the group, elsewhere your own chat opens.
  state.me = Number(userId);
  localStorage.setItem("yishi-sandbox-persona", String(state.me));
  const inGroup = state.chatId !== null && state.chatId < 0;
  await openChat(inGroup && !toPrivate ? state.chatId : state.me);
}

async function openChat(chatId) {
  if (state.abort) state.abort.abort();
  state.chatId = chatId;
  state.unread.delete(chatId);
  state.messages = new Map();
  state.lastId = 0;
  state.revision = null;
  state.keyboardSeen = "";
  setReply(null);
  $("places").hidden = true;
  renderChrome();
  const found = await act(api(`/control/messages?chat_id=${chatId}&after=0`));
  if (found && state.chatId === chatId) { renderAll.first = true; apply(found); }
  follow(chatId);
}

function apply(found) {
  for (const message of found.messages) {
    state.messages.set(message.message_id, message);
    state.lastId = Math.max(state.lastId, message.message_id);
  }
  for (const id of found.deleted || []) state.messages.delete(id);
  state.revision = found.revision;
  renderAll();
  renderKeyboard(found.reply_keyboard);
}

async function follow(chatId) {
  const controller = new AbortController();
  state.abort = controller;
  while (state.chatId === chatId && !controller.signal.aborted) {
    try {
      const since = state.revision === null ? "" : `&since=${state.revision}`;
      const url = `/control/wait?chat_id=${chatId}&after=${state.lastId}${since}&timeout=20`;
      const found = await api(url, { signal: controller.signal });
      if (state.chatId !== chatId) return;
      apply(found);
      $("status").textContent = t("online");
    } catch (error) {
      if (controller.signal.aborted) return;
      $("status").textContent = t("offline");
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }
}

async function watchOtherChats() {
  let since = state.revision || 0;
  for (;;) {
    try {
      const found = await api(`/control/activity?since=${since}&timeout=25`);
      since = found.revision;
      let changed = false;
      for (const chatId of found.chats) if (chatId !== state.chatId) { state.unread.set(chatId, true); changed = true; }
      if (changed) renderChats();
    } catch (error) {
      await new Promise((resolve) => setTimeout(resolve, 2000));
    }
  }
}

// ---- the guided tour --------------------------------------------------------------------
function renderTour() {
  const box = $("tour");
  const offered = localStorage.getItem(TOUR_KEY);
  if (offered === null) {
    box.hidden = false;
    box.replaceChildren(el("h3", { text: t("tour_offer_title") }), el("p", { text: t("tour_offer") }),
      el("div", { className: "actions" },
        el("button", { type: "button", text: t("no_thanks"), dataset: { testid: "tour-dismiss" }, onclick: () => { localStorage.setItem(TOUR_KEY, "done"); renderTour(); } }),
        el("button", { type: "button", className: "primary", text: t("start_tour"), dataset: { testid: "tour-start" }, onclick: () => { localStorage.setItem(TOUR_KEY, "0"); renderTour(); } })));
    return;
  }
  if (offered === "done") { box.hidden = true; return; }
  const n = Math.min(Math.max(Number(offered) || 0, 0), TOUR.length - 1);
  const step = TOUR[n];
  const [title, text] = step[lang()];
  const target = step.who ? personaByRole(step.who) : null;
  const go = (to) => { localStorage.setItem(TOUR_KEY, to >= TOUR.length ? "done" : String(to)); renderTour(); };
  box.hidden = false;
  box.replaceChildren(el("small", { text: t("step", { n: n + 1, total: TOUR.length }) }), el("h3", { text: title }), el("p", { text }),
    el("div", { className: "actions" },
      target && target.user_id !== state.me ? el("button", { type: "button", className: "primary", text: t("switch_to", { who: target.label[lang()] }), onclick: () => switchPersona(target.user_id, true) }) : null,
      n > 0 ? el("button", { type: "button", text: t("back"), onclick: () => go(n - 1) }) : null,
      el("button", { type: "button", text: n + 1 < TOUR.length ? t("next") : t("close"), dataset: { testid: "tour-next" }, onclick: () => go(n + 1) }),
      n + 1 < TOUR.length ? el("button", { type: "button", text: t("close"), onclick: () => go(TOUR.length) }) : null));
}

// ---- start --------------------------------------------------------------------------------
async function load() {
  const info = await api("/control/page");
  state.info = info;
  state.users = new Map(info.users.map((u) => [u.id, u]));
  state.personas = (info.personas && info.personas.length) ? info.personas : info.users.map((u) => ({
    user_id: u.id, key: String(u.id), role: "resident", label: { zh: u.first_name, en: u.first_name },
  }));
  return info;
}

async function main() {
  let info = await load();
  while (!info.ready && info.personas) {
    $("status").textContent = WORDS.zh.starting + " / " + WORDS.en.starting;
    await new Promise((resolve) => setTimeout(resolve, 700));
    info = await load();
  }
  const saved = Number(localStorage.getItem("yishi-sandbox-persona"));
  state.me = persona(saved) ? saved : state.personas[0].user_id;
  $("persona").addEventListener("change", (event) => switchPersona(event.target.value));
  $("composer").addEventListener("submit", (event) => {
    event.preventDefault();
    const text = $("text").value.trim();
    if (!text) return;
    $("text").value = "";
    sendText(text);
  });
  $("attach").addEventListener("click", () => $("photo-input").click());
  $("photo-input").addEventListener("change", (event) => {
    const file = event.target.files[0];
    event.target.value = "";
    if (file) sendPhoto(file);
  });
  $("locate").addEventListener("click", () => togglePlaces());
  $("tour-button").addEventListener("click", () => { localStorage.setItem(TOUR_KEY, "0"); renderTour(); });
  await openChat(state.me);
  $("status").textContent = t("online");
  watchOtherChats();
}

main();
