// The page's state lives in its URL, so every view can be shared, bookmarked and
// reached with back/forward. Filter names and values are the API's own.

const COLORS = ["Black", "Blue", "Brown", "Gray", "Green", "Orange", "Pink", "Purple", "Red",
  "Teal", "White", "Yellow"];

// Each filter: its API parameter, a label, and [value, shown text] choices ("" is the default).
export const FILTERS = [
  { name: "size", label: "Size", choices: [["", "Any size"], ["Small", "Small"],
    ["Medium", "Medium"], ["Large", "Large"], ["Wallpaper", "Extra large"]] },
  { name: "color", label: "Color", swatches: true, choices: [["", "Any color"],
    ["ColorOnly", "Color only"], ["Monochrome", "Black and white"],
    ...COLORS.map((c) => [c, c])] },
  { name: "imageType", label: "Type", choices: [["", "Any type"], ["Photo", "Photograph"],
    ["Clipart", "Clipart"], ["Line", "Line drawing"], ["Graphics", "Graphics"],
    ["Transparent", "Transparent"], ["AnimatedGif", "Animated GIF"],
    ["AnimatedGifHttps", "Animated GIF (https)"], ["Shopping", "Shopping"]] },
  { name: "aspect", label: "Layout", choices: [["", "Any layout"], ["Square", "Square"],
    ["Wide", "Wide"], ["Tall", "Tall"]] },
  { name: "imageContent", label: "People", choices: [["", "All"], ["Face", "Faces only"],
    ["Portrait", "Head & shoulders"], ["NonPortrait", "No portraits"]] },
  { name: "freshness", label: "Date", choices: [["", "Any time"], ["Day", "Past 24 hours"],
    ["Week", "Past week"], ["Month", "Past month"]] },
  { name: "license", label: "License", choices: [["", "All"], ["Any", "All Creative Commons"],
    ["Public", "Public domain"], ["Share", "Free to share and use"],
    ["ShareCommercially", "Free to share and use commercially"],
    ["Modify", "Free to modify, share and use"],
    ["ModifyCommercially", "Free to modify, share and use commercially"]] },
  { name: "safeSearch", label: "SafeSearch", choices: [["", "Moderate"], ["Strict", "Strict"],
    ["Off", "Off"]] },
];
const FILTER_NAMES = FILTERS.map((f) => f.name);

/** What the URL asks for: {q, filters, id, view, customconfig}. */
export function readUrl(loc = location) {
  const params = new URLSearchParams(loc.search);
  const filters = {};
  for (const filter of FILTERS) {
    const value = params.get(filter.name);
    // only known values: a hand-edited URL must not turn into an API error
    if (value && filter.choices.some(([v]) => v === value)) filters[filter.name] = value;
  }
  return {
    q: (params.get("q") || "").trim(),
    filters,
    id: params.get("id") || "",
    view: params.get("view") || "",
    customconfig: params.get("customconfig") || "",
  };
}

/** The page URL for a state; customconfig sticks to every URL the page makes. */
export function pageUrl({ q = "", filters = {}, id = "", view = "" } = {}) {
  const params = new URLSearchParams();
  if (q) params.set("q", q);
  for (const name of FILTER_NAMES) if (filters[name]) params.set(name, filters[name]);
  if (id) params.set("id", id);
  if (view) params.set("view", view);
  const custom = readUrl().customconfig;
  if (custom) params.set("customconfig", custom);
  const query = params.toString();
  if (!query) return "/";
  return `/search?${query}`;
}

/** The part of the state that decides which results are shown (not which one is open). */
export function searchKey(state) {
  return JSON.stringify([state.q, ...FILTER_NAMES.map((n) => state.filters[n] || "")]);
}

export function go(url, { replace = false, state = null } = {}) {
  if (replace) history.replaceState(state, "", url);
  else history.pushState(state, "", url);
  window.dispatchEvent(new Event("pixsearch:navigate"));
}
