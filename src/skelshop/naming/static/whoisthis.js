// The labelling page: one card per cluster; every change is POSTed and saved at once.
"use strict";

const MAX_FACES = 24;
let state = null;
let order = [];
const cards = new Map();
const wanted = new Map(); // cluster -> the name most recently asked for (pending or saved)
let active = null;
let firstWithName = new Map();
let skippedSet = new Set();
let queue = Promise.resolve();

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "class") node.className = value;
    else if (key in node) node[key] = value;
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

function normalise(text) {
  return text.trim().replace(/\s+/g, " ");
}

function showStatus(ok, message) {
  const status = document.getElementById("status");
  status.className = "status " + (ok ? "ok" : "bad");
  status.textContent = message;
}

async function api(path, body) {
  const init = body === undefined ? {} : {
    method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body),
  };
  let res;
  try {
    res = await fetch(path, init);
  } catch (err) {
    throw new Error("the whoisthis server is not running");
  }
  const data = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(data.error || res.statusText);
  return data;
}

// Requests go out one at a time, in order, so the file always ends with the last action.
function send(path, body, okMessage) {
  const job = queue.then(() => api(path, body));
  queue = job.then(
    (next) => { update(next); if (okMessage) showStatus(true, okMessage); },
    (err) => {
      // Forget the failed wish so that pressing Enter again retries it.
      if (path === "/api/label" && wanted.get(body.clus) === body.label) wanted.delete(body.clus);
      showStatus(false, "Not saved: " + err.message);
    },
  );
  return queue;
}

function nowText() {
  return new Date().toLocaleTimeString();
}

function baseName(path) {
  return path.split(/[\\/]/).pop();
}

// A corpus names each picture's track: its video file, shot and track number.
function describeTrack(url) {
  const track = (state.tracks || {})[url];
  return track ? `${baseName(track[0])} · shot ${track[1]} · track ${track[2]}` : null;
}

function describeFace(url) {
  const match = /v(\d+)f(\d+)p(\d+)\.\w+$/.exec(url);
  const track = describeTrack(url);
  if (track) return match ? `${track} · frame ${Number(match[2])}` : track;
  return match ? `video ${match[1]} · frame ${match[2]} · track ${match[3]}` : url.split("/").pop();
}

function trackKey(url) {
  const track = (state.tracks || {})[url];
  return track ? JSON.stringify(track) : url;
}

function countText(cluster) {
  const protos = cluster.images.length;
  const protoText = `${protos} prototype${protos === 1 ? "" : "s"}`;
  if (cluster.members === null) return protoText;
  return `${cluster.members} track${cluster.members === 1 ? "" : "s"} · ${protoText}`;
}

function buildCard(cluster) {
  const clus = cluster.clus;
  const faces = el("div", { class: "faces" });
  const pictures = new Map();
  for (const url of cluster.images.slice(0, MAX_FACES)) {
    const img = el("img", { src: url, alt: `face from ${clus}`, loading: "lazy", width: 128, height: 128 });
    img.title = describeFace(url);
    const link = el("a", { href: url, target: "_blank", tabIndex: -1 }, img);
    if (!state.can_split) { faces.append(link); continue; }
    // A corpus: this picture's track can be split off the cluster ("not this person").
    const notThis = el("button", { class: "notthis", type: "button", textContent: "✕ not this person" });
    notThis.setAttribute("aria-label", `not the person of ${clus}: ${describeFace(url)}`);
    notThis.title = `Split this track (${describeTrack(url) || describeFace(url)}) off ${clus}`;
    notThis.addEventListener("click", () => {
      const what = describeTrack(url) || describeFace(url);
      send("/api/notthis", { clus, image: url }, `Split ${what} off ${clus} · ${nowText()}`)
        .then(() => focusAfterSplit(clus, url));
    });
    const figure = el("figure", { class: "face" }, link, notThis);
    figure.dataset.image = url;
    pictures.set(url, figure);
    faces.append(figure);
  }
  if (cluster.images.length > MAX_FACES) {
    faces.append(el("span", { class: "more" }, `+${cluster.images.length - MAX_FACES} more`));
  }
  if (cluster.images.length === 0) faces.append(el("span", { class: "more" }, "no images"));

  const inputId = `name-${clus}`;
  const input = el("input", {
    class: "name", id: inputId, type: "text", autocomplete: "off", spellcheck: false,
    placeholder: "Name, or =c3 for the same person as c3",
  });
  const listbox = el("ul", { class: "suggestions", id: `suggest-${clus}`, hidden: true });
  listbox.setAttribute("role", "listbox");
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", listbox.id);
  const combo = el("div", { class: "combo" }, input, listbox);
  const save = el("button", { class: "save", type: "button", textContent: "Save ⏎" });
  const skipButton = el("button", { class: "skip", type: "button", textContent: "Skip (Esc)" });
  const same = el("select", { class: "same" });
  same.setAttribute("aria-label", `${clus} is the same person as`);
  const badge = el("span", { class: "badge" });
  const joined = el("span", { class: "joined", hidden: true });
  const splits = el("div", { class: "splits", hidden: true });
  const root = el("section", { class: "card", id: `card-${clus}` },
    el("div", { class: "card-head" },
      el("span", { class: "clus" }, clus),
      el("span", { class: "count" }, countText(cluster)),
      joined,
      badge),
    faces,
    splits,
    el("div", { class: "controls" },
      el("label", { htmlFor: inputId }, "Name"), combo, save, skipButton, same));
  root.dataset.clus = clus;

  input.addEventListener("keydown", (ev) => {
    if (ev.isComposing) return;
    const open = !listbox.hidden;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      if (!open) suggest(clus, true);
      else highlight(clus, ev.key === "ArrowDown" ? +1 : -1);
    } else if (ev.key === "Enter") {
      ev.preventDefault();
      const picked = open ? listbox.querySelector("[aria-selected=true]") : null;
      if (picked) input.value = picked.dataset.name;
      closeSuggestions(clus);
      commit(clus, input.value, true);
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      if (open) closeSuggestions(clus);
      else skip(clus);
    } else if (ev.key === "PageDown") { ev.preventDefault(); move(clus, +1); }
    else if (ev.key === "PageUp") { ev.preventDefault(); move(clus, -1); }
  });
  input.addEventListener("input", () => suggest(clus, false));
  input.addEventListener("blur", () => closeSuggestions(clus));
  input.addEventListener("change", () => commit(clus, input.value, false));
  listbox.addEventListener("mousedown", (ev) => {
    const option = ev.target.closest("li");
    ev.preventDefault(); // keep the focus in the box
    if (!option) return;
    input.value = option.dataset.name;
    closeSuggestions(clus);
    commit(clus, input.value, true);
  });
  save.addEventListener("click", () => commit(clus, input.value, true));
  skipButton.addEventListener("click", () => skip(clus));
  // Choosing a cluster saves at once but stays on this card: arrow keys on a closed menu
  // change it step by step, and each step is a change like any other.
  same.addEventListener("focus", () => fillSame(clus, true));
  same.addEventListener("blur", () => fillSame(clus, false));
  same.addEventListener("change", () => {
    const other = same.value;
    if (state.can_merge) {
      // A refused merge (say, into a cluster merged into this one) puts the menu back.
      send("/api/same", { clus, other }, other ? `Saved ${clus} = same person as ${other} · ${nowText()}`
        : `${clus} is no longer merged · ${nowText()}`).then(() => fillSame(clus, document.activeElement === same));
    } else if (other && state.labels[other]) {
      input.value = state.labels[other];
      commit(clus, input.value, false);
    }
  });
  root.addEventListener("focusin", () => setActive(clus, false));
  root.addEventListener("click", (ev) => {
    if (ev.target === root || ev.target.closest(".card-head")) setActive(clus, true);
  });
  cards.set(clus, { root, input, badge, same, listbox, pictures, joined, splits,
    shown: null, splitShown: null });
  return root;
}

// After "not this person" the pictures of that track leave the card: the keyboard focus goes
// on to the next picture's button (or back to the name box), never lost to the page.
function focusAfterSplit(clus, url) {
  const card = cards.get(clus);
  const figure = card.pictures.get(url);
  const lost = document.activeElement === document.body || card.root.contains(document.activeElement);
  if (!figure || !figure.hidden || !lost) return; // failed, or the user has moved on
  const figures = [...card.pictures.values()];
  const at = figures.indexOf(figure);
  const next = figures.slice(at + 1).find((f) => !f.hidden) ||
    figures.slice(0, at).reverse().find((f) => !f.hidden);
  if (next) next.querySelector(".notthis").focus();
  else card.input.focus();
}

// The tracks split off a card, one line each with a way back ("undo").
function showSplits(clus, split) {
  const card = cards.get(clus);
  const tracks = new Map();
  for (const url of card.pictures.keys()) {
    if (!split.has(url)) continue;
    const key = trackKey(url);
    if (!tracks.has(key)) tracks.set(key, []);
    tracks.get(key).push(url);
  }
  const shown = [...tracks.keys()].join("\u0000");
  if (card.splitShown === shown) return;
  card.splitShown = shown;
  card.splits.hidden = tracks.size === 0;
  if (!tracks.size) { card.splits.replaceChildren(); return; }
  const items = [...tracks.values()].map((urls) => {
    const what = describeTrack(urls[0]) || describeFace(urls[0]);
    const undo = el("button", { class: "undo", type: "button", textContent: "↶ undo" });
    undo.setAttribute("aria-label", `undo: ${what} is the person of ${clus} after all`);
    undo.addEventListener("click", () => {
      send("/api/notthis", { clus, image: urls[0], undo: true },
        `${what} is back in ${clus} · ${nowText()}`).then(() => {
        const figure = card.pictures.get(urls[0]);
        if (figure && !figure.hidden) figure.querySelector(".notthis").focus();
      });
    });
    const thumb = el("img", { src: urls[0], alt: "", width: 40, height: 40 });
    return el("li", {}, thumb, el("span", { class: "split-what" }, what), undo);
  });
  const count = tracks.size;
  card.splits.replaceChildren(
    el("span", { class: "split-head" },
      `Not this person (${count} track${count === 1 ? "" : "s"}): kept apart from ${clus} ` +
      "from the next corpus run"),
    el("ul", {}, ...items));
}

// Names to suggest: reference labels and names already given, with where each was used.
function knownNames() {
  const names = new Map();
  const add = (name, clus) => {
    const key = name.toLowerCase();
    if (!names.has(key)) names.set(key, { name, used: [] });
    if (clus) names.get(key).used.push(clus);
  };
  for (const [clus, name] of wanted) if (name) add(name, clus); // saves still on their way
  for (const [clus, name] of Object.entries(state.labels)) if (!wanted.has(clus)) add(name, clus);
  for (const name of state.references) add(name, null);
  return [...names.values()];
}

function suggest(clus, showAll) {
  const { input, listbox } = cards.get(clus);
  const typed = normalise(input.value).toLowerCase();
  if (!typed && !showAll) return closeSuggestions(clus);
  if (typed.startsWith("=")) return closeSuggestions(clus);
  const scored = [];
  for (const entry of knownNames()) {
    const at = entry.name.toLowerCase().indexOf(typed);
    if (at < 0 || entry.name.toLowerCase() === typed) continue;
    scored.push({ entry, rank: at === 0 ? 0 : 1 });
  }
  scored.sort((a, b) => a.rank - b.rank || a.entry.name.localeCompare(b.entry.name));
  const shown = scored.slice(0, 8);
  if (!shown.length) return closeSuggestions(clus);
  listbox.replaceChildren(...shown.map(({ entry }, i) => {
    const option = el("li", { id: `${listbox.id}-${i}` },
      el("span", { class: "sugg-name" }, entry.name),
      el("span", { class: "sugg-where" },
        entry.used.length ? `named ${entry.used.slice(0, 3).join(", ")}${entry.used.length > 3 ? "…" : ""}` : "reference"));
    option.setAttribute("role", "option");
    option.setAttribute("aria-selected", "false");
    option.dataset.name = entry.name;
    return option;
  }));
  listbox.hidden = false;
  input.setAttribute("aria-expanded", "true");
  if (showAll) highlight(clus, +1);
}

function highlight(clus, delta) {
  const { input, listbox } = cards.get(clus);
  const options = [...listbox.children];
  const current = options.findIndex((o) => o.getAttribute("aria-selected") === "true");
  const next = current < 0 ? (delta > 0 ? 0 : options.length - 1)
    : (current + delta + options.length) % options.length;
  options.forEach((o, i) => o.setAttribute("aria-selected", String(i === next)));
  input.setAttribute("aria-activedescendant", options[next].id);
}

function closeSuggestions(clus) {
  const { input, listbox } = cards.get(clus);
  listbox.hidden = true;
  listbox.replaceChildren();
  input.setAttribute("aria-expanded", "false");
  input.removeAttribute("aria-activedescendant");
}

function commit(clus, raw, advance) {
  let value = normalise(raw);
  const card = cards.get(clus);
  const sameAs = /^=\s*c?(\d+)$/i.exec(value);
  if (sameAs && state.can_merge) {
    // A corpus records the merge itself: the clusters stay one person in every later run.
    const other = "c" + Number(sameAs[1]);
    if (other === clus || !order.includes(other)) {
      showStatus(false, `${other} is not another cluster of this corpus`);
      return;
    }
    card.input.value = state.labels[other] || "";
    send("/api/same", { clus, other }, `Saved ${clus} = same person as ${other} · ${nowText()}`)
      .then(() => {
        if ((state.merges || {})[clus] !== other && document.activeElement !== card.input) {
          card.input.value = state.labels[clus] || ""; // refused: the box shows what is saved
        }
      });
    if (advance) goNext(clus);
    return;
  }
  if (sameAs) {
    const other = "c" + Number(sameAs[1]);
    const otherName = state.labels[other];
    if (!otherName) {
      showStatus(false, `${other} has no name yet`);
      return;
    }
    value = otherName;
    card.input.value = value;
  }
  const current = wanted.has(clus) ? wanted.get(clus) : (state.labels[clus] || "");
  if (value !== current) {
    wanted.set(clus, value);
    const message = value ? `Saved ${clus} = ${value} · ${nowText()}` : `Removed the name of ${clus} · ${nowText()}`;
    send("/api/label", { clus, label: value }, message);
  } else if (advance && !value) {
    // Enter on an empty box skips: an empty name is never written.
    skip(clus);
    return;
  }
  if (advance) goNext(clus);
}

function skip(clus) {
  const card = cards.get(clus);
  card.input.value = wanted.has(clus) ? wanted.get(clus) : (state.labels[clus] || "");
  if (!state.labels[clus]) send("/api/skip", { clus }, `Skipped ${clus}`);
  goNext(clus);
}

function pending(clus) {
  const name = wanted.has(clus) ? wanted.get(clus) : state.labels[clus];
  return !name && !skippedSet.has(clus) && !(state.merges || {})[clus];
}

function goNext(clus) {
  const start = order.indexOf(clus);
  for (let step = 1; step <= order.length; step++) {
    const candidate = order[(start + step) % order.length];
    if (candidate !== clus && pending(candidate)) { setActive(candidate, true); return; }
  }
  document.getElementById("done").hidden = false;
  move(clus, +1);
}

function move(clus, delta) {
  const index = order.indexOf(clus) + delta;
  if (index >= 0 && index < order.length) setActive(order[index], true);
}

function setActive(clus, focus) {
  if (active !== clus) {
    if (active && cards.has(active)) cards.get(active).root.classList.remove("active");
    active = clus;
    const card = cards.get(clus);
    card.root.classList.add("active");
    card.root.scrollIntoView({ block: "nearest", behavior: "auto" });
  }
  if (focus) {
    const input = cards.get(clus).input;
    input.focus({ preventScroll: true });
    input.select();
  }
}

function twinOf(clus) {
  if (state.can_merge) return (state.merges || {})[clus] || "";
  const label = state.labels[clus];
  if (!label) return "";
  const first = firstWithName.get(label);
  if (first && first !== clus) return first;
  const other = state.clusters.find((c) => c.clus !== clus && state.labels[c.clus] === label);
  return other ? other.clus : "";
}

// The full menu is built only while it has the focus: a menu per card listing every
// cluster would be quadratic in the number of clusters.
function fillSame(clus, full) {
  const { same } = cards.get(clus);
  const twin = twinOf(clus);
  const option = (other) => {
    const otherName = state.labels[other];
    return el("option", {
      value: other, disabled: !otherName && !state.can_merge,
      textContent: otherName ? `${other} · ${otherName}` : `${other} (no name yet)`,
    });
  };
  // Merged in a corpus: the empty choice undoes the merge, and says so.
  const none = state.can_merge && twin ? "Not merged (undo)" : "Same person as…";
  const options = [el("option", { value: "", textContent: none })];
  if (full) {
    for (const other of order) if (other !== clus) options.push(option(other));
  } else if (twin) {
    options.push(option(twin));
  }
  same.replaceChildren(...options);
  same.value = twin;
}

function update(next) {
  state = { ...state, ...next };
  for (const [clus, value] of wanted) {
    if ((state.labels[clus] || "") === value) wanted.delete(clus);
  }
  // The first cluster given each name: what "same person as" shows for the others.
  firstWithName = new Map();
  for (const cluster of state.clusters) {
    const label = state.labels[cluster.clus];
    if (label && !firstWithName.has(label)) firstWithName.set(label, cluster.clus);
  }
  skippedSet = new Set(state.skipped);
  const split = new Set(state.split || []);
  const joinedBy = new Map(); // cluster -> the clusters said to be the same person as it
  for (const [clus, other] of Object.entries(state.merges || {})) {
    if (!joinedBy.has(other)) joinedBy.set(other, []);
    joinedBy.get(other).push(clus);
  }
  let named = 0;
  for (const cluster of state.clusters) {
    const clus = cluster.clus;
    const card = cards.get(clus);
    const label = state.labels[clus] || "";
    const skipped = !label && skippedSet.has(clus);
    if (label || (state.merges || {})[clus]) named++;
    // Touch the page only where something changed: a save must stay quick with 1000s of cards.
    const merged = (state.merges || {})[clus] || "";
    for (const [url, figure] of card.pictures) figure.hidden = split.has(url);
    if (state.can_split) showSplits(clus, split);
    const joined = (joinedBy.get(clus) || []).sort((a, b) => order.indexOf(a) - order.indexOf(b));
    const joinedText = joined.length ? `+ ${joined.join(", ")} (same person)` : "";
    if (card.joined.textContent !== joinedText) {
      card.joined.textContent = joinedText;
      card.joined.hidden = !joinedText;
    }
    const shown = `${label}\u0000${skipped}\u0000${twinOf(clus)}`;
    if (card.shown === shown && document.activeElement !== card.same) continue;
    card.shown = shown;
    card.root.classList.toggle("named", Boolean(label || merged));
    card.root.classList.toggle("skipped", skipped);
    const own = label ? label : (skipped ? "skipped" : "no name yet");
    card.badge.textContent = merged ? `same person as ${merged}${label ? " · " + label : ""}` : own;
    if (document.activeElement !== card.input && !wanted.has(clus)) card.input.value = label;
    fillSame(clus, document.activeElement === card.same);
  }
  const total = state.clusters.length;
  document.getElementById("progress").textContent =
    `${named} of ${total} named · ${state.skipped.length} skipped`;
  document.getElementById("meter-fill").style.width = total ? `${(100 * named) / total}%` : "0";
  document.getElementById("done").hidden = state.clusters.some((c) => pending(c.clus));
}

async function start() {
  let first;
  try {
    first = await api("/api/state");
  } catch (err) {
    showStatus(false, "Could not load: " + err.message);
    return;
  }
  state = first;
  order = first.clusters.map((c) => c.clus);
  document.getElementById("outfile").textContent = `saving to ${first.out}`;
  document.getElementById("outfile").title = first.out;
  for (const hint of document.querySelectorAll(".corpus-only")) hint.hidden = !first.can_merge;
  for (const hint of document.querySelectorAll(".split-only")) hint.hidden = !first.can_split;
  if (first.stray.length) {
    const stray = document.getElementById("stray");
    stray.hidden = false;
    stray.textContent = `${first.out} also names ${first.stray.join(", ")}, which this prototype folder does not hold; those rows are kept as they are.`;
  }
  const main = document.getElementById("cards");
  main.replaceChildren(...first.clusters.map(buildCard));
  update(first);
  const firstPending = order.find((clus) => pending(clus));
  if (order.length) setActive(firstPending || order[0], true);
  showStatus(true, `${Object.keys(first.labels).length} names loaded`);
}

document.addEventListener("DOMContentLoaded", start);
