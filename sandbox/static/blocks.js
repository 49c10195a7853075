// Block Kit to DOM: the blocks and elements Slack draws, for messages, App Home and modals.
// Anything the sandbox cannot draw is shown as a note instead of silently dropped.
"use strict";

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "html") node.innerHTML = value;
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value === true ? "" : value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

function textHtml(textObject, names) {
  if (!textObject) return "";
  return textObject.type === "mrkdwn" ? mrkdwn(textObject.text, names) : plainText(textObject.text);
}

function unsupported(what) {
  return el("p", { class: "unsupported" }, `(${what}: the sandbox does not draw this)`);
}

// ctx: {names, onButton(element, blockId), inModal}
function renderElement(element, blockId, ctx) {
  if (element.type === "button") {
    const classes = ["block-button", element.style || ""].join(" ").trim();
    if (element.url) {
      const url = safeUrl(element.url);
      const inPage = url && inPageLink(url); // a message of this workspace opens here, as in message text
      if (inPage) return el("a", { class: classes, href: inPage, html: plainText(element.text.text) });
      return el("a", { class: classes, href: url, target: "_blank", rel: "noopener noreferrer", html: plainText(element.text.text) });
    }
    return el("button", {
      type: "button", class: classes, html: plainText(element.text.text),
      "data-action-id": element.action_id, onclick: () => ctx.onButton(element, blockId),
    });
  }
  if (element.type === "image") {
    const url = safeUrl(element.image_url || "");
    return el("a", { href: url, target: "_blank", rel: "noopener noreferrer", class: "image-link" }, `🖼 ${element.alt_text || "image"}`);
  }
  if (element.type === "mrkdwn" || element.type === "plain_text") {
    return el("span", { html: textHtml(element, ctx.names) });
  }
  return unsupported(`element ${element.type}`);
}

function renderBlock(block, ctx) {
  const id = block.block_id || "";
  switch (block.type) {
    case "section": {
      const node = el("div", { class: "block section" });
      const main = el("div", { class: "section-main" });
      if (block.text) main.append(el("div", { class: "section-text", html: textHtml(block.text, ctx.names) }));
      if (block.fields) {
        main.append(el("div", { class: "fields" }, block.fields.map((f) => el("div", { html: textHtml(f, ctx.names) }))));
      }
      node.append(main);
      if (block.accessory) node.append(el("div", { class: "accessory" }, renderElement(block.accessory, id, ctx)));
      return node;
    }
    case "header":
      return el("h3", { class: "block header", html: plainText(block.text.text) });
    case "divider":
      return el("hr", { class: "block divider" });
    case "context":
      return el("div", { class: "block context" }, (block.elements || []).map((e) => renderElement(e, id, ctx)));
    case "actions":
      return el("div", { class: "block actions" }, (block.elements || []).map((e) => renderElement(e, id, ctx)));
    case "image": {
      const url = safeUrl(block.image_url || "");
      const title = block.title ? block.title.text + ": " : "";
      return el("p", { class: "block" }, el("a", { href: url, target: "_blank", rel: "noopener noreferrer" }, `🖼 ${title}${block.alt_text}`));
    }
    case "rich_text":
      return el("div", { class: "block", html: mrkdwn(richTextToString(block), ctx.names) });
    case "input":
      return ctx.inModal ? renderInput(block, ctx) : unsupported("input outside a modal");
    default:
      return unsupported(`block ${block.type}`);
  }
}

function richTextToString(block) {
  const out = [];
  for (const section of block.elements || []) {
    for (const item of section.elements || []) {
      if (item.type === "text") out.push(item.text);
      else if (item.type === "user") out.push(`<@${item.user_id}>`);
      else if (item.type === "channel") out.push(`<#${item.channel_id}>`);
      else if (item.type === "link") out.push(item.url);
      else if (item.type === "emoji") out.push(`:${item.name}:`);
    }
    out.push("\n");
  }
  return out.join("").trim();
}

function renderBlocks(blocks, ctx) {
  return (blocks || []).map((block) => renderBlock(block, ctx));
}

// -- modal inputs --------------------------------------------------------------------------------

function renderInput(block, ctx) {
  const element = block.element || {};
  const inputId = `input-${block.block_id}`;
  const errorId = `error-${block.block_id}`;
  const hintId = `hint-${block.block_id}`;
  const label = el("label", { for: inputId }, block.label.text, block.optional ? el("span", { class: "optional" }, " (optional)") : null);
  const described = [block.hint ? hintId : null, errorId].filter(Boolean).join(" ");
  const common = { id: inputId, name: block.block_id, "aria-describedby": described, "data-block-id": block.block_id,
    "data-action-id": element.action_id, "data-type": element.type, required: !block.optional };
  let control;
  switch (element.type) {
    case "plain_text_input": {
      const attrs = { ...common, placeholder: element.placeholder ? element.placeholder.text : null, maxlength: element.max_length };
      control = element.multiline ? el("textarea", { ...attrs, rows: 3 }) : el("input", { ...attrs, type: "text" });
      control.value = element.initial_value || "";
      break;
    }
    case "static_select": {
      control = el("select", common, el("option", { value: "" }, element.placeholder ? element.placeholder.text : "Choose…"));
      for (const option of element.options || []) {
        control.append(el("option", { value: option.value }, option.text.text));
      }
      control.value = element.initial_option ? element.initial_option.value : "";
      break;
    }
    case "conversations_select":
    case "channels_select": {
      control = el("select", common, el("option", { value: "" }, "Choose a channel…"));
      for (const channel of ctx.channels) control.append(el("option", { value: channel.id }, `${channel.is_private ? "🔒" : "#"} ${channel.name}`));
      const initial = element.initial_conversation || element.initial_channel ||
        (element.default_to_current_conversation ? ctx.currentChannel : "");
      control.value = initial || "";
      break;
    }
    case "users_select":
    case "multi_users_select": {
      // A list of the workspace's people (Ctrl- or Cmd-click for several), as Slack's people picker.
      const multiple = element.type === "multi_users_select";
      const initial = new Set(multiple ? element.initial_users || [] : [element.initial_user].filter(Boolean));
      control = el("select", { ...common, multiple, size: multiple ? Math.min(6, ctx.users.length) : null },
        multiple ? null : el("option", { value: "" }, element.placeholder ? element.placeholder.text : "Choose a person…"));
      for (const user of ctx.users) {
        control.append(el("option", { value: user.id, selected: initial.has(user.id) }, user.real_name || user.name));
      }
      break;
    }
    case "timepicker":
      control = el("input", { ...common, type: "time" });
      control.value = element.initial_time || "";
      break;
    case "datepicker":
      control = el("input", { ...common, type: "date" });
      control.value = element.initial_date || "";
      break;
    case "checkboxes": {
      // A group, named by its legend; each box keeps its option to send back as Slack does.
      const chosen = new Set((element.initial_options || []).map((option) => option.value));
      const boxes = (element.options || []).map((option) => el("label", { class: "choice" },
        el("input", { type: "checkbox", value: option.value, "data-option": JSON.stringify(option), checked: chosen.has(option.value) }),
        ` ${option.text.text}`,
        option.description ? el("span", { class: "hint" }, ` ${option.description.text}`) : null));
      const legend = el("legend", {}, block.label.text, block.optional ? el("span", { class: "optional" }, " (optional)") : null);
      return el("fieldset", { ...common, class: "field choices" }, legend, boxes,
        block.hint ? el("p", { class: "hint", id: hintId }, block.hint.text) : null,
        el("p", { class: "field-error", id: errorId, role: "alert", hidden: true }));
    }
    default:
      return el("div", { class: "field" }, label, unsupported(`input ${element.type}`));
  }
  return el("div", { class: "field" }, label, control,
    block.hint ? el("p", { class: "hint", id: hintId }, block.hint.text) : null,
    el("p", { class: "field-error", id: errorId, role: "alert", hidden: true }));
}

// Whether a required input is left empty (no box ticked, for checkboxes).
function isEmptyInput(control) {
  if (control.dataset.type === "checkboxes") return !control.querySelector("input:checked");
  if (control.dataset.type === "multi_users_select") return control.selectedOptions.length === 0;
  return !control.value.trim();
}

// state.values, as Slack's client builds it from the form.
function formValues(form) {
  const values = {};
  for (const control of form.querySelectorAll("[data-block-id]")) {
    const type = control.dataset.type;
    const raw = control.value;
    let state = { type };
    if (type === "plain_text_input") state.value = raw === "" ? null : raw;
    else if (type === "static_select") {
      state.selected_option = raw === "" ? null : { text: { type: "plain_text", text: control.selectedOptions[0].textContent }, value: raw };
    } else if (type === "conversations_select") state.selected_conversation = raw || null;
    else if (type === "channels_select") state.selected_channel = raw || null;
    else if (type === "timepicker") state.selected_time = raw || null;
    else if (type === "datepicker") state.selected_date = raw || null;
    else if (type === "users_select") state.selected_user = raw || null;
    else if (type === "multi_users_select") state.selected_users = [...control.selectedOptions].map((option) => option.value);
    else if (type === "checkboxes") {
      state.selected_options = [...control.querySelectorAll("input:checked")].map((box) => JSON.parse(box.dataset.option));
    }
    values[control.dataset.blockId] = { [control.dataset.actionId]: state };
  }
  return values;
}
