// The search page: calls the public API like any client would.
const $ = (sel) => document.querySelector(sel);
const PAGE = 50;
const state = { q: "", offset: 0, seen: new Set() };

function key() { return localStorage.getItem("pixsearch-key") || ""; }

async function search(q, offset) {
  const params = new URLSearchParams({ q, count: String(PAGE), offset: String(offset) });
  const res = await fetch(`/v7.0/images/search?${params}`, {
    headers: { "Ocp-Apim-Subscription-Key": key() },
  });
  const body = await res.json();
  if (!res.ok) throw new Error(body.errors?.[0]?.message || res.statusText);
  return body;
}

function tile(img) {
  const li = document.createElement("li");
  const ratio = img.thumbnail.width / Math.max(img.thumbnail.height, 1);
  li.style.flexBasis = `${Math.round(180 * ratio)}px`;
  li.style.background = `#${img.accentColor}`;
  const host = new URL(img.hostPageUrl).host;
  li.innerHTML = `<a href="${img.hostPageUrl}"><img loading="lazy" alt=""></a>
    <span class="meta"></span>`;
  li.querySelector("img").src = img.thumbnailUrl;
  li.querySelector("img").alt = img.name;
  li.querySelector(".meta").textContent =
    `${img.width}×${img.height} · ${img.encodingFormat} · ${host}`;
  return li;
}

async function run(q, offset) {
  if (!q) return;
  $("#status").textContent = "Searching…";
  try {
    const body = await search(q, offset);
    if (offset === 0) { $("#results").replaceChildren(); state.seen.clear(); }
    for (const img of body.value) {
      if (state.seen.has(img.imageId)) continue;
      state.seen.add(img.imageId);
      $("#results").append(tile(img));
    }
    state.offset = body.nextOffset;
    $("#status").textContent = `About ${body.totalEstimatedMatches} results`;
    // a short page is the last one (collapsed duplicates make the total an overestimate)
    $("#more").hidden = body.value.length < PAGE || body.nextOffset >= body.totalEstimatedMatches;
  } catch (err) {
    $("#status").textContent = `Error: ${err.message}`;
  }
}

// `pixsearch demo` links to /search?q=…#key=…: the fragment never reaches the server.
const fragmentKey = new URLSearchParams(location.hash.slice(1)).get("key");
if (fragmentKey) {
  localStorage.setItem("pixsearch-key", fragmentKey);
  history.replaceState(null, "", location.pathname + location.search);
}
$("#key").value = key();
$("#key").addEventListener("change", (e) => localStorage.setItem("pixsearch-key", e.target.value));
$("#search").addEventListener("submit", (e) => {
  e.preventDefault();
  state.q = $("#q").value.trim();
  history.pushState({}, "", `/search?q=${encodeURIComponent(state.q)}`);
  run(state.q, 0);
});
$("#more").addEventListener("click", () => run(state.q, state.offset));
async function showTrending() {
  const res = await fetch("/v7.0/images/trending", {
    headers: { "Ocp-Apim-Subscription-Key": key() },
  });
  if (!res.ok) return; // no key yet: the page still searches once one is set
  const body = await res.json();
  for (const category of body.categories) {
    const heading = document.createElement("h2");
    heading.textContent = category.title;
    const list = document.createElement("ul");
    list.className = "grid";
    for (const tile of category.tiles) {
      const li = document.createElement("li");
      const ratio = tile.image.thumbnail.width / Math.max(tile.image.thumbnail.height, 1);
      li.style.flexBasis = `${Math.round(180 * ratio)}px`;
      li.innerHTML = `<a><img loading="lazy" alt=""></a><span class="meta"></span>`;
      const params = new URLSearchParams({ q: tile.query.text, id: tile.image.imageId });
      li.querySelector("a").href = `/search?${params}`;
      li.querySelector("img").src = tile.image.thumbnailUrl;
      li.querySelector("img").alt = tile.query.text;
      li.querySelector(".meta").textContent = tile.query.text;
      li.querySelector(".meta").style.opacity = "1";
      list.append(li);
    }
    $("#trending").append(heading, list);
  }
}

const initial = new URLSearchParams(location.search).get("q");
if (initial) { $("#q").value = initial; state.q = initial; run(initial, 0); } else { showTrending(); }
