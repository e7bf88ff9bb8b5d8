// The details panel: a large preview, facts, links and insights of one result, with
// ArrowLeft/ArrowRight moving between results and Escape closing (a native <dialog>).
import * as api from "./api.js";
import { describe } from "./grid.js";
import { renderInsights } from "./insights.js";

export class Details {
  /**
   * images(): the results in order; onMove(img): the panel moved to another image;
   * onClosed(): the user closed the panel.
   */
  constructor({ images, onMove, onClosed }) {
    this.dialog = document.querySelector("#details");
    this.images = images;
    this.onMove = onMove;
    this.onClosed = onClosed;
    this.index = -1;
    this.current = null;
    const q = (sel) => this.dialog.querySelector(sel);
    this.parts = {
      img: q(".details-img"), title: q("#details-title"), meta: q(".details-meta"),
      visit: q(".details-visit"), view: q(".details-view"), insights: q(".details-insights"),
      prev: q(".details-prev"), next: q(".details-next"),
    };
    q(".details-close").addEventListener("click", () => this.dialog.close());
    this.parts.prev.addEventListener("click", () => this.step(-1));
    this.parts.next.addEventListener("click", () => this.step(1));
    this.dialog.addEventListener("close", () => {
      this.current = null;
      if (!this.quiet) this.onClosed();
      this.quiet = false;
    });
    this.dialog.addEventListener("keydown", (e) => {
      if (e.altKey || e.ctrlKey || e.metaKey) return;
      if (e.key === "ArrowRight") { e.preventDefault(); this.step(1); }
      if (e.key === "ArrowLeft") { e.preventDefault(); this.step(-1); }
    });
    // a click on the backdrop (outside the panel's box) closes it, as on most galleries
    this.dialog.addEventListener("click", (e) => {
      if (e.target === this.dialog) this.dialog.close();
    });
  }

  get isOpen() { return this.dialog.open; }

  /** Show the result at `index` of the list. */
  showIndex(index) {
    const list = this.images();
    if (index < 0 || index >= list.length) return;
    this.index = index;
    this.show(list[index]);
  }

  /** Show an image that may not be in the list (a similar image, a shared link). */
  show(img) {
    this.current = img;
    const { parts } = this;
    parts.img.classList.remove("loaded");
    parts.img.alt = img.name || "";
    // the thumbnail first (already cached), the original once it has loaded
    parts.img.src = img.thumbnailUrl;
    if (img.contentUrl) {
      const full = new Image();
      full.onload = () => { if (this.current === img) parts.img.src = img.contentUrl; };
      full.src = img.contentUrl;
    }
    parts.title.textContent = img.name || "Untitled image";
    parts.meta.textContent = describe(img);
    parts.visit.href = img.hostPageUrl;
    parts.view.href = img.contentUrl || img.thumbnailUrl;
    const list = this.images();
    const inList = list[this.index]?.imageId === img.imageId;
    parts.prev.disabled = !inList || this.index <= 0;
    parts.next.disabled = !inList || this.index >= list.length - 1;
    if (!this.dialog.open) this.dialog.showModal();
    this.loadInsights(img);
  }

  step(delta) {
    const list = this.images();
    const next = this.index + delta;
    if (next < 0 || next >= list.length) return;
    this.showIndex(next);
    this.onMove(list[next]);
  }

  async loadInsights(img) {
    const box = this.parts.insights;
    box.replaceChildren();
    box.setAttribute("aria-busy", "true");
    try {
      const insights = await api.details({
        insightsToken: img.imageInsightsToken, id: img.imageId,
      });
      if (this.current !== img) return; // the user moved on meanwhile
      renderInsights(box, insights, {
        onOpenImage: (other) => { this.index = -1; this.show(other); this.onMove(other); },
      });
    } catch (err) {
      if (this.current === img) box.textContent = `Insights are not available: ${err.message}`;
    } finally {
      box.removeAttribute("aria-busy");
    }
  }

  /** Close without telling onClosed (the URL already says closed: back, a new search). */
  close() {
    if (!this.dialog.open) return;
    this.quiet = true;
    this.dialog.close();
  }
}
