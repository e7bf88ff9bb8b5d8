// Rendering of an ImageInsights answer, shared by the details panel and search by image.
// Every module is optional: what the server has is shown, the rest is left out.
import { describe, hostOf } from "./grid.js";
import { pageUrl } from "./url.js";

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function section(title, ...content) {
  const part = el("section", "insight");
  part.append(el("h3", "", title), ...content);
  return part;
}

function searchChip(text) {
  const link = el("a", "chip", text);
  link.href = pageUrl({ q: text });
  link.dataset.nav = "";
  return link;
}

function pagesList(pages) {
  const list = el("ul", "pages");
  for (const page of pages) {
    const item = el("li");
    const link = el("a", "", page.name || page.hostPageDisplayUrl || page.hostPageUrl);
    link.href = page.hostPageUrl;
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    const thumb = el("img");
    thumb.src = page.thumbnailUrl;
    thumb.alt = "";
    thumb.loading = "lazy";
    item.append(thumb, link, el("span", "page-facts",
      `${page.hostPageDisplayUrl || hostOf(page.hostPageUrl)} · ${describe(page)}`));
    list.append(item);
  }
  return list;
}

function similarGrid(images, onOpenImage) {
  const list = el("ul", "similar");
  for (const image of images) {
    const item = el("li");
    const link = el("a");
    link.href = pageUrl({ q: image.name || "", id: image.imageId });
    const thumb = el("img");
    thumb.src = image.thumbnailUrl;
    thumb.alt = image.name || "Similar image";
    thumb.loading = "lazy";
    link.append(thumb);
    link.addEventListener("click", (e) => {
      if (e.ctrlKey || e.metaKey || e.shiftKey || e.button !== 0 || !onOpenImage) return;
      e.preventDefault();
      onOpenImage(image);
    });
    item.append(link);
    list.append(item);
  }
  return list;
}

/** "Seller · 12.50 EUR", "4 images", a recipe's description: what follows a link's name. */
function linkFacts(item) {
  const parts = [];
  if (item.seller?.name) parts.push(item.seller.name);
  if (item.price !== undefined) parts.push(`${item.price} ${item.priceCurrency || ""}`.trim());
  if (item.imagesCount) parts.push(`${item.imagesCount} images`);
  if (item.description) parts.push(item.description);
  if (!parts.length && item.url) parts.push(hostOf(item.url));
  return parts.join(" · ");
}

/** Offers, recipes, collections: each a link with a picture when there is one. */
function links(items) {
  const list = el("ul", "pages");
  for (const item of items) {
    const li = el("li");
    const thumb = el("img");
    thumb.alt = "";
    thumb.loading = "lazy";
    if (item.thumbnailUrl) thumb.src = item.thumbnailUrl;
    const link = el("a", "", item.name || item.hostPageDisplayUrl || item.url || "");
    link.href = item.url || item.hostPageUrl || "#";
    link.target = "_blank";
    link.rel = "noopener noreferrer";
    li.append(thumb, link, el("span", "page-facts", linkFacts(item)));
    list.append(li);
  }
  return list;
}

/** Fill `container` with the answer's modules; returns how many were shown. */
export function renderInsights(container, insights, { onOpenImage } = {}) {
  const parts = [];
  const best = insights.bestRepresentativeQuery;
  if (best?.text) {
    const p = el("p", "best-guess", "Best guess for this image: ");
    p.append(searchChip(best.text));
    parts.push(p);
  }
  if (insights.imageCaption?.caption) {
    parts.push(el("p", "caption", insights.imageCaption.caption));
  }
  const tags = (insights.imageTags?.value || []).map((t) => t.name).filter(Boolean);
  if (tags.length) {
    const row = el("p", "chips-inline");
    row.append(...tags.map(searchChip));
    parts.push(section("Tags", row));
  }
  const pages = insights.pagesIncluding?.value || [];
  if (pages.length) parts.push(section(`Pages including this image (${pages.length})`,
    pagesList(pages)));
  const similar = insights.visuallySimilarImages?.value || [];
  if (similar.length) parts.push(section("Visually similar images",
    similarGrid(similar, onOpenImage)));
  const related = [...(insights.relatedSearches?.value || []),
    ...(insights.imageCaption?.relatedSearches || [])];
  if (related.length) {
    const row = el("p", "chips-inline");
    row.append(...related.map((q) => searchChip(q.text)));
    parts.push(section("Related searches", row));
  }
  const products = insights.visuallySimilarProducts?.value || [];
  if (products.length) parts.push(section("Similar products",
    similarGrid(products, onOpenImage)));
  const optional = [
    ["Where to buy", insights.shoppingSources?.offers || insights.shoppingSources?.value],
    ["Recipes", insights.recipes?.value],
    ["Collections", insights.relatedCollections?.value],
  ];
  for (const [title, items] of optional) {
    if (items?.length) parts.push(section(title, links(items)));
  }
  if (!parts.length) parts.push(el("p", "note", "Nothing more is known about this image yet."));
  container.replaceChildren(...parts);
  return parts.length;
}
