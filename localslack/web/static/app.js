// The browser workspace's page: polls /ui/state for the fragments, and turns what a person does into
// POSTs the local workspace delivers to the app (clicks, picks, messages, commands, forms, uploads).
const body = document.body;
const base = body.dataset.base;
const me = body.dataset.as;
const channel = body.dataset.channel;
const thread = body.dataset.thread;
const POLL_MS = 700;
const shown = { rooms: "", title: "", messages: "", thread: "", modal: "" };

async function send(path, payload) {
  const reply = await fetch(base + path, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ as: me, c: channel, ...payload }),
  });
  const answer = await reply.json();
  if (!answer.ok && answer.error) notice(answer.error);
  refresh();
  return answer;
}

function notice(text) {
  const box = document.getElementById("notices");
  const item = document.createElement("div");
  item.className = "notice";
  item.textContent = text;
  box.append(item);
  setTimeout(() => item.remove(), 8000);
}

function swap(id, html) {
  if (shown[id] === html) return;
  shown[id] = html;
  const node = document.getElementById(id);
  const stick = node.scrollTop + node.clientHeight >= node.scrollHeight - 40;
  node.innerHTML = html;
  if (stick) node.scrollTop = node.scrollHeight;
}

function showModal(modal) {
  const layer = document.getElementById("modal-layer");
  const key = modal ? modal.key : "";
  if (shown.modal === key) return;
  shown.modal = key;
  layer.hidden = !modal;
  layer.innerHTML = modal ? modal.html : "";
  const first = layer.querySelector("input, textarea, select");
  if (first) first.focus();
}

let polling = false;
async function refresh() {
  if (polling) return;
  polling = true;
  try {
    const query = new URLSearchParams({ as: me, c: channel, thread });
    const reply = await fetch(base + "state?" + query);
    const state = await reply.json();
    swap("rooms", state.rooms);
    swap("title", state.title);
    swap("messages", state.messages);
    const pane = document.getElementById("thread");
    pane.hidden = !state.thread;
    if (state.thread) {
      const draft = pane.querySelector("textarea")?.value || "";
      swap("thread", state.thread);
      const area = pane.querySelector("textarea");
      if (area && !area.value) area.value = draft;
    }
    showModal(state.modal);
    body.dataset.ready = "1";
  } finally {
    polling = false;
  }
}

function confirmFirst(button) {
  const question = button.dataset.confirm ? JSON.parse(button.dataset.confirm) : null;
  if (!question) return Promise.resolve(true);
  const dialog = document.getElementById("confirm");
  dialog.querySelector("h3").textContent = question.title || "Are you sure?";
  dialog.querySelector("p").textContent = question.text || "";
  dialog.querySelector(".primary").textContent = question.confirm || "Yes";
  dialog.querySelector(".deny").textContent = question.deny || "Cancel";
  return new Promise((resolve) => {
    dialog.addEventListener("close", () => resolve(dialog.returnValue === "yes"), { once: true });
    dialog.showModal();
  });
}

function messageOf(node) {
  return node.closest(".msg");
}

function valueOf(input) {
  if (input.type === "checkbox") {
    const group = input.closest(".checkboxes");
    return [...group.querySelectorAll("input:checked")].map((box) => box.value);
  }
  return input.value || null;
}

// Clicks on buttons in messages (App Home buttons have no message and are not clickable here yet).
document.addEventListener("click", async (event) => {
  const button = event.target.closest("button[data-action-id]");
  if (!button || !messageOf(button)) return;
  if (!(await confirmFirst(button))) return;
  // Disabled while the app answers (no double click by accident); a message the app redraws replaces it.
  button.disabled = true;
  try {
    await send("act", {
      ts: messageOf(button).dataset.ts,
      action_id: button.dataset.actionId,
      block_id: button.dataset.blockId,
      value: button.dataset.value,
    });
  } finally {
    button.disabled = false;
  }
});

// A message shortcut from a message's "More actions" menu: message_action.
document.addEventListener("click", (event) => {
  const item = event.target.closest("[data-shortcut]");
  if (!item) return;
  item.closest("details").open = false;
  send("shortcut", { ts: messageOf(item).dataset.ts, callback_id: item.dataset.shortcut });
});

// Picks in messages' selects, date pickers and check boxes are block_actions too (Slack sends them at once).
document.addEventListener("change", (event) => {
  const input = event.target.closest("[data-action-id]");
  if (!input || !messageOf(input) || input.closest(".modal")) return;
  send("act", {
    ts: messageOf(input).dataset.ts,
    action_id: input.dataset.actionId,
    block_id: input.dataset.blockId,
    value: valueOf(input),
  });
});

// Modals: submit, close.
document.addEventListener("submit", async (event) => {
  const form = event.target;
  if (form.classList.contains("modal")) {
    event.preventDefault();
    const fields = {};
    for (const input of form.querySelectorAll("[data-action-id]")) {
      if (input.type === "checkbox" && fields[input.name] !== undefined) continue;
      fields[input.name] = valueOf(input);
    }
    form.querySelectorAll(".error").forEach((node) => (node.textContent = ""));
    const answer = await send("submit", { view_id: form.dataset.viewId, fields });
    for (const [blockId, text] of Object.entries(answer.errors || {})) {
      const slot = form.querySelector(`.error[data-error-for="${CSS.escape(blockId)}"]`);
      if (slot) slot.textContent = text;
    }
  } else if (form.id === "composer" || form.id === "reply") {
    event.preventDefault();
    const area = form.querySelector("textarea");
    const text = area.value;
    area.value = "";
    await send("post", { text, thread: form.id === "reply" ? thread : "" });
  }
});

document.addEventListener("click", (event) => {
  const closer = event.target.closest(".modal .close, .modal .cancel");
  if (closer) send("close", { view_id: closer.closest(".modal").dataset.viewId });
});

// Enter sends, Shift+Enter is a new line (as in Slack).
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && !event.shiftKey && event.target.matches("#composer textarea, #reply textarea")) {
    event.preventDefault();
    event.target.form.requestSubmit();
  }
});

document.getElementById("who").addEventListener("change", (event) => {
  const query = new URLSearchParams({ as: event.target.value, c: channel });
  if (thread) query.set("thread", thread);
  location.href = base + "?" + query;
});

// A file dropped on the channel is shared there, with a message mentioning the app.
const main = document.getElementById("main");
main.addEventListener("dragover", (event) => {
  event.preventDefault();
  main.classList.add("dropping");
});
main.addEventListener("dragleave", () => main.classList.remove("dropping"));
main.addEventListener("drop", async (event) => {
  event.preventDefault();
  main.classList.remove("dropping");
  for (const file of event.dataTransfer.files) {
    const form = new FormData();
    form.append("as", me);
    form.append("c", channel);
    form.append("comment", document.getElementById("text")?.value || "");
    form.append("file", file, file.name);
    const reply = await fetch(base + "upload", { method: "POST", body: form });
    const answer = await reply.json();
    if (!answer.ok) notice(answer.error);
  }
  refresh();
});

if (channel === "home") send("home", {});
refresh();
setInterval(refresh, POLL_MS);
