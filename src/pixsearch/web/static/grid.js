// A justified grid: rows of equal height that fill the width, each thumbnail at its own
// aspect ratio (from thumbnail.width/height, known before any pixel arrives).

const GAP = 6;

export function rowHeight(width) {
  if (width < 500) return 110;
  if (width < 900) return 150;
  return 190;
}

/**
 * Size the items of a flat list into justified rows. `ratio(li)` gives an item's aspect ratio.
 * Full rows are scaled to the width; the last row keeps the target height.
 */
export function justify(list, ratio, target = rowHeight(list.clientWidth)) {
  // one pixel of slack keeps sub-pixel rounding from wrapping a row early
  const width = list.clientWidth - 1;
  if (width <= 0) return;
  let row = [];
  let sum = 0;
  const place = (items, height) => {
    for (const li of items) {
      li.style.height = `${Math.floor(height * 100) / 100}px`;
      li.style.width = `${Math.floor(ratio(li) * height * 100) / 100}px`;
    }
  };
  for (const li of list.children) {
    row.push(li);
    sum += ratio(li);
    if (sum * target + GAP * (row.length - 1) >= width) {
      place(row, (width - GAP * (row.length - 1)) / sum);
      row = [];
      sum = 0;
    }
  }
  place(row, target);
}

function ratioOf(thumbnail) {
  const r = (thumbnail?.width || 1) / Math.max(thumbnail?.height || 1, 1);
  return Math.min(Math.max(r, 0.2), 5); // extreme panoramas would make rows of slivers
}

function formatBytes(contentSize) {
  const bytes = parseInt(contentSize, 10);
  if (!Number.isFinite(bytes)) return "";
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}

export function hostOf(url) {
  try { return new URL(url).hostname.replace(/^www\./, ""); } catch { return ""; }
}

/** "1920 × 1080 · JPEG · 240 KB": the facts the hover card and the details panel show. */
export function describe(img) {
  const parts = [`${img.width} × ${img.height}`, (img.encodingFormat || "").toUpperCase(),
    formatBytes(img.contentSize)];
  return parts.filter(Boolean).join(" · ");
}

// [field, singular, plural, smallest count worth a badge]: every image is on one page
// and in one size, so those badges start at two.
const BADGES = [
  ["pagesIncludingCount", "page", "pages", 2],
  ["availableSizesCount", "size", "sizes", 2],
  ["shoppingSourcesCount", "shop", "shops", 1],
  ["recipeSourcesCount", "recipe", "recipes", 1],
];

export function badges(meta = {}) {
  const out = [];
  for (const [field, one, many, least] of BADGES) {
    const n = meta[field];
    if (n >= least) out.push(`${n} ${n === 1 ? one : many}`);
  }
  return out;
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A tile: a link (so it opens in a new tab too) with the image and its hover card. */
export function imageTile(img, href) {
  const li = el("li");
  li.dataset.ratio = String(ratioOf(img.thumbnail));
  li.dataset.id = img.imageId;
  // the accent colour stands in until the thumbnail arrives
  if (/^[0-9a-f]{6}$/i.test(img.accentColor || "")) li.style.background = `#${img.accentColor}`;
  const link = el("a");
  link.href = href;
  const picture = el("img");
  picture.alt = img.name || "";
  picture.loading = "lazy";
  picture.decoding = "async";
  picture.addEventListener("load", () => picture.classList.add("loaded"), { once: true });
  picture.src = img.thumbnailUrl;
  const card = el("span", "card");
  card.append(el("span", "card-title", img.name || ""), el("span", "card-facts", describe(img)),
    el("span", "card-host", hostOf(img.hostPageUrl)));
  const marks = badges(img.insightsMetadata);
  if (marks.length) {
    const row = el("span", "badges");
    for (const text of marks) row.append(el("span", "badge", text));
    card.append(row);
  }
  link.append(picture, card);
  li.append(link);
  return li;
}

/** Lay out tiles made here (their ratio in data-ratio); scale shrinks the row height. */
export function layoutGrid(list, scale = 1) {
  justify(list, (li) => Number(li.dataset.ratio) || 1, rowHeight(list.clientWidth) * scale);
}

/** Re-lay out a grid whenever its width changes (window resize, phone rotation). */
export function watchWidth(list, scale = 1) {
  let width = 0;
  let pending = false;
  new ResizeObserver(() => {
    if (pending || list.clientWidth === width) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      width = list.clientWidth;
      layoutGrid(list, scale);
    });
  }).observe(list);
}
