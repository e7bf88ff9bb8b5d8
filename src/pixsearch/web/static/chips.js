// Suggestions around the results: query expansions, pivots, related searches, spelling.
import { pageUrl } from "./url.js";

function chip(query, filters) {
  const link = document.createElement("a");
  link.className = "chip";
  link.href = pageUrl({ q: query.text, filters });
  link.dataset.nav = "";
  const thumb = query.thumbnail?.thumbnailUrl;
  if (thumb) {
    const img = document.createElement("img");
    img.src = thumb;
    img.alt = "";
    link.append(img);
  }
  link.append(query.displayText || query.text);
  if (query.displayText && query.displayText !== query.text) link.title = query.text;
  return link;
}

function row(title, queries, filters) {
  const nav = document.createElement("nav");
  nav.className = "chip-row";
  nav.setAttribute("aria-label", title);
  const heading = document.createElement("span");
  heading.className = "chip-title";
  heading.textContent = title;
  nav.append(heading, ...queries.map((q) => chip(q, filters)));
  return nav;
}

/** Render whichever suggestion answers are present (each is optional in the reference). */
export function renderChips(container, answer, filters) {
  container.replaceChildren();
  if (answer.queryExpansions?.length) {
    container.append(row("Refine", answer.queryExpansions, filters));
  }
  // all pivots share one row: "instead of sky: a b c · instead of sunset: d e"
  const pivots = (answer.pivotSuggestions || []).filter((p) => p.suggestions?.length);
  if (pivots.length) {
    const line = row("Instead of", [], filters);
    for (const pivot of pivots) {
      const word = document.createElement("span");
      word.className = "chip-pivot";
      word.textContent = `“${pivot.pivot}”:`;
      line.append(word, ...pivot.suggestions.map((q) => chip(q, filters)));
    }
    container.append(line);
  }
  if (answer.similarTerms?.length) {
    container.append(row("Similar", answer.similarTerms, filters));
  }
  if (answer.relatedSearches?.length) {
    container.append(row("Related searches", answer.relatedSearches, filters));
  }
}

/** "Showing results for X. Search instead for Y", from queryContext. */
export function renderSpelling(paragraph, context, filters) {
  const altered = context?.alteredQuery;
  if (!altered) {
    paragraph.hidden = true;
    paragraph.replaceChildren();
    return;
  }
  const shown = document.createElement("strong");
  shown.textContent = altered;
  const instead = document.createElement("a");
  instead.href = pageUrl({ q: context.alterationOverrideQuery || context.originalQuery, filters });
  instead.dataset.nav = "";
  instead.textContent = context.originalQuery;
  paragraph.replaceChildren("Showing results for ", shown, ". Search instead for ", instead, ".");
  paragraph.hidden = false;
}
