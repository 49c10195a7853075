// The sandbox page: long-polls /sandbox/state and draws it; every click is a POST to /sandbox/<action>,
// which the server turns into what Slack would send the app.
"use strict";

// The picker's emoji, with the words a screen reader says for each.
const REACTIONS = [["bulb", "light bulb"], ["+1", "thumbs up"], ["heart", "heart"], ["raised_hands", "raised hands"],
  ["tada", "party popper"], ["eyes", "eyes"], ["rocket", "rocket"], ["white_check_mark", "check mark"]];
const view = { team: "", user: "", channel: "", thread: "", home: false, homeTab: "home", highlight: "" };
let state = null;
let poll = null;
let shownModal = "";
let errorShownIn = null; // the view an error banner is about (see shownView)

const $ = (id) => document.getElementById(id);

function readLocation() {
  const params = new URLSearchParams(location.hash.slice(1));
  view.team = params.get("team") || localStorage.getItem("sandbox-team") || "";
  view.user = params.get("user") || localStorage.getItem("sandbox-user") || "";
  view.channel = params.get("channel") || "";
  view.thread = params.get("thread") || "";
  view.home = params.get("home") === "1";
  view.highlight = params.get("ts") || "";
}

function writeLocation() {
  const params = new URLSearchParams();
  if (view.team) params.set("team", view.team);
  if (view.user) params.set("user", view.user);
  if (view.channel) params.set("channel", view.channel);
  if (view.thread) params.set("thread", view.thread);
  if (view.home) params.set("home", "1");
  history.replaceState(null, "", `#${params}`);
  if (view.user) localStorage.setItem("sandbox-user", view.user);
  if (view.team) localStorage.setItem("sandbox-team", view.team);
}

// -- talking to the server -------------------------------------------------------------------------

async function act(action, args) {
  let body;
  try {
    const response = await fetch(`/sandbox/${action}`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ team: view.team, user: view.user, ...args }),
    });
    body = await response.json().catch(() => ({ ok: false, error: `HTTP ${response.status}` }));
  } catch {
    body = { ok: false, error: "The sandbox is not answering: is `make run` still running?" };
  }
  if (!body.ok && body.error) notify(body.error, true);
  refresh();
  return body;
}

function refresh() {
  if (poll) poll.abort();
}

// What the page asks the server for: the person, and the conversation on screen ("@app" is their
// DM with the app, whoever they are; "" on the Home tab).
function wanted() {
  const channel = !view.home ? view.channel : view.homeTab === "messages" ? "@app" : "";
  return new URLSearchParams({ team: view.team, user: view.user, channel, thread: view.thread }).toString();
}

async function loop() {
  let since = null;
  for (;;) {
    poll = new AbortController();
    const asked = wanted();
    const params = new URLSearchParams(asked);
    if (since !== null) params.set("since", since);
    try {
      const response = await fetch(`/sandbox/state?${params}`, { signal: poll.signal });
      const answer = await response.json();
      if (asked !== wanted()) { since = null; continue; } // asked for another view: never draw it here
      state = answer;
      since = state.version;
      render();
    } catch (error) {
      since = null; // aborted by an action, or the server restarted: draw afresh
      if (error.name !== "AbortError") await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function notify(text, isError = false) {
  const banner = $("jobs-status");
  banner.textContent = text;
  banner.classList.toggle("error", isError);
  banner.hidden = false;
  errorShownIn = isError ? shownView() : null;
}

// What an error is about: the person, the conversation on screen and whether they are in it (say,
// "Join #x first" while previewing #x). Another person or conversation, or joining, drops it.
function shownView() {
  const channel = state && !view.home ? state.channels.find((c) => c.id === view.channel) : null;
  return JSON.stringify([view.team, view.user, view.home, view.homeTab, view.channel, channel ? channel.is_member : null]);
}

function dropStaleError() {
  if (errorShownIn === null || errorShownIn === shownView()) return;
  $("jobs-status").hidden = true;
  errorShownIn = null;
}

// -- drawing -----------------------------------------------------------------------------------------

function names() {
  const users = {};
  for (const user of state.users) users[user.id] = user.real_name;
  const channels = {};
  for (const channel of state.channels) channels[channel.id] = channel.name;
  return { users, channels, timeZone: myTimeZone(), now: state.clock.now };
}

// Slack shows times in the reader's own time zone (users.info's tz), whatever the computer's.
function myTimeZone() {
  const me = state.users.find((u) => u.id === state.me);
  if (!me || !me.tz) return undefined;
  try {
    new Intl.DateTimeFormat(undefined, { timeZone: me.tz });
    return me.tz;
  } catch {
    return undefined; // a zone this browser does not know: its own
  }
}

function render() {
  view.team = state.team;
  view.user = state.me;
  if (!view.home) view.channel = state.channel || "";
  writeLocation();
  dropStaleError();
  renderUsers();
  renderClock();
  renderSidebar();
  renderProblems();
  if (view.home) renderHome(); else renderChannel();
  renderThread();
  renderModal();
}

// The workspace switcher: shown only when the sandbox holds more than one (PEERLEARN_SANDBOX_WORKSPACES=2).
function renderWorkspaces() {
  const select = $("team-select");
  const workspaces = state.workspaces || [];
  $("team-picker").hidden = workspaces.length < 2;
  const wanted = workspaces.map((w) => `${w.id}:${w.name}`).join(",");
  if (select.dataset.workspaces !== wanted) {
    select.replaceChildren(...workspaces.map((w) => el("option", { value: w.id }, w.name)));
    select.dataset.workspaces = wanted;
  }
  select.value = state.team;
}

function renderUsers() {
  renderWorkspaces();
  const select = $("user-select");
  const people = state.users.filter((u) => !u.is_bot);
  const wanted = people.map((u) => `${u.id}:${u.real_name}`).join(",");
  if (select.dataset.people !== wanted) {
    select.replaceChildren(...people.map((u) => el("option", { value: u.id }, `${u.real_name}${u.is_admin ? " (admin)" : ""}`)));
    select.dataset.people = wanted;
  }
  select.value = state.me;
  const me = people.find((u) => u.id === state.me);
  $("user-hint").textContent = me ? `${me.title} · ${me.tz}` : "";
}

function renderClock() {
  const clock = $("clock");
  if (state.clock.now) {
    const now = new Date(state.clock.now);
    clock.dateTime = state.clock.now;
    clock.textContent = now.toLocaleString(undefined, { weekday: "short", day: "numeric", month: "short", hour: "2-digit", minute: "2-digit", timeZone: myTimeZone() });
    clock.title = state.clock.offset_seconds > 0 ? `${Math.round(state.clock.offset_seconds / 3600)} h ahead of real time` : "real time";
  }
  const status = state.clock.app_alive ? "● app running" : "● app not running";
  if ($("app-status").textContent !== status) $("app-status").textContent = status; // announce changes only
  $("app-status").classList.toggle("down", !state.clock.app_alive);
}

function conversationButton(channel) {
  return el("li", {},
    el("button", {
      type: "button", class: "conversation", "aria-current": !view.home && channel.id === view.channel ? "page" : null,
      onclick: () => { view.home = false; view.channel = channel.id; view.thread = ""; writeLocation(); refresh(); },
    }, `${conversationIcon(channel)} ${channel.name}`, channel.is_member ? null : el("span", { class: "muted" }, " (not joined)")));
}

function conversationIcon(channel) {
  if (channel.is_group_dm) return "👥";
  return channel.is_private ? "🔒" : "#";
}

function renderSidebar() {
  $("channel-list").replaceChildren(...state.channels.filter((c) => !c.is_group_dm).map(conversationButton));
  $("group-dm-list").replaceChildren(...state.channels.filter((c) => c.is_group_dm).map(conversationButton));
  $("open-home").setAttribute("aria-current", view.home && view.homeTab === "home" ? "page" : "false");
  $("open-app-dm").setAttribute("aria-current", view.home && view.homeTab === "messages" ? "page" : "false");
}

function renderProblems() {
  $("problem-count").textContent = String(state.problems.length);
  $("problems").classList.toggle("has-problems", state.problems.length > 0);
  $("problem-list").replaceChildren(...state.problems.map((p) => el("li", {},
    el("strong", {}, `${p.method}: ${p.error}`), el("span", { class: "muted" }, ` ${new Date(p.at).toLocaleTimeString()}`),
    el("ul", {}, p.details.map((d) => el("li", {}, d))))));
}

function context() {
  return {
    names: names(),
    channels: state.channels.filter((c) => c.is_member || !c.is_private),
    users: state.users.filter((u) => !u.is_bot),
    currentChannel: view.channel,
  };
}

function renderChannel() {
  const channel = state.channels.find((c) => c.id === state.channel);
  $("home-tabs").hidden = true;
  $("home-view").hidden = true;
  $("messages").hidden = false;
  const previewing = Boolean(channel && !channel.is_member && !channel.is_archived);
  $("composer").hidden = previewing; // as in Slack: join a channel before writing in it
  $("join-bar").hidden = !previewing;
  $("read-only-note").hidden = true; // the app's DM's note, not a channel's
  if (previewing) $("join-text").textContent = `You are viewing #${channel.name}.`;
  $("conversation-title").textContent = channel ? `${conversationIcon(channel)} ${channel.name}` : "No channel";
  $("conversation-topic").textContent = channel
    ? `${channel.topic}${channel.app_is_member ? "" : " · Peerlearn is not in this channel"}` : "";
  $("composer-label").textContent = channel ? `Message ${channel.is_group_dm ? "" : "#"}${channel.name}` : "Message";
  renderMessages($("messages"), state.messages, state.channel, false);
}

function renderHome() {
  $("home-tabs").hidden = false;
  $("conversation-title").textContent = state.manifest.app_name;
  $("conversation-topic").textContent = "App Home";
  $("tab-home").setAttribute("aria-pressed", String(view.homeTab === "home"));
  $("tab-messages").setAttribute("aria-pressed", String(view.homeTab === "messages"));
  const onHome = view.homeTab === "home";
  $("home-view").hidden = !onHome;
  $("join-bar").hidden = true;
  $("messages").hidden = onHome;
  $("composer").hidden = onHome || state.manifest.messages_read_only;
  $("read-only-note").hidden = onHome || !state.manifest.messages_read_only;
  $("composer-label").textContent = `Message ${state.manifest.app_name}`;
  if (onHome) {
    const home = $("home-view");
    if (!state.manifest.home_tab) {
      home.replaceChildren(el("p", { class: "muted" }, "This app has no Home tab (home_tab_enabled is false in manifest.yml). Its DMs are under Messages."));
    } else if (!state.home) {
      home.replaceChildren(el("p", { class: "muted" }, "Nothing published yet."));
    } else {
      const ctx = { ...context(), onButton: (element, blockId) => act("click", { view_id: state.home.id, action_id: element.action_id, block_id: blockId }) };
      home.replaceChildren(...renderBlocks(state.home.view.blocks, ctx));
      home.dataset.viewId = state.home.id; // which published view is drawn (each publish has a new id)
    }
  } else {
    renderMessages($("messages"), state.channel === state.app_dm ? state.messages : [], state.app_dm, false);
  }
}

function renderMessages(list, messages, channelId, inThread) {
  // Redraw only when what this list shows changed (a redraw would also make screen readers re-read
  // the log), and put keyboard focus back on the same control of the same message afterwards.
  // Times are the reader's: another person (zone) or another hour (today/tomorrow) draws again.
  const drawn = JSON.stringify([channelId, messages, state.manifest.shortcuts, myTimeZone(), (state.clock.now || "").slice(0, 13)]);
  if (list.dataset.content === drawn) return;
  list.dataset.content = drawn;
  const focused = focusedControl(list);
  const ctx = context();
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
  list.replaceChildren(...messages.map((message) => renderMessage(message, channelId, inThread, ctx)));
  restoreFocus(list, focused);
  if (atBottom || !list.dataset.drawn) list.scrollTop = list.scrollHeight;
  list.dataset.drawn = "1";
  const wanted = view.highlight && list.querySelector(`[data-ts="${CSS.escape(view.highlight)}"]`);
  if (wanted) {
    wanted.classList.add("highlight");
    wanted.scrollIntoView({ block: "center" });
    view.highlight = "";
  }
}

function focusedControl(list) {
  const active = document.activeElement;
  const item = active && list.contains(active) ? active.closest("[data-ts]") : null;
  return item && active.dataset.key ? { ts: item.dataset.ts, key: active.dataset.key } : null;
}

function restoreFocus(list, focused) {
  if (!focused) return;
  const item = list.querySelector(`[data-ts="${CSS.escape(focused.ts)}"]`);
  const control = item && item.querySelector(`[data-key="${CSS.escape(focused.key)}"]`);
  if (control) control.focus();
}

function renderMessage(message, channelId, inThread, ctx) {
  const when = new Date(Number(message.ts) * 1000);
  const buttonCtx = { ...ctx, onButton: (element, blockId) => act("click", { channel: channelId, ts: message.ts, action_id: element.action_id, block_id: blockId }) };
  const body = message.blocks.length && !(message.blocks.length === 1 && message.blocks[0].type === "rich_text")
    ? el("div", { class: "blocks" }, renderBlocks(message.blocks, buttonCtx))
    : el("div", { class: "text", html: mrkdwn(message.text, ctx.names) });
  const item = el("li", { class: `message${message.ephemeral ? " ephemeral" : ""}`, "data-ts": message.ts },
    el("div", { class: "meta" },
      el("strong", {}, message.user_name),
      message.is_app ? el("span", { class: "badge" }, "APP") : null,
      el("time", { datetime: when.toISOString() }, when.toLocaleString(undefined, { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", timeZone: ctx.names.timeZone })),
      message.edited ? el("span", { class: "muted" }, "(edited)") : null,
      message.ephemeral ? el("span", { class: "muted" }, "Only visible to you") : null),
    body,
    message.files.length ? el("ul", { class: "files" }, message.files.map((file) =>
      el("li", {}, el("a", { href: file.url, download: file.name }, `📎 ${file.title || file.name}`)))) : null);
  if (!message.ephemeral) {
    item.append(renderReactions(message, channelId));
    const tools = el("div", { class: "message-tools" });
    if (!inThread) {
      tools.append(el("button", { type: "button", "data-key": "thread", onclick: () => openThread(message.ts) },
        message.reply_count ? `${message.reply_count} repl${message.reply_count === 1 ? "y" : "ies"}` : "Reply in thread"));
    }
    tools.append(el("button", { type: "button", "aria-label": "Add reaction", "aria-haspopup": "dialog", "data-key": "add-reaction",
      onclick: (event) => openPicker(event.currentTarget, channelId, message.ts) }, "☺+"));
    for (const shortcut of state.manifest.shortcuts.filter((s) => s.kind === "message")) {
      tools.append(el("button", { type: "button", title: shortcut.description, "data-key": `shortcut:${shortcut.callback_id}`,
        onclick: () => act("shortcut", { channel: channelId, ts: message.ts, callback_id: shortcut.callback_id }) }, shortcut.name));
    }
    item.append(tools);
  }
  return item;
}

function renderReactions(message, channelId) {
  return el("div", { class: "reactions" }, message.reactions.map((reaction) => el("button", {
    type: "button", class: "reaction", "aria-pressed": String(reaction.mine), "data-key": `reaction:${reaction.name}`,
    title: `${reaction.users.join(", ")} reacted with :${reaction.name}:`,
    "aria-label": `${reaction.name}, ${reaction.count} reaction${reaction.count === 1 ? "" : "s"}${reaction.mine ? ", including yours" : ""}`,
    onclick: () => act("react", { channel: channelId, ts: message.ts, name: reaction.name }),
  }, `${emojiFor(reaction.name)} ${reaction.count}`)));
}

function openPicker(anchor, channelId, ts) {
  const picker = $("emoji-picker");
  picker.opener = anchor;
  picker.replaceChildren(...REACTIONS.map(([name, words]) => el("button", {
    type: "button", "aria-label": words, title: `:${name}:`,
    onclick: () => { closePicker(); act("react", { channel: channelId, ts, name }); },
  }, emojiFor(name))));
  const box = anchor.getBoundingClientRect();
  picker.style.top = `${window.scrollY + box.bottom + 4}px`;
  picker.style.left = `${window.scrollX + box.left}px`;
  picker.hidden = false;
  picker.querySelector("button").focus();
}

function closePicker() {
  const picker = $("emoji-picker");
  if (picker.hidden) return;
  picker.hidden = true;
  if (picker.opener && picker.opener.isConnected) picker.opener.focus();
}

function openThread(ts) {
  view.thread = ts;
  writeLocation();
  refresh();
}

function renderThread() {
  const pane = $("thread");
  pane.hidden = !state.thread_ts;
  if (state.thread_ts) renderMessages($("thread-messages"), state.thread, state.channel, true);
}

function renderModal() {
  const dialog = $("modal");
  if (!state.modal) {
    if (dialog.open) dialog.close();
    shownModal = "";
    return;
  }
  const modal = state.modal.view;
  const key = `${state.modal.id}:${modal.hash || ""}:${JSON.stringify(modal.blocks).length}`;
  if (key === shownModal && dialog.open) return; // keep what the person typed
  shownModal = key;
  $("modal-title").textContent = modal.title.text;
  $("modal-close").textContent = modal.close ? modal.close.text : "Cancel";
  $("modal-submit").textContent = modal.submit ? modal.submit.text : "Submit";
  $("modal-submit").hidden = !modal.submit;
  $("modal-error").hidden = true;
  const ctx = { ...context(), inModal: true,
    onButton: (element, blockId) => act("click", { view_id: state.modal.id, action_id: element.action_id, block_id: blockId }) };
  $("modal-body").replaceChildren(...renderBlocks(modal.blocks, ctx));
  if (!dialog.open) dialog.showModal();
  const first = $("modal-body").querySelector("input, textarea, select");
  if (first) first.focus();
}

async function submitModal(event) {
  event.preventDefault();
  const form = $("modal-form");
  for (const error of form.querySelectorAll(".field-error")) { error.hidden = true; error.textContent = ""; }
  for (const control of form.querySelectorAll("[aria-invalid]")) control.removeAttribute("aria-invalid");
  const missing = [...form.querySelectorAll("[data-block-id][required]")].filter(isEmptyInput);
  if (missing.length) {
    for (const control of missing) showFieldError(control.dataset.blockId, "Please fill out this field.");
    (missing[0].matches("fieldset") ? missing[0].querySelector("input") : missing[0]).focus();
    return;
  }
  $("modal-submit").disabled = true; // one submission at a time, as in Slack
  const result = await act("submit", { view_id: state.modal.id, values: formValues(form) }).finally(() => {
    $("modal-submit").disabled = false;
  });
  const errors = result.errors || {};
  for (const [blockId, message] of Object.entries(errors)) showFieldError(blockId, message);
  if (!result.ok && !Object.keys(errors).length && result.error) {
    $("modal-error").textContent = result.error;
    $("modal-error").hidden = false;
  }
}

function showFieldError(blockId, message) {
  const error = document.getElementById(`error-${blockId}`);
  const control = document.getElementById(`input-${blockId}`);
  if (error) { error.textContent = message; error.hidden = false; }
  if (control) {
    control.setAttribute("aria-invalid", "true");
    (control.matches("fieldset") ? control.querySelector("input") : control).focus();
  }
}

// -- composer --------------------------------------------------------------------------------------

function renderHints() {
  const text = $("composer-text").value;
  const hints = $("command-hints");
  if (!text.startsWith("/") || !state) { hints.replaceChildren(); return; }
  const typed = text.split(" ")[0];
  const matches = state.manifest.commands.filter((c) => c.name.startsWith(typed));
  hints.replaceChildren(...matches.map((c) => el("li", {}, el("code", {}, c.name), ` ${c.usage_hint} — ${c.description}`)));
}

async function send(textarea, threadTs) {
  const text = textarea.value;
  if (!text.trim()) return;
  textarea.value = "";
  renderHints();
  const channel = view.home ? state.app_dm : view.channel;
  const result = await act("send", { channel, text, thread_ts: threadTs || null });
  if (!result.ok) textarea.value = text;
}

function composerKeys(event, threadTs) {
  if (event.isComposing || event.keyCode === 229) return; // Enter that confirms an IME composition
  if (event.key === "Enter" && !event.shiftKey) {
    event.preventDefault();
    send(event.currentTarget, threadTs());
  }
}

// -- wiring ----------------------------------------------------------------------------------------

document.addEventListener("DOMContentLoaded", async () => {
  readLocation();
  window.addEventListener("hashchange", () => {
    // A link names a channel (and, with two workspaces, its workspace), not a person: this tab stays
    // who it is, in its own workspace, rather than taking what another tab last stored.
    const { team, user } = view;
    readLocation();
    const named = new URLSearchParams(location.hash.slice(1));
    if (!named.get("team")) view.team = team;
    if (!named.get("user")) view.user = view.team === team ? user : "";
    refresh();
  });
  $("user-select").addEventListener("change", (event) => { view.user = event.target.value; view.thread = ""; writeLocation(); refresh(); });
  $("team-select").addEventListener("change", (event) => {
    // Another workspace: its own people and channels; start at its first person and channel.
    Object.assign(view, { team: event.target.value, user: "", channel: "", thread: "", home: false });
    writeLocation();
    refresh();
  });
  $("composer").addEventListener("submit", (event) => { event.preventDefault(); send($("composer-text"), null); });
  $("composer-text").addEventListener("keydown", (event) => composerKeys(event, () => null));
  $("composer-text").addEventListener("input", renderHints);
  $("thread-composer").addEventListener("submit", (event) => { event.preventDefault(); send($("thread-text"), view.thread); });
  $("thread-text").addEventListener("keydown", (event) => composerKeys(event, () => view.thread));
  $("close-thread").addEventListener("click", () => { view.thread = ""; writeLocation(); refresh(); });
  const openHome = (tab) => { view.home = true; view.homeTab = tab; view.thread = ""; writeLocation(); refresh(); act("home", { tab }); };
  $("open-home").addEventListener("click", () => openHome("home"));
  $("open-app-dm").addEventListener("click", () => openHome("messages"));
  $("tab-home").addEventListener("click", () => openHome("home"));
  $("tab-messages").addEventListener("click", () => openHome("messages"));
  $("join-channel").addEventListener("click", () => act("join", { channel: view.channel }));
  $("modal-form").addEventListener("submit", submitModal);
  const closeModal = () => { if (state && state.modal) act("close", { view_id: state.modal.id }); };
  $("modal-close").addEventListener("click", closeModal);
  $("modal").addEventListener("cancel", (event) => { event.preventDefault(); closeModal(); });
  $("run-jobs").addEventListener("click", async (event) => {
    const button = event.currentTarget;
    button.disabled = true;
    notify("Running scheduled jobs…");
    try {
      const result = await act("jobs", {});
      if (result.ok) notify(result.summary);
    } finally {
      button.disabled = false;
    }
  });
  document.addEventListener("keydown", (event) => {
    if (event.key === "Escape") closePicker();
  });
  document.addEventListener("click", (event) => {
    const picker = $("emoji-picker");
    if (!picker.hidden && !picker.contains(event.target) && !event.target.closest(".message-tools")) closePicker();
  });
  $("emoji-picker").addEventListener("focusout", (event) => {
    if (!$("emoji-picker").contains(event.relatedTarget)) $("emoji-picker").hidden = true;
  });
  // Reloading Slack's client closes the forms that were open: so does reloading this page.
  await act("reload", {});
  loop();
});
