// The search page: a small router over the URL that shows one view at a time, each made
// by its own module. Everything it shows comes from the public API.
import * as api from "./api.js";
import { Details } from "./details.js";
import { renderFilters } from "./filters.js";
import { Results } from "./results.js";
import { renderTrending } from "./trending.js";
import { ImageSearch } from "./upload.js";
import { go, pageUrl, readUrl, searchKey } from "./url.js";

const $ = (sel) => document.querySelector(sel);
const VIEWS = ["landing", "trending", "by-image", "results"];
let shownSearch = null; // searchKey of the results on screen

const results = new Results({ onFirstPage: () => syncDetails() });
const details = new Details({
  images: () => results.images,
  // moving between results replaces the entry: back leaves the panel, not each image
  onMove: (img) => {
    history.replaceState(history.state, "", pageUrl({ ...readUrl(), id: img.imageId }));
  },
  onClosed: () => {
    if (history.state?.detail) history.back(); // opened here: closing is going back
    else history.replaceState(null, "", pageUrl({ ...readUrl(), id: "" }));
  },
});
const imageSearch = new ImageSearch({ onOpenImage: (img) => details.show(img) });

function showView(view) {
  for (const name of VIEWS.slice(0, 3)) $(`#${name}`).hidden = name !== view;
  const searching = view === "results";
  $("#results").hidden = !searching;
  $("#filters").hidden = !searching;
  if (!searching) {
    shownSearch = null;
    results.clear();
    details.close();
    $("#status").textContent = "";
  }
  $("#nav-trending").setAttribute("aria-current", view === "trending" ? "page" : "false");
}

function route() {
  const state = readUrl();
  $("#q").value = state.q;
  if (state.view === "image") {
    document.title = "Search by image · pixsearch";
    showView("by-image");
  } else if (!state.q && state.view === "trending") {
    document.title = "Trending · pixsearch";
    showView("trending");
    renderTrending($("#trending"), { title: "Trending searches" });
  } else if (!state.q) {
    document.title = "pixsearch";
    showView("landing");
    showLanding();
  } else {
    document.title = `${state.q} · pixsearch`;
    showView("results");
    renderFilters($("#filters"), state.filters, (filters) => go(pageUrl({ q: state.q, filters })));
    if (searchKey(state) !== shownSearch) {
      shownSearch = searchKey(state);
      details.close();
      results.start(state); // opens the details of state.id once the first page is in
    } else {
      syncDetails();
    }
  }
}

/** Open or close the details panel as the URL's id says. */
function syncDetails() {
  const { id } = readUrl();
  if (!id) return details.close();
  if (details.current?.imageId === id) return;
  const index = results.images.findIndex((img) => img.imageId === id);
  if (index >= 0) details.showIndex(index);
  else if (!results.busy) openElsewhere(id);
}

/** An image not among the results (a similar image's link): its insights name its pages. */
async function openElsewhere(id) {
  try {
    const insights = await api.details({ id });
    const pages = insights.pagesIncluding?.value || [];
    const img = pages.find((page) => page.imageId === id) || pages[0];
    if (img && readUrl().id === id && details.current?.imageId !== id) {
      details.index = -1;
      details.show(img);
    }
  } catch {
    // an id the index does not know: the results stay as they are
  }
}

async function showLanding() {
  const stats = await api.stats();
  if (stats?.images) $("#image-count").textContent = stats.images.toLocaleString();
  const shown = await renderTrending($("#trending"), { limit: 12, title: "Trending now" });
  if (shown && !readUrl().q && !readUrl().view) {
    const more = document.createElement("a");
    more.href = pageUrl({ view: "trending" });
    more.dataset.nav = "";
    more.className = "see-all";
    more.textContent = "See all trending searches";
    $("#trending").append(more);
    $("#trending").hidden = false;
  }
}

function wire() {
  $("#search").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("#q").value.trim();
    if (q) go(pageUrl({ q, filters: readUrl().filters }));
  });
  // links the page makes navigate in place; a modified click still opens a new tab
  document.addEventListener("click", (e) => {
    if (e.defaultPrevented || e.button !== 0 || e.ctrlKey || e.metaKey || e.shiftKey) return;
    const tile = e.target.closest("#results li[data-index] a");
    if (tile) {
      e.preventDefault();
      const index = Number(tile.parentElement.dataset.index);
      details.showIndex(index);
      go(pageUrl({ ...readUrl(), id: results.images[index].imageId }), { state: { detail: true } });
      return;
    }
    const link = e.target.closest("a[data-nav]");
    if (link && link.origin === location.origin) {
      e.preventDefault();
      details.close();
      go(link.pathname + link.search);
    }
  });
  document.addEventListener("paste", (e) => {
    if (e.target.closest?.("input, textarea")) return;
    if (imageSearch.paste(e) && readUrl().view !== "image") go(pageUrl({ view: "image" }));
  });
  window.addEventListener("popstate", route);
  window.addEventListener("pixsearch:navigate", route);
  $("#key-form").addEventListener("submit", (e) => e.preventDefault());
  const keyInput = $("#key");
  keyInput.value = api.userKey();
  keyInput.addEventListener("change", () => {
    api.setUserKey(keyInput.value.trim());
    shownSearch = null; // search again with the new key
    route();
  });
  $("#key-note").textContent = api.hasPageKey()
    ? "Optional: this page has a key of its own. Yours is kept in this browser only."
    : "This server needs a key to search. It is kept in this browser only.";
}

api.takeFragmentKey();
wire();
route();
