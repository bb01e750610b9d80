// The Slack playground page: a channel view that renders the bot's Block Kit answers.
//
// Safety rule for this file: every piece of data reaches the page through textContent or
// createTextNode (via h() below); nothing is ever assigned to innerHTML. Links only get
// http(s)/mailto hrefs.
"use strict";

(() => {
  // ---------------------------------------------------------------- state

  const view = {
    data: null,            // the last /playground/state answer
    version: -1,
    channelId: "C0GENERAL",
    threadTs: null,        // the open thread's parent ts
    stickToBottom: true,
    showHome: false,       // the app's Home tab instead of a channel
    modalKey: null,        // which modal version is drawn (typed text survives a re-poll)
  };

  // ---------------------------------------------------------------- DOM helpers

  function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [key, value] of Object.entries(props || {})) {
      if (value === undefined || value === null || value === false) continue;
      if (key === "class") el.className = value;
      else if (key === "dataset") Object.assign(el.dataset, value);
      else if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
      else el.setAttribute(key, value === true ? "" : String(value));
    }
    appendAll(el, children);
    return el;
  }

  function appendAll(el, children) {
    for (const child of children.flat(Infinity)) {
      if (child === null || child === undefined || child === false) continue;
      el.append(child instanceof Node ? child : String(child)); // strings become text nodes
    }
  }

  const $ = (id) => document.getElementById(id);

  function safeHref(url) {
    try {
      const parsed = new URL(url);
      return ["http:", "https:", "mailto:"].includes(parsed.protocol) ? parsed.href : null;
    } catch {
      return null;
    }
  }

  // ---------------------------------------------------------------- talking to the playground

  async function postJson(path, body) {
    const response = await fetch(path, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body),
    });
    let data = {};
    try {
      data = await response.json();
    } catch {
      // an empty or non-JSON answer: keep {}
    }
    if (!response.ok) throw new Error(data.error || `HTTP ${response.status}`);
    return data;
  }

  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  async function pollForever() {
    // Long-poll: the server answers at once when something changed since `version`,
    // otherwise after up to 15 s.
    for (;;) {
      try {
        const response = await fetch(`playground/state?since=${view.version}`, { cache: "no-store" });
        if (!response.ok) throw new Error(`HTTP ${response.status}`);
        const data = await response.json();
        if (data.version !== view.version) {
          view.version = data.version;
          view.data = data;
          render();
        }
      } catch (problem) {
        showStatus("composer-status", `Lost contact with the playground server (${problem.message}); retrying…`, "error");
        await sleep(1500);
      }
    }
  }

  function describeExchange(what, exchange) {
    if (exchange.status === 0) return [`${what}: the bot could not be reached.`, "error"];
    if (!exchange.acked_in_time) {
      const why = exchange.status === 200 ? `acked too late (${exchange.elapsed_ms} ms > 3 s)` : `answered HTTP ${exchange.status}`;
      return [`${what}: the bot ${why}.`, "error"];
    }
    return [`${what}: the bot acked in ${exchange.elapsed_ms} ms.`, "ok"];
  }

  async function runAction(statusId, what, path, body) {
    showStatus(statusId, `${what}…`, "pending");
    try {
      const exchange = await postJson(path, body);
      showStatus(statusId, ...describeExchange(what, exchange));
      return exchange;
    } catch (problem) {
      showStatus(statusId, problem.message, "error");
      return null;
    }
  }

  function showStatus(id, text, kind) {
    const el = $(id);
    el.textContent = text;
    el.dataset.kind = kind;
  }

  // ---------------------------------------------------------------- names

  function userName(id) {
    const user = view.data && view.data.users[id];
    return user ? user.name : id;
  }

  function authorName(message) {
    const user = view.data.users[message.user_id];
    return user ? user.real_name : message.user_id || "unknown";
  }

  function channelById(id) {
    return view.data.channels.find((channel) => channel.id === id);
  }

  function channelLabel(channel) {
    if (channel.dm_with) return `💬 ${userName(channel.dm_with)}`;
    return `${channel.is_private ? "🔒 " : "#"}${channel.name}`;
  }

  // ---------------------------------------------------------------- emoji

  const EMOJI = {
    white_check_mark: "✅", heavy_check_mark: "✔️", check: "✔️", ballot_box_with_check: "☑️",
    x: "❌", heavy_multiplication_x: "✖️", negative_squared_cross_mark: "❎",
    hourglass_flowing_sand: "⏳", hourglass: "⌛", seedling: "🌱", no_entry_sign: "🚫",
    no_entry: "⛔", grey_question: "❔", question: "❓", grey_exclamation: "❕",
    exclamation: "❗", warning: "⚠️", mag: "🔍", mag_right: "🔎", pencil2: "✏️", pencil: "📝",
    memo: "📝", lock: "🔒", unlock: "🔓", key: "🔑", snail: "🐌", electric_plug: "🔌",
    test_tube: "🧪", arrows_counterclockwise: "🔄", arrows_clockwise: "🔃", repeat: "🔁",
    busts_in_silhouette: "👥", bust_in_silhouette: "👤", office: "🏢", bank: "🏦",
    clock1: "🕐", clock2: "🕑", clock3: "🕒", clock4: "🕓", clock12: "🕛", alarm_clock: "⏰",
    stopwatch: "⏱️", timer_clock: "⏲️", link: "🔗", paperclip: "📎", page_facing_up: "📄",
    page_with_curl: "📃", clipboard: "📋", file_folder: "📁", card_index: "📇",
    id: "🆔", iphone: "📱", phone: "☎️", telephone_receiver: "📞", email: "📧",
    envelope: "✉️", bell: "🔔", no_bell: "🔕", loudspeaker: "📢", mega: "📣",
    information_source: "ℹ️", bulb: "💡", zap: "⚡", fire: "🔥", boom: "💥", sparkles: "✨",
    star: "⭐", tada: "🎉", rocket: "🚀", robot_face: "🤖", gear: "⚙️", wrench: "🔧",
    hammer_and_wrench: "🛠️", construction: "🚧", rotating_light: "🚨", sos: "🆘",
    red_circle: "🔴", large_orange_circle: "🟠", large_yellow_circle: "🟡",
    large_green_circle: "🟢", large_blue_circle: "🔵", white_circle: "⚪", black_circle: "⚫",
    large_blue_diamond: "🔷", small_blue_diamond: "🔹", small_orange_diamond: "🔸",
    arrow_right: "➡️", arrow_left: "⬅️", arrow_up: "⬆️", arrow_down: "⬇️",
    leftwards_arrow_with_hook: "↩️", arrow_forward: "▶️", fast_forward: "⏩",
    pause_button: "⏸️", stop_button: "⏹️", recycle: "♻️", heavy_plus_sign: "➕",
    heavy_minus_sign: "➖", thumbsup: "👍", "+1": "👍", thumbsdown: "👎", "-1": "👎",
    ok_hand: "👌", wave: "👋", eyes: "👀", raised_hands: "🙌", pray: "🙏", point_right: "👉",
    point_down: "👇", smile: "😄", slightly_smiling_face: "🙂", thinking_face: "🤔",
    face_with_monocle: "🧐", sweat_smile: "😅", cry: "😢", shrug: "🤷", sleeping: "😴",
    ghost: "👻", skull: "💀", shield: "🛡️", passport_control: "🛂", scroll: "📜",
    receipt: "🧾", chart_with_upwards_trend: "📈", chart_with_downwards_trend: "📉",
    bar_chart: "📊", calendar: "📆", date: "📅", spiral_calendar_pad: "🗓️",
    inbox_tray: "📥", outbox_tray: "📤", package: "📦", globe_with_meridians: "🌐",
    satellite_antenna: "📡", signal_strength: "📶", battery: "🔋", floppy_disk: "💾",
    cn: "🇨🇳", flag_cn: "🇨🇳", speech_balloon: "💬", thought_balloon: "💭",
    heavy_dollar_sign: "💲", moneybag: "💰", credit_card: "💳", hash: "#️⃣", one: "1️⃣",
    two: "2️⃣", three: "3️⃣", new: "🆕", free: "🆓", up: "🆙", cool: "🆒", ok: "🆗",
  };

  function withEmoji(text) {
    // Unknown shortcodes stay as typed, as Slack shows them.
    return text.replace(/:([a-z0-9_+'-]+):(?::skin-tone-\d:)?/g, (whole, name) => EMOJI[name] || whole);
  }

  // Slack escapes exactly these three in message text.
  function decodeEntities(text) {
    return text.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
  }

  // ---------------------------------------------------------------- dates: <!date^…>

  const LOCALE = "en-US";

  function ordinal(n) {
    const tail = n % 100;
    if (tail >= 11 && tail <= 13) return `${n}th`;
    return `${n}${{ 1: "st", 2: "nd", 3: "rd" }[n % 10] || "th"}`;
  }

  function dayNumber(date) {
    // Days since the epoch in the browser's own time zone.
    return Math.floor(Date.UTC(date.getFullYear(), date.getMonth(), date.getDate()) / 86400000);
  }

  function prettyDay(date, otherwise) {
    const delta = dayNumber(date) - dayNumber(new Date());
    return { 0: "today", [-1]: "yesterday", 1: "tomorrow" }[delta] || otherwise;
  }

  function agoText(date) {
    const seconds = Math.round((date.getTime() - Date.now()) / 1000);
    const units = [["year", 31536000], ["month", 2592000], ["week", 604800], ["day", 86400], ["hour", 3600], ["minute", 60], ["second", 1]];
    const format = new Intl.RelativeTimeFormat(LOCALE, { numeric: "auto" });
    for (const [unit, size] of units) {
      if (Math.abs(seconds) >= size || unit === "second") return format.format(Math.round(seconds / size), unit);
    }
    return "";
  }

  function formatDateToken(token, date) {
    const part = (options) => new Intl.DateTimeFormat(LOCALE, options).format(date);
    const month = part({ month: "long" });
    const year = part({ year: "numeric" });
    const day = ordinal(date.getDate());
    const long = `${part({ weekday: "long" })}, ${month} ${day}, ${year}`;
    const plain = `${month} ${day}, ${year}`;
    const short = part({ month: "short", day: "numeric", year: "numeric" });
    switch (token) {
      case "date_num": {
        const pad = (n) => String(n).padStart(2, "0");
        return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
      }
      case "date": return plain;
      case "date_short": return short;
      case "date_long": return long;
      case "date_pretty": return prettyDay(date, plain);
      case "date_short_pretty": return prettyDay(date, short);
      case "date_long_pretty": return prettyDay(date, long);
      case "time": return part({ hour: "numeric", minute: "2-digit" });
      case "time_secs": return part({ hour: "numeric", minute: "2-digit", second: "2-digit" });
      case "ago": return agoText(date);
      default: return null;
    }
  }

  function renderDateToken(spec, fallback) {
    // spec: "<unix seconds>^<format with {tokens}>[^<link>]"
    const [seconds, format = "", link] = spec.split("^");
    if (!/^-?\d+$/.test(seconds)) return document.createTextNode(decodeEntities(fallback || spec));
    const date = new Date(Number(seconds) * 1000);
    const text = decodeEntities(format).replace(/\{(\w+)\}/g, (whole, token) => formatDateToken(token, date) ?? whole);
    const full = new Intl.DateTimeFormat(LOCALE, { dateStyle: "full", timeStyle: "long" }).format(date);
    const href = link ? safeHref(decodeEntities(link)) : null;
    return href
      ? h("a", { class: "bk-date", href, target: "_blank", rel: "noopener noreferrer", title: full, "data-unix": seconds }, text)
      : h("time", { class: "bk-date", datetime: date.toISOString(), title: full, "data-unix": seconds }, text);
  }

  // ---------------------------------------------------------------- mrkdwn

  // Placeholders stand in for already-built nodes (code spans, links, mentions) while the
  // emphasis markers around them are parsed. Private-use characters never occur in Slack text.
  const OPEN = "\uE000";
  const CLOSE = "\uE001";
  const PLACEHOLDER = /\uE000(\d+)\uE001/;
  const BEFORE = String.raw`(?<=^|[\s(\[{"'“‘>/\uE001.,;:!?-])`;
  const AFTER = String.raw`(?=$|[\s)\]}"'”’<\uE000.,;:!?/-])`;
  const EMPHASIS = new RegExp(`${BEFORE}([*_~])(?!\\s|\\1)([^\\n]*?[^\\s])\\1${AFTER}`, "g");
  const TAGS = { "*": "strong", _: "em", "~": "del" };

  function renderMrkdwn(source) {
    const fragment = document.createDocumentFragment();
    // ```preformatted``` blocks first: nothing inside them is formatted.
    const pieces = source.split(/```([\s\S]*?)```/);
    pieces.forEach((piece, index) => {
      if (index % 2 === 1) {
        fragment.append(h("pre", { class: "mrkdwn-pre" }, decodeEntities(piece.replace(/^\n/, ""))));
      } else if (piece) {
        renderLines(piece, fragment);
      }
    });
    return fragment;
  }

  function renderLines(text, into) {
    // Lines starting with ">" (or its escaped form) are block quotes.
    let quote = null;
    const lines = text.split("\n");
    lines.forEach((line, index) => {
      const quoted = line.match(/^(?:&gt;|>)\s?(.*)$/);
      if (quoted) {
        if (!quote) {
          quote = h("blockquote", { class: "mrkdwn-quote" });
          into.append(quote);
        } else {
          quote.append("\n");
        }
        renderInline(quoted[1], quote);
        return;
      }
      quote = null;
      renderInline(line, into);
      if (index < lines.length - 1) into.append("\n");
    });
  }

  function renderInline(text, into) {
    const nodes = [];
    const keep = (node) => `${OPEN}${nodes.push(node) - 1}${CLOSE}`;
    const marked = text
      .replace(/`([^`\n]+)`/g, (whole, code) => keep(h("code", { class: "mrkdwn-code" }, decodeEntities(code))))
      .replace(/<([^<>\n]+)>/g, (whole, inner) => keep(renderAngle(inner)));
    emphasize(marked, into, nodes);
  }

  function emphasize(text, into, nodes) {
    let last = 0;
    for (const match of text.matchAll(EMPHASIS)) {
      leaf(text.slice(last, match.index), into, nodes);
      const el = h(TAGS[match[1]]);
      emphasize(match[2], el, nodes);
      into.append(el);
      last = match.index + match[0].length;
    }
    leaf(text.slice(last), into, nodes);
  }

  function leaf(text, into, nodes) {
    text.split(PLACEHOLDER).forEach((piece, index) => {
      if (index % 2 === 1) into.append(nodes[Number(piece)]);
      else if (piece) into.append(withEmoji(decodeEntities(piece)));
    });
  }

  function renderAngle(inner) {
    // Slack's special tokens: <@U…>, <#C…|name>, <!here>, <!date^…|…>, <url|label>.
    const bar = inner.indexOf("|");
    const target = bar >= 0 ? inner.slice(0, bar) : inner;
    const label = bar >= 0 ? inner.slice(bar + 1) : null;
    if (target.startsWith("@")) {
      return h("span", { class: "mention" }, `@${label ? decodeEntities(label) : userName(target.slice(1))}`);
    }
    if (target.startsWith("#")) {
      const channel = view.data && channelById(target.slice(1));
      return h("span", { class: "mention" }, `#${label ? decodeEntities(label) : channel ? channel.name : target.slice(1)}`);
    }
    if (target.startsWith("!date^")) return renderDateToken(target.slice("!date^".length), label);
    if (target.startsWith("!subteam^")) return h("span", { class: "mention" }, decodeEntities(label || "@group"));
    if (["!here", "!channel", "!everyone"].includes(target)) {
      return h("span", { class: "mention broadcast" }, `@${target.slice(1)}`);
    }
    if (target.startsWith("!")) return document.createTextNode(decodeEntities(label || target));
    const href = safeHref(decodeEntities(target));
    const text = withEmoji(decodeEntities(label || target));
    return href
      ? h("a", { href, target: "_blank", rel: "noopener noreferrer" }, text)
      : document.createTextNode(text);
  }

  // ---------------------------------------------------------------- Block Kit

  function renderText(obj) {
    if (!obj || typeof obj.text !== "string") return null;
    if (obj.type === "mrkdwn") return renderMrkdwn(obj.text);
    return document.createTextNode(obj.emoji === false ? obj.text : withEmoji(obj.text));
  }

  function renderBlocks(blocks, message) {
    return h("div", { class: "blocks" }, blocks.map((block) =>
      block.type === "input" ? renderInput(block, message.errors) : renderBlock(block, message)));
  }

  function renderBlock(block, message) {
    switch (block.type) {
      case "header":
        return h("div", { class: "bk-header", role: "heading", "aria-level": "3" }, renderText(block.text));
      case "section":
        return h("div", { class: "bk-section" },
          h("div", { class: "bk-section-main" },
            block.text ? h("div", { class: "bk-text" }, renderText(block.text)) : null,
            block.fields ? h("div", { class: "bk-fields" }, block.fields.map((field) => h("div", { class: "bk-field" }, renderText(field)))) : null),
          block.accessory ? h("div", { class: "bk-accessory" }, renderElement(block.accessory, block, message)) : null);
      case "context":
        return h("div", { class: "bk-context" }, (block.elements || []).map((element) =>
          element.type === "image"
            ? h("span", { class: "bk-image-alt", title: element.alt_text || "" }, "🖼")
            : h("span", { class: "bk-context-item" }, renderText(element))));
      case "divider":
        return h("hr", { class: "bk-divider" });
      case "actions":
        return h("div", { class: "bk-actions" }, (block.elements || []).map((element) => renderElement(element, block, message)));
      case "image":
        return h("div", { class: "bk-image" }, `🖼 ${block.alt_text || "image"}`);
      case "rich_text":
        return h("div", { class: "bk-text" }, renderMrkdwn(message.text));
      default:
        return h("div", { class: "bk-unsupported" }, `[${block.type} block]`);
    }
  }

  function renderElement(element, block, message) {
    if (element.type === "button") {
      const button = h("button", {
        type: "button",
        class: `bk-button ${element.style || ""}`.trim(),
        "data-action-id": element.action_id,
        title: element.url ? element.url : null,
      }, renderText(element.text));
      button.addEventListener("click", () => clickButton(button, element, message));
      return button;
    }
    if (element.type === "image") return h("span", { class: "bk-image-alt" }, `🖼 ${element.alt_text || ""}`);
    if (element.type === "radio_buttons" && message.view_id) {
      const chosen = element.initial_option && element.initial_option.value;
      const name = `${message.view_id}-${element.action_id}`;
      return h("div", { class: "bk-radios", role: "radiogroup" }, (element.options || []).map((option) => {
        const input = h("input", { type: "radio", name, value: option.value, checked: option.value === chosen });
        input.addEventListener("change", () => runAction(message.statusId, `Picked “${option.text.text}”`,
          "playground/view_click", { view_id: message.view_id, action_id: element.action_id, option: option.value }));
        return h("label", {}, input, " ", renderText(option.text));
      }));
    }
    return h("span", { class: "bk-unsupported" }, `[${element.type}]`);
  }

  function renderInput(block, errors) {
    // An input block of a modal: a text field or a conversation picker, named by block_id.
    const element = block.element || {};
    const id = `input-${block.block_id}`;
    let field;
    if (element.type === "conversations_select") {
      field = h("select", { id, "data-block-id": block.block_id },
        h("option", { value: "" }, element.placeholder ? element.placeholder.text : "—"),
        view.data.channels.map((channel) => h("option", { value: channel.id }, channelLabel(channel))));
    } else {
      field = h("textarea", { id, "data-block-id": block.block_id, rows: element.multiline ? 3 : 1,
        placeholder: element.placeholder ? element.placeholder.text : null });
    }
    const error = errors && errors[block.block_id];
    return h("div", { class: "bk-input" },
      h("label", { for: id }, block.label ? block.label.text : block.block_id,
        block.optional ? h("span", { class: "optional" }, " (optional)") : null),
      field,
      error ? h("div", { class: "bk-error", role: "alert" }, error) : null,
      block.hint ? h("div", { class: "bk-hint" }, renderText(block.hint)) : null);
  }

  async function clickButton(button, element, message) {
    if (element.url) {
      const href = safeHref(element.url);
      if (href) window.open(href, "_blank", "noopener,noreferrer");
    }
    button.disabled = true;
    const label = element.text && element.text.text ? element.text.text : element.action_id;
    if (message.view_id) {
      // A button in a modal or the Home tab: block_actions from that view.
      await runAction(message.statusId, `Clicked “${label}”`, "playground/view_click", {
        view_id: message.view_id, action_id: element.action_id, value: element.value,
      });
      button.disabled = false;
      return;
    }
    const statusId = message.thread_ts ? "thread-status" : "composer-status";
    await runAction(statusId, `Clicked “${label}”`, "playground/click", {
      channel_id: message.channel_id,
      message_ts: message.ts,
      action_id: element.action_id,
    });
    button.disabled = false;
  }

  // ---------------------------------------------------------------- messages

  function formatTs(ts) {
    const date = new Date(Number(ts) * 1000);
    return [
      new Intl.DateTimeFormat(LOCALE, { hour: "numeric", minute: "2-digit" }).format(date),
      new Intl.DateTimeFormat(LOCALE, { dateStyle: "full", timeStyle: "medium" }).format(date),
    ];
  }

  function renderMessage(message, { inThread }) {
    const [time, fullTime] = formatTs(message.ts);
    const viewer = view.data.viewer;
    const ephemeral = message.ephemeral_to !== null;
    const classes = ["message", message.bot ? "from-bot" : "from-person", ephemeral ? "ephemeral" : ""].join(" ");
    const initial = (authorName(message) || "?").trim().charAt(0).toUpperCase();

    const meta = h("div", { class: "meta" },
      h("span", { class: "author" }, authorName(message)),
      message.bot ? h("span", { class: "app-badge" }, "APP") : null,
      h("time", { class: "sent-at", title: fullTime, datetime: new Date(Number(message.ts) * 1000).toISOString() }, time),
      message.edited && !ephemeral ? h("span", { class: "edited" }, "(edited)") : null);

    const ephemeralNote = ephemeral
      ? h("div", { class: "ephemeral-note" },
          h("span", { "aria-hidden": "true" }, "👁 "),
          message.ephemeral_to === viewer ? "Only visible to you" : `Only visible to @${userName(message.ephemeral_to)}`,
          message.ephemeral_to === viewer
            ? h("button", { type: "button", class: "link-button dismiss", onclick: () => dismiss(message) }, "Dismiss")
            : null)
      : null;

    const content = message.blocks && message.blocks.length
      ? renderBlocks(message.blocks, message)
      : h("div", { class: "bk-text" }, renderMrkdwn(message.text));

    // chat.unfurl's previews, each under a bar as Slack draws an attachment.
    const unfurls = (message.unfurls || []).map((unfurl) =>
      h("div", { class: "unfurl", dataset: { url: unfurl.url } }, renderBlocks(unfurl.blocks || [], message)));

    const replies = !inThread && message.reply_count > 0
      ? h("button", { type: "button", class: "link-button replies", onclick: () => openThread(message.channel_id, message.ts) },
          `${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}`)
      : null;

    const actions = ephemeral ? null : h("div", { class: "hover-actions" },
      !inThread && !message.thread_ts
        ? h("button", { type: "button", class: "icon-button", title: "Reply in thread", "aria-label": "Reply in thread",
            onclick: () => openThread(message.channel_id, message.ts) }, "💬")
        : null,
      h("button", { type: "button", class: "icon-button more-button", title: "More actions", "aria-label": "More actions",
        onclick: (event) => openMenu(event, message, inThread) }, "⋯"));

    return h("div", { class: classes, dataset: { ts: message.ts } },
      h("div", { class: `avatar ${message.bot ? "bot-avatar" : ""}`, "aria-hidden": "true" }, message.bot ? "✍" : initial),
      h("div", { class: "message-body" }, meta, ephemeralNote, content, ...unfurls, replies),
      actions);
  }

  function openMenu(event, message, inThread) {
    event.stopPropagation();
    const menu = $("menu");
    menu.replaceChildren(
      h("div", { class: "menu-title" }, "Message shortcuts"),
      h("button", { type: "button", role: "menuitem", class: "menu-item",
        onclick: () => { closeMenu(); runShortcut(message, inThread); } },
        h("strong", {}, "Run message shortcut"),
        h("span", { class: "menu-sub" }, view.data.shortcut.name)));
    const rect = event.currentTarget.getBoundingClientRect();
    menu.hidden = false;
    const left = Math.max(8, Math.min(rect.right - menu.offsetWidth, window.innerWidth - menu.offsetWidth - 8));
    menu.style.left = `${left}px`;
    menu.style.top = `${Math.min(rect.bottom + 4, window.innerHeight - menu.offsetHeight - 8)}px`;
    menu.querySelector("button").focus();
  }

  function closeMenu() {
    $("menu").hidden = true;
  }

  async function runShortcut(message, inThread) {
    // The bot answers a shortcut in the message's thread: show that thread.
    if (!inThread && !message.thread_ts) openThread(message.channel_id, message.ts);
    const statusId = inThread || message.thread_ts ? "thread-status" : "composer-status";
    await runAction(statusId, `Shortcut “${view.data.shortcut.name}”`, "playground/shortcut", {
      channel_id: message.channel_id,
      message_ts: message.ts,
    });
  }

  async function dismiss(message) {
    try {
      await postJson("playground/dismiss", { channel_id: message.channel_id, message_ts: message.ts });
    } catch (problem) {
      showStatus("composer-status", problem.message, "error");
    }
  }

  // ---------------------------------------------------------------- rendering the page

  function render() {
    const data = view.data;
    if (!channelById(view.channelId)) view.channelId = data.channels[0].id;
    renderSidebar(data);
    if (view.showHome) renderHome(data);
    else renderChannel(data);
    renderThread(data);
    renderModal(data);
    renderSteps(data);
    const banner = $("banner");
    banner.hidden = data.bot_connected;
    banner.textContent = data.bot_connected ? "" : "The bot is not connected yet: slash commands, shortcuts and buttons will fail until it is.";
  }

  function renderSidebar(data) {
    const clock = data.clock;
    $("clock-now").textContent = clock
      ? `Bot's digest clock: ${clock.viewer_time}${clock.ahead_minutes ? ` (+${clock.ahead_minutes} min)` : ""}`
      : "";
    $("channel-list").replaceChildren(...data.channels.map((channel) =>
      h("li", {},
        h("button", {
          type: "button",
          class: `channel-link ${!view.showHome && channel.id === view.channelId ? "active" : ""}`,
          "aria-current": !view.showHome && channel.id === view.channelId ? "page" : null,
          onclick: () => { view.channelId = channel.id; view.showHome = false; view.threadTs = null; view.stickToBottom = true; render(); },
        }, channelLabel(channel)))));
    const samples = data.sample_flows.length
      ? data.sample_flows.map((flow) =>
          h("li", {},
            h("button", { type: "button", class: "sample-flow", title: `${data.command} ${flow.flow_id}`,
              onclick: () => runCommandLine(`${data.command} ${flow.flow_id}`) },
              h("code", {}, flow.flow_id),
              h("span", { class: "sample-title" }, flow.title))))
      : [h("li", { class: "hint" }, "No sample flows were configured.")];
    $("sample-flows").replaceChildren(...samples);
  }

  function renderHome(data) {
    // The app's Home tab, as the bot last published it (views.publish).
    $("home-link").classList.add("active");
    $("channel-title").textContent = "esign-flow · Home";
    $("channel-topic").textContent = "Your Home tab: the bot publishes it each time you open it.";
    $("composer").hidden = true;
    const home = data.home;
    $("messages").replaceChildren(home
      ? h("div", { class: "home", id: "home-view" },
          renderBlocks(home.body.blocks || [], { view_id: home.id, statusId: "composer-status" }))
      : h("p", { class: "empty" }, "Opening the Home tab… (the bot publishes it in a moment)"));
  }

  function renderModal(data) {
    const modal = data.modal;
    const backdrop = $("modal-backdrop");
    if (!modal) {
      backdrop.hidden = true;
      view.modalKey = null;
      return;
    }
    const key = `${modal.id}/${modal.hash}/${JSON.stringify(modal.errors)}`;
    if (key === view.modalKey) return; // keep what is typed until the view changes
    const typed = {};
    for (const field of $("modal-body").querySelectorAll("[data-block-id]")) typed[field.dataset.blockId] = field.value;
    view.modalKey = key;
    backdrop.hidden = false;
    $("modal-title").textContent = modal.body.title ? modal.body.title.text : "";
    $("modal-body").replaceChildren(renderBlocks(modal.body.blocks || [],
      { view_id: modal.id, errors: modal.errors, statusId: "modal-status" }));
    for (const field of $("modal-body").querySelectorAll("[data-block-id]")) {
      if (typed[field.dataset.blockId]) field.value = typed[field.dataset.blockId];
    }
    const submit = $("modal-submit");
    submit.hidden = !modal.body.submit;
    submit.textContent = modal.body.submit ? modal.body.submit.text : "Submit";
    $("modal-close").textContent = modal.body.close ? modal.body.close.text : "Close";
    const first = $("modal-body").querySelector("textarea, select");
    if (first && !modal.errors[first.dataset.blockId]) first.focus();
  }

  async function submitModal() {
    const modal = view.data && view.data.modal;
    if (!modal) return;
    const values = {};
    for (const field of $("modal-body").querySelectorAll("[data-block-id]")) values[field.dataset.blockId] = field.value;
    await runAction("modal-status", "Submitted the form", "playground/view_submit", { view_id: modal.id, values });
  }

  async function closeModal() {
    const modal = view.data && view.data.modal;
    if (modal) await postJson("playground/view_close", { view_id: modal.id }).catch(() => null);
  }

  function renderSteps(data) {
    const last = data.steps.length ? data.steps[data.steps.length - 1] : null;
    if (!last) {
      $("step-result").replaceChildren();
      return;
    }
    const head = `${last.inputs.flow_id || "(no flow_id)"}: ${last.state}`;
    const rows = last.state === "completed"
      ? h("dl", {}, Object.entries(last.outputs || {}).map(([name, value]) =>
          [h("dt", {}, name), h("dd", { "data-output": name }, String(value))]))
      : last.error ? h("p", { class: "step-error" }, last.error) : null;
    const token = last.state === "running" ? null
      : h("p", { class: "hint" }, last.own_token ? "Finished with the workflow's own token." : "Not finished with the workflow's token!");
    $("step-result").replaceChildren(h("p", { class: "step-state", "data-state": last.state }, head), rows, token);
  }

  async function openHome() {
    view.showHome = true;
    view.threadTs = null;
    render();
    await runAction("composer-status", "Opened the Home tab", "playground/home", {});
  }

  async function runStep(event) {
    event.preventDefault();
    const flowId = $("step-flow-id").value.trim();
    await runAction("composer-status", "Ran the workflow step", "playground/step", { flow_id: flowId || " " });
  }

  function renderChannel(data) {
    $("home-link").classList.remove("active");
    $("composer").hidden = false;
    const channel = channelById(view.channelId);
    $("channel-title").textContent = channelLabel(channel);
    $("channel-topic").textContent = channel.dm_with && channel.bot_is_member
      ? "Your direct messages with esign-flow: notices of watches on private cards arrive here."
      : channel.dm_with
      ? `Direct message with ${userName(channel.dm_with)}: esign-flow cannot post here, only answer you privately.`
      : channel.bot_is_member
      ? "esign-flow is a member of this channel."
      : channel.is_private
        ? "Private channel: esign-flow is not a member (it cannot post here, only answer you privately)."
        : "esign-flow is not a member, but may post here (chat:write.public).";
    $("composer-input").placeholder = `Message ${channelLabel(channel)} — or type ${data.command} <flowId>`;

    const list = $("messages");
    const wasAtBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    const messages = data.messages.filter((m) => m.channel_id === view.channelId && !m.thread_ts);
    list.replaceChildren(...(messages.length
      ? messages.map((m) => renderMessage(m, { inThread: false }))
      : [h("p", { class: "empty" }, `Nothing in ${channelLabel(channel)} yet. Try ${data.command} with a sample flow.`)]));
    if (wasAtBottom || view.stickToBottom) list.scrollTop = list.scrollHeight;
    view.stickToBottom = false;
  }

  function renderThread(data) {
    const pane = $("thread-pane");
    const parent = view.threadTs && data.messages.find((m) => m.channel_id === view.channelId && m.ts === view.threadTs);
    if (!parent) {
      pane.hidden = true;
      view.threadTs = null;
      return;
    }
    pane.hidden = false;
    $("thread-channel").textContent = channelLabel(channelById(parent.channel_id));
    const replies = data.messages.filter((m) => m.channel_id === parent.channel_id && m.thread_ts === parent.ts);
    const list = $("thread-messages");
    const wasAtBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 40;
    list.replaceChildren(
      renderMessage(parent, { inThread: true }),
      h("div", { class: "thread-divider" }, `${parent.reply_count} ${parent.reply_count === 1 ? "reply" : "replies"}`),
      ...replies.map((m) => renderMessage(m, { inThread: true })));
    if (wasAtBottom) list.scrollTop = list.scrollHeight;
  }

  function openThread(channelId, ts) {
    view.channelId = channelId;
    view.threadTs = ts;
    render();
    const list = $("thread-messages");
    list.scrollTop = list.scrollHeight;
  }

  // ---------------------------------------------------------------- composing

  async function runCommandLine(line) {
    const input = $("composer-input");
    input.value = line;
    view.stickToBottom = true;
    const exchange = await runAction("composer-status", line, "playground/command", { channel_id: view.channelId, text: line });
    if (exchange && input.value === line) input.value = "";
  }

  async function sendComposer(event) {
    event.preventDefault();
    const input = $("composer-input");
    const text = input.value.trim();
    if (!text) return;
    if (text.startsWith("/")) {
      await runCommandLine(text);
      return;
    }
    try {
      await postJson("playground/message", { channel_id: view.channelId, text });
      input.value = "";
      view.stickToBottom = true;
      showStatus("composer-status", "", "ok");
    } catch (problem) {
      showStatus("composer-status", problem.message, "error");
    }
  }

  async function sendThreadReply(event) {
    event.preventDefault();
    const input = $("thread-input");
    const text = input.value.trim();
    if (!text || !view.threadTs) return;
    try {
      if (text.startsWith("/")) {
        // Slack refuses slash commands in threads; the server answers with Slack's words.
        await postJson("playground/command", { channel_id: view.channelId, text, thread_ts: view.threadTs });
      } else {
        await postJson("playground/message", { channel_id: view.channelId, text, thread_ts: view.threadTs });
      }
      input.value = "";
      showStatus("thread-status", "", "ok");
    } catch (problem) {
      showStatus("thread-status", problem.message, "error");
    }
  }

  function submitOnEnter(form) {
    return (event) => {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        form.requestSubmit();
      }
    };
  }

  async function advanceClock() {
    try {
      await postJson("playground/clock", { minutes: 1 });
      showStatus("composer-status", "The bot's digest clock moved a minute ahead.", "ok");
    } catch (problem) {
      showStatus("composer-status", problem.message, "error");
    }
  }

  async function resetPlayground() {
    try {
      await postJson("playground/reset", {});
      view.threadTs = null;
      showStatus("composer-status", "The playground was reset.", "ok");
    } catch (problem) {
      showStatus("composer-status", problem.message, "error");
    }
  }

  // ---------------------------------------------------------------- start

  function start() {
    $("composer").addEventListener("submit", sendComposer);
    $("composer-input").addEventListener("keydown", submitOnEnter($("composer")));
    $("thread-composer").addEventListener("submit", sendThreadReply);
    $("thread-input").addEventListener("keydown", submitOnEnter($("thread-composer")));
    $("thread-close").addEventListener("click", () => { view.threadTs = null; render(); });
    $("reset-button").addEventListener("click", resetPlayground);
    $("shortcut-button").addEventListener("click", () =>
      runAction("composer-status", "⚡ Check an e签宝 flow", "playground/global_shortcut", {}));
    $("modal-submit").addEventListener("click", submitModal);
    $("modal-close").addEventListener("click", closeModal);
    $("home-link").addEventListener("click", openHome);
    $("step-form").addEventListener("submit", runStep);
    $("digest-soon").addEventListener("click", () =>
      runAction("composer-status", "Set the daily digest", "playground/digest_soon", { channel_id: view.channelId }));
    $("clock-advance").addEventListener("click", advanceClock);
    document.addEventListener("click", (event) => {
      if (!$("menu").contains(event.target)) closeMenu();
    });
    document.addEventListener("keydown", (event) => {
      if (event.key === "Escape") closeMenu();
    });
    pollForever();
  }

  start();
})();
