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
  file_cabinet: "🗄️", double_vertical_bar: "⏸️", file_folder: "📁", open_file_folder: "📂", page_facing_up: "📄", scroll: "📜",
  book: "📖", notebook: "📓", ledger: "📒", newspaper: "📰", label: "🏷️", paperclip: "📎",
  heavy_check_mark: "✔️", ballot_box_with_check: "☑️", heavy_plus_sign: "➕", heavy_minus_sign: "➖",
  no_entry: "⛔", no_entry_sign: "🚫", lock: "🔒", unlock: "🔓", key: "🔑", information_source: "ℹ️",
  exclamation: "❗", grey_question: "❔", bangbang: "‼️", arrow_right: "➡️", arrow_left: "⬅️",
  arrows_counterclockwise: "🔄", repeat: "🔁", hourglass_flowing_sand: "⏳", stopwatch: "⏱️", timer_clock: "⏲️",
  clock9: "🕘", date: "📅", tear_off_calendar: "📆", chart_with_upwards_trend: "📈",
  chart_with_downwards_trend: "📉", first_place_medal: "🥇", sports_medal: "🏅", star2: "🌟",
  dizzy: "💫", boom: "💥", 100: "💯", ok_hand: "👌", thumbsdown: "👎", "-1": "👎", point_right: "👉",
  point_up: "☝️", raised_hand: "✋", people_holding_hands: "🧑‍🤝‍🧑", bust_in_silhouette: "👤",
  speaking_head_in_silhouette: "🗣️", mega: "📣", loudspeaker: "📢", email: "📧", envelope: "✉️", inbox_tray: "📥",
  outbox_tray: "📤", mailbox: "📫", bellhop_bell: "🛎️", no_bell: "🔕", gear: "⚙️", wrench: "🔧", hammer: "🔨",
  toolbox: "🧰", test_tube: "🧪", microscope: "🔬", telescope: "🔭", brain: "🧠", candle: "🕯️",
  flashlight: "🔦", compass: "🧭", map: "🗺️", world_map: "🗺️", globe_with_meridians: "🌐", earth_africa: "🌍",
  house: "🏠", office: "🏢", school: "🏫", herb: "🌿", deciduous_tree: "🌳", evergreen_tree: "🌲",
  sunny: "☀️", cloud: "☁️", rainbow: "🌈", snowflake: "❄️", coffee: "☕", tea: "🍵", cake: "🍰", pizza: "🍕",
  smile: "😄", smiley: "😃", grinning: "😀", slightly_smiling_face: "🙂", wink: "😉", joy: "😂", sweat_smile: "😅",
  confused: "😕", disappointed: "😞", cry: "😢", scream: "😱", sunglasses: "😎", nerd_face: "🤓", partying_face: "🥳",
  hugging_face: "🤗", face_with_monocle: "🧐", man_teacher: "👨‍🏫", woman_teacher: "👩‍🏫", teacher: "🧑‍🏫",
  student: "🧑‍🎓", writing_hand: "✍️", jigsaw: "🧩", dart: "🎯", checkered_flag: "🏁",
  triangular_flag_on_post: "🚩", crossed_flags: "🎌", construction: "🚧", rotating_light: "🚨", recycle: "♻️",
  infinity: "♾️", white_circle: "⚪", red_circle: "🔴", large_green_circle: "🟢", large_blue_circle: "🔵",
  large_yellow_circle: "🟡", large_orange_circle: "🟠", white_large_square: "⬜", black_large_square: "⬛",
  new: "🆕", free: "🆓", up: "🆙", cool: "🆒", ok: "🆗", top: "🔝", soon: "🔜", end: "🔚", on: "🔛", back: "🔙",
  play_or_pause_button: "⏯️", arrow_forward: "▶️", fast_forward: "⏩", rewind: "⏪", stop_button: "⏹️",
  record_button: "⏺️", zzz: "💤", sleeping: "😴", eye: "👁️", speech_left: "🗨️", thought_balloon: "💭",
  left_speech_bubble: "🗨️", spiral_note_pad: "🗒️", card_index: "📇", card_index_dividers: "🗂️",
  bookmark_tabs: "📑", graduation_cap: "🎓", abacus: "🧮", money_with_wings: "💸",
  moneybag: "💰", gift: "🎁", balloon: "🎈", confetti_ball: "🎊", sparkle: "❇️", eight_spoked_asterisk: "✳️",
  heavy_exclamation_mark: "❗", negative_squared_cross_mark: "❎", o: "⭕",
  heart_eyes: "😍", yellow_heart: "💛", green_heart: "💚", blue_heart: "💙", purple_heart: "💜",
  orange_heart: "🧡", sparkling_heart: "💖", runner: "🏃", walking: "🚶", bike: "🚲",
  airplane: "✈️", car: "🚗", ship: "🚢", train: "🚆", calling: "📲", phone: "☎️", computer: "💻",
  desktop_computer: "🖥️", keyboard: "⌨️", mouse: "🖱️", floppy_disk: "💾", cd: "💿", dvd: "📀", camera: "📷",
  video_camera: "📹", movie_camera: "🎥", tv: "📺", radio: "📻", headphones: "🎧", microphone: "🎤",
  musical_note: "🎵", notes: "🎶", art: "🎨", performing_arts: "🎭", video_game: "🎮", game_die: "🎲",
  chess_pawn: "♟️", bow: "🙇", see_no_evil: "🙈", hear_no_evil: "🙉", speak_no_evil: "🙊", robot_face: "🤖",
  ghost: "👻", alien: "👽", unicorn_face: "🦄", owl: "🦉", turtle: "🐢", snail: "🐌", bee: "🐝", bug: "🐛",
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

// A link to a message of this workspace (a permalink, .../archives/C1/p1700000000123456, with
// ?thread_ts= for a reply) opens it in the page, as Slack's client does; null for any other URL.
// With two workspaces the link names its own (by the permalink's domain), so it opens there even
// when another tab has switched workspace since.
function inPageLink(url) {
  const permalink = String(url).match(/^(https:\/\/[^/]+\.slack\.com\/)archives\/([A-Z0-9]+)(?:\/p(\d{10})(\d{6}))?\/?(\?[^#]*)?$/);
  if (!permalink) return null;
  const [, home, channel, seconds, micros, query] = permalink;
  const params = new URLSearchParams();
  const workspace = ((typeof state !== "undefined" && state && state.workspaces) || []).find((w) => w.url === home);
  if (workspace) params.set("team", workspace.id);
  params.set("channel", channel);
  const thread = new URLSearchParams(query || "").get("thread_ts");
  if (thread && /^\d+\.\d+$/.test(thread)) params.set("thread", thread);
  if (seconds) params.set("ts", `${seconds}.${micros}`);
  return `#${params}`;
}

// Slack's date tokens (api.slack.com/reference/surfaces/formatting#date-formatting), in `timeZone`
// (the reader's, from users.info); "today"/"yesterday"/"tomorrow" are counted from `now`.
function slackDate(when, tokens, timeZone, now) {
  const zone = { timeZone: timeZone || undefined };
  const format = (options) => when.toLocaleString(undefined, { ...zone, ...options });
  const dayOf = (moment) => {
    const [y, m, d] = new Intl.DateTimeFormat("en-CA", { ...zone, year: "numeric", month: "2-digit", day: "2-digit" })
      .format(moment).split("-").map(Number);
    return { iso: `${y}-${String(m).padStart(2, "0")}-${String(d).padStart(2, "0")}`, number: Date.UTC(y, m - 1, d) / 86400000 };
  };
  const pretty = (otherwise) => {
    const days = dayOf(when).number - dayOf(now ? new Date(now) : new Date()).number;
    return { 0: "today", [-1]: "yesterday", 1: "tomorrow" }[days] || otherwise;
  };
  const shown = {
    date_num: () => dayOf(when).iso,
    date: () => format({ year: "numeric", month: "long", day: "numeric" }),
    date_short: () => format({ year: "numeric", month: "short", day: "numeric" }),
    date_long: () => format({ weekday: "long", year: "numeric", month: "long", day: "numeric" }),
    date_pretty: () => pretty(shown.date()),
    date_short_pretty: () => pretty(shown.date_short()),
    date_long_pretty: () => pretty(shown.date_long()),
    time: () => format({ hour: "numeric", minute: "2-digit" }),
    time_secs: () => format({ hour: "numeric", minute: "2-digit", second: "2-digit" }),
    ago: () => {
      const minutes = Math.round(((now ? new Date(now) : new Date()) - when) / 60000);
      const words = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
      if (Math.abs(minutes) < 60) return words.format(-minutes, "minute");
      if (Math.abs(minutes) < 1440) return words.format(-Math.round(minutes / 60), "hour");
      return words.format(-Math.round(minutes / 1440), "day");
    },
  };
  return tokens.replace(/\{(\w+)\}/g, (whole, token) => (Object.hasOwn(shown, token) ? shown[token]() : whole));
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
    // <!date^unix^{tokens}^optional_link|fallback>: shown in the reader's own time zone, as Slack does.
    const [, stamp, tokens = ""] = target.split("^");
    const when = new Date(Number(stamp) * 1000);
    const shown = Number.isFinite(when.getTime()) && tokens
      ? slackDate(when, decodeSlackEntities(tokens), names.timeZone, names.now)
      : decodeSlackEntities(label || "");
    return `<time datetime="${escapeHtml(Number.isFinite(when.getTime()) ? when.toISOString() : "")}">${escapeHtml(shown)}</time>`;
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
  const inPage = inPageLink(url);
  if (inPage) {
    return `<a href="${escapeHtml(inPage)}" class="permalink">${escapeHtml(decodeSlackEntities(label || target))}</a>`;
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

// names: {users: {id: name}, channels: {id: name}, timeZone, now}: the reader's zone and the
// sandbox's time, for dates.
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
