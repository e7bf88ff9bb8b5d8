// The results view: first page, endless scroll by nextOffset, no image shown twice.
import * as api from "./api.js";
import { renderChips, renderSpelling } from "./chips.js";
import { imageTile, layoutGrid, watchWidth } from "./grid.js";
import { pageUrl } from "./url.js";

const PAGE = 50;
const $ = (sel) => document.querySelector(sel);

export class Results {
  constructor({ onFirstPage }) {
    this.list = $("#results");
    this.images = [];
    this.onFirstPage = onFirstPage;
    this.generation = 0;
    watchWidth(this.list);
    // load the next page while the end is still a screen away
    this.observer = new IntersectionObserver((entries) => {
      if (entries.some((e) => e.isIntersecting)) this.more();
    }, { rootMargin: "800px 0px" });
    this.observer.observe($("#sentinel"));
  }

  /** Start a new search; `state` is what the URL asks for. */
  async start(state) {
    const generation = ++this.generation;
    Object.assign(this, { state, offset: 0, done: false, busy: true, seen: new Set() });
    this.images = [];
    this.list.replaceChildren();
    $("#chips").replaceChildren();
    $("#spelling").hidden = true;
    this.say(`Searching for ${state.q}…`);
    try {
      const body = await api.search({ ...state, offset: 0, count: PAGE });
      if (generation !== this.generation) return;
      renderSpelling($("#spelling"), body.queryContext, state.filters);
      renderChips($("#chips"), body, state.filters);
      this.take(body);
      const total = Math.max(body.totalEstimatedMatches || 0, this.images.length);
      const filtered = Object.keys(state.filters).length ? " with these filters" : "";
      this.say(this.images.length
        ? `About ${total.toLocaleString()} ${total === 1 ? "result" : "results"}`
        : `No images match ${state.q}${filtered}.`);
      this.onFirstPage(this.images);
    } catch (err) {
      if (generation === this.generation) this.fail(err);
    } finally {
      if (generation === this.generation) this.busy = false;
    }
    this.refill();
  }

  /** The next page, when the sentinel comes near. */
  async more() {
    if (this.busy || this.done || !this.state) return;
    const generation = this.generation;
    this.busy = true;
    try {
      const body = await api.search({ ...this.state, id: "", offset: this.offset, count: PAGE });
      if (generation !== this.generation) return;
      const added = this.take(body);
      if (added) this.say(`${this.images.length} images shown`);
    } catch (err) {
      if (generation !== this.generation) return;
      if (err.status === 429) { // over the key's rate: wait as told, then go on
        setTimeout(() => this.refill(), err.retryAfter * 1000);
      } else {
        this.fail(err);
        this.done = true;
      }
    } finally {
      if (generation === this.generation) this.busy = false;
    }
    this.refill();
  }

  /** Append a page's new images; returns how many were new. */
  take(body) {
    const before = this.images.length;
    const fresh = [];
    for (const img of body.value || []) {
      if (this.seen.has(img.imageId)) continue; // paging may overlap; show each image once
      this.seen.add(img.imageId);
      this.images.push(img);
      fresh.push(imageTile(img, pageUrl({ ...this.state, id: img.imageId })));
    }
    fresh.forEach((li, i) => { li.dataset.index = String(before + i); });
    this.list.append(...fresh);
    layoutGrid(this.list);
    const next = body.nextOffset ?? this.offset + (body.value || []).length;
    // a short page is the last; so is one that moved nowhere (all of it seen before)
    if ((body.value || []).length < PAGE || next <= this.offset || !fresh.length ||
        next >= (body.totalEstimatedMatches || 0)) this.done = true;
    this.offset = next;
    return fresh.length;
  }

  /** If the end of the list is still in view after a load, load again. */
  refill() {
    if (this.done || this.busy) return;
    const sentinel = $("#sentinel").getBoundingClientRect();
    if (sentinel.top < innerHeight + 800) this.more();
  }

  say(text) { $("#status").textContent = text; }

  fail(err) {
    const messages = {
      429: "Too many searches right now. Please try again in a moment.",
      401: "This server needs a subscription key: enter one under “Key”.",
    };
    this.say(messages[err.status] || `Something went wrong: ${err.message}`);
  }

  clear() {
    this.generation++;
    this.state = null;
    this.images = [];
    this.list.replaceChildren();
    $("#chips").replaceChildren();
    $("#spelling").hidden = true;
  }
}
