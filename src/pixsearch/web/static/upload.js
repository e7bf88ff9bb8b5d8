// Search by image: drop, paste or choose a picture, optionally drag a rectangle over a
// part of it, and see what the index knows (POST /images/details, crop as cal/cat/car/cab).
import * as api from "./api.js";
import { renderInsights } from "./insights.js";

const LIMIT = 1_000_000; // the API takes 1 MB; larger pictures are shrunk here first
const $ = (sel) => document.querySelector(sel);

async function shrink(file) {
  if (file.size <= LIMIT) return file;
  const bitmap = await createImageBitmap(file);
  let side = 2048;
  for (;;) {
    const scale = Math.min(1, side / Math.max(bitmap.width, bitmap.height));
    const canvas = document.createElement("canvas");
    canvas.width = Math.round(bitmap.width * scale);
    canvas.height = Math.round(bitmap.height * scale);
    canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
    const blob = await new Promise((done) => canvas.toBlob(done, "image/jpeg", 0.85));
    if (blob.size <= LIMIT || side <= 256) return blob;
    side = Math.round(side * 0.7);
  }
}

export class ImageSearch {
  constructor({ onOpenImage }) {
    this.onOpenImage = onOpenImage;
    this.blob = null;
    this.crop = null;
    const file = $("#file");
    file.addEventListener("change", () => { if (file.files[0]) this.use(file.files[0]); });
    const drop = $("#drop");
    drop.addEventListener("dragover", (e) => { e.preventDefault(); drop.classList.add("over"); });
    drop.addEventListener("dragleave", () => drop.classList.remove("over"));
    drop.addEventListener("drop", (e) => {
      e.preventDefault();
      drop.classList.remove("over");
      const picture = [...(e.dataTransfer?.files || [])].find((f) => f.type.startsWith("image/"));
      if (picture) this.use(picture);
    });
    $("#crop-clear").addEventListener("click", () => { this.setCrop(null); this.run(); });
    this.watchCropDrag();
  }

  /** A pasted picture (the app listens for paste on the whole page). */
  paste(event) {
    const item = [...(event.clipboardData?.items || [])].find((i) => i.type.startsWith("image/"));
    if (!item) return false;
    this.use(item.getAsFile());
    return true;
  }

  async use(file) {
    try {
      this.blob = await shrink(file);
    } catch {
      $("#upload-insights").textContent = "This browser cannot read that picture.";
      return;
    }
    const img = $("#crop-img");
    if (img.src.startsWith("blob:")) URL.revokeObjectURL(img.src);
    img.src = URL.createObjectURL(this.blob);
    $("#crop").hidden = false;
    this.setCrop(null);
    this.run();
  }

  setCrop(crop) {
    this.crop = crop;
    const rect = $("#crop-rect");
    rect.hidden = !crop;
    if (!crop) return;
    rect.style.left = `${crop.cal * 100}%`;
    rect.style.top = `${crop.cat * 100}%`;
    rect.style.width = `${(crop.car - crop.cal) * 100}%`;
    rect.style.height = `${(crop.cab - crop.cat) * 100}%`;
  }

  watchCropDrag() {
    const stage = $("#crop-stage");
    let start = null;
    const at = (e) => {
      const box = stage.getBoundingClientRect();
      const clamp = (v) => Math.min(1, Math.max(0, v));
      return [clamp((e.clientX - box.left) / box.width), clamp((e.clientY - box.top) / box.height)];
    };
    const toCrop = (a, b) => ({
      cal: Math.min(a[0], b[0]), cat: Math.min(a[1], b[1]),
      car: Math.max(a[0], b[0]), cab: Math.max(a[1], b[1]),
    });
    stage.addEventListener("pointerdown", (e) => {
      e.preventDefault();
      start = at(e);
      stage.setPointerCapture(e.pointerId);
    });
    stage.addEventListener("pointermove", (e) => {
      if (start) this.setCrop(toCrop(start, at(e)));
    });
    stage.addEventListener("pointerup", (e) => {
      if (!start) return;
      const crop = toCrop(start, at(e));
      start = null;
      // a click, or a sliver, means the whole picture
      const big = crop.car - crop.cal > 0.03 && crop.cab - crop.cat > 0.03;
      this.setCrop(big ? crop : null);
      this.run();
    });
  }

  async run() {
    if (!this.blob) return;
    const box = $("#upload-insights");
    const ask = Symbol("ask");
    this.pending = ask;
    box.setAttribute("aria-busy", "true");
    box.replaceChildren("Looking for this picture…");
    const crop = this.crop && Object.fromEntries(
      Object.entries(this.crop).map(([k, v]) => [k, v.toFixed(4)]));
    try {
      const insights = await api.detailsOfPicture(this.blob, crop);
      if (this.pending !== ask) return;
      renderInsights(box, insights, { onOpenImage: this.onOpenImage });
    } catch (err) {
      if (this.pending !== ask) return;
      box.textContent = `The picture could not be searched: ${err.message}`;
    } finally {
      if (this.pending === ask) box.removeAttribute("aria-busy");
    }
  }
}
