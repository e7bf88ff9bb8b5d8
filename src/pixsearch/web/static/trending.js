// The trending view: what this server's users search for, each query with its picture.
import * as api from "./api.js";
import { layoutGrid, watchWidth } from "./grid.js";
import { pageUrl } from "./url.js";

function tile(entry) {
  const li = document.createElement("li");
  const thumb = entry.image.thumbnail || {};
  li.dataset.ratio = String((thumb.width || 1) / Math.max(thumb.height || 1, 1));
  const link = document.createElement("a");
  link.href = pageUrl({ q: entry.query.text });
  link.dataset.nav = "";
  const img = document.createElement("img");
  img.src = entry.image.thumbnailUrl;
  img.alt = "";
  img.loading = "lazy";
  img.addEventListener("load", () => img.classList.add("loaded"), { once: true });
  const caption = document.createElement("span");
  caption.className = "tile-query";
  caption.textContent = entry.query.displayText || entry.query.text;
  link.append(img, caption);
  li.append(link);
  return li;
}

/**
 * Fill `section` with the trending categories; `limit` caps the tiles (the landing page
 * shows a taste, the trending view everything). Returns false when there is nothing.
 */
export async function renderTrending(section, { limit = Infinity, title = "" } = {}) {
  let body;
  try {
    body = await api.trending();
  } catch {
    section.replaceChildren();
    return false; // no key, or over its rate: the page still searches
  }
  const parts = [];
  if (title) {
    const h1 = document.createElement("h1");
    h1.textContent = title;
    parts.push(h1);
  }
  let left = limit;
  const lists = [];
  for (const category of body.categories || []) {
    if (left <= 0) break;
    const tiles = category.tiles.slice(0, left);
    left -= tiles.length;
    const heading = document.createElement("h2");
    heading.textContent = category.title;
    const list = document.createElement("ul");
    list.className = "grid trending-grid";
    list.setAttribute("aria-label", category.title);
    list.append(...tiles.map(tile));
    parts.push(heading, list);
    lists.push(list);
  }
  section.replaceChildren(...parts);
  for (const list of lists) {
    layoutGrid(list, 0.8);
    watchWidth(list, 0.8);
  }
  return lists.length > 0;
}
