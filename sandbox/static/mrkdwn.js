// Slack mrkdwn to safe HTML. Slack text holds real angle brackets only around references
// (<@U1>, <#C1|name>, <!here>, <https://x|label>); the text a person wrote arrives with &, < and >
// as &amp; &lt; &gt;. So: split on references, decode the three entities, escape everything for
// HTML, and only then add formatting. Nothing a user wrote can become markup.
"use strict";

const EMOJI = {
  bulb: "💡", "+1": "👍", thumbsup: "👍", heart: "❤️", raised_hands: "🙌", tada: "🎉", eyes: "👀",
  rocket: "🚀", white_check_mark: "✅", fire: "🔥", wave: "👋", sparkles: "✨", star: "⭐",
  books: "📚", seedling: "🌱", memo: "📝", calendar: "📅", speech_balloon: "💬", handshake: "🤝",
  trophy: "🏆", mag: "🔍", warning: "⚠️", x: "❌", pray: "🙏", clap: "👏", thinking_face: "🤔",
  hourglass: "⌛", bell: "🔔", link: "🔗", pushpin: "📌", question: "❓", muscle: "💪",
  wastebasket: "🗑️", sunrise: "🌅", clipboard: "📋", busts_in_silhouette: "👥", bar_chart: "📊",
  medal: "🏅", spiral_calendar_pad: "🗓️", raising_hand: "🙋", zap: "⚡", mortar_board: "🎓", thread: "🧵",
  alarm_clock: "⏰", card_file_box: "🗃️", pause_button: "⏸️",
  calendar_spiral: "🗓️", hammer_and_wrench: "🛠️", bookmark: "🔖", pencil: "✏️", sos: "🆘",
};

function emojiFor(name) {
  return EMOJI[name] || `:${name}:`;
}

function escapeHtml(text) {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;").replace(/'/g, "&#39;");
}

function decodeSlackEntities(text) {
  return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

function safeUrl(url) {
  return /^(https?:|mailto:)/i.test(url) ? url : null;
}

function reference(inner, names) {
  const bar = inner.indexOf("|"); // the label may hold more bars: only the first one separates
  const [target, label] = bar < 0 ? [inner, ""] : [inner.slice(0, bar), inner.slice(bar + 1)];
  if (target.startsWith("@")) {
    const id = target.slice(1);
    return `<span class="mention">@${escapeHtml(label || names.users[id] || id)}</span>`;
  }
  if (target.startsWith("#")) {
    const id = target.slice(1);
    return `<span class="mention">#${escapeHtml(label || names.channels[id] || id)}</span>`;
  }
  if (target.startsWith("!date^")) {
    // <!date^unix^{tokens}^optional_link|fallback>: the fallback text is what a reader sees.
    const [, stamp, tokens = ""] = target.split("^");
    const when = new Date(Number(stamp) * 1000);
    const withTime = tokens.includes("{time");
    const shown = Number.isFinite(when.getTime())
      ? (withTime ? when.toLocaleString(undefined, { dateStyle: "medium", timeStyle: "short" }) : when.toLocaleDateString())
      : label;
    return `<time>${escapeHtml(decodeSlackEntities(shown || label || ""))}</time>`;
  }
  if (target.startsWith("!subteam^")) {
    return `<span class="mention">${escapeHtml(decodeSlackEntities(label || "@group"))}</span>`;
  }
  if (target.startsWith("!")) {
    const special = target.slice(1).split("^")[0];
    return `<span class="mention">@${escapeHtml(label || special)}</span>`;
  }
  const url = safeUrl(decodeSlackEntities(target));
  if (!url) return escapeHtml(decodeSlackEntities(label || target));
  const permalink = url.match(/^https:\/\/[^/]+\.slack\.com\/archives\/([A-Z0-9]+)\/p(\d{10})(\d{6})/);
  if (permalink) {
    // A link to a message in this workspace opens it here, as Slack's client does.
    const [, channel, seconds, micros] = permalink;
    const href = `#channel=${channel}&ts=${seconds}.${micros}`;
    return `<a href="${escapeHtml(href)}" class="permalink">${escapeHtml(decodeSlackEntities(label || target))}</a>`;
  }
  return `<a href="${escapeHtml(url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(decodeSlackEntities(label || target))}</a>`;
}

function formatInline(html) {
  return html
    .replace(/(^|[\s(])\*([^*\n]+)\*(?=$|[\s).,!?:;])/g, "$1<strong>$2</strong>")
    .replace(/(^|[\s(])_([^_\n]+)_(?=$|[\s).,!?:;])/g, "$1<em>$2</em>")
    .replace(/(^|[\s(])~([^~\n]+)~(?=$|[\s).,!?:;])/g, "$1<del>$2</del>")
    .replace(/:([a-z0-9_+'-]+):/g, (whole, name) => (EMOJI[name] ? EMOJI[name] : whole));
}

// names: {users: {id: name}, channels: {id: name}}
function mrkdwn(text, names) {
  const parts = String(text).split(/(<[^<>]+>)/);
  const slots = [];
  let joined = "";
  for (const part of parts) {
    if (part.startsWith("<") && part.endsWith(">") && part.length > 2) {
      slots.push(reference(part.slice(1, -1), names));
      joined += `\u0000${slots.length - 1}\u0000`;
    } else {
      joined += escapeHtml(decodeSlackEntities(part));
    }
  }
  // Code first, so nothing inside it is formatted.
  const code = [];
  joined = joined.replace(/```([\s\S]*?)```/g, (_, body) => {
    code.push(`<pre>${body.replace(/^\n/, "")}</pre>`);
    return `\u0001${code.length - 1}\u0001`;
  });
  joined = joined.replace(/`([^`\n]+)`/g, (_, body) => {
    code.push(`<code>${body}</code>`);
    return `\u0001${code.length - 1}\u0001`;
  });
  const lines = joined.split("\n").map((line) => {
    const quoted = line.startsWith("&gt; ") || line === "&gt;";
    const body = formatInline(quoted ? line.replace(/^&gt; ?/, "") : line);
    return quoted ? `<blockquote>${body}</blockquote>` : body;
  });
  let html = lines.join("<br>").replace(/<\/blockquote><br><blockquote>/g, "<br>");
  html = html.replace(/\u0001(\d+)\u0001/g, (_, i) => code[Number(i)]);
  html = html.replace(/\u0000(\d+)\u0000/g, (_, i) => slots[Number(i)]);
  return html;
}

function plainText(text) {
  return escapeHtml(String(text)).replace(/:([a-z0-9_+'-]+):/g, (whole, name) => (EMOJI[name] ? EMOJI[name] : whole));
}
