// Calls to the public API, exactly as any client makes them, with the page's key.
import { readUrl } from "./url.js";

const STORED = "pixsearch-key";
const pageKey = document.querySelector('meta[name="pixsearch-page-key"]')?.content || "";

export class ApiError extends Error {
  constructor(status, message, retryAfter) {
    super(message);
    this.status = status;
    this.retryAfter = retryAfter;
  }
}

// `pixsearch demo` links to /search?q=…#key=…: the fragment never reaches the server.
export function takeFragmentKey() {
  const fromFragment = new URLSearchParams(location.hash.slice(1)).get("key");
  if (!fromFragment) return;
  localStorage.setItem(STORED, fromFragment);
  history.replaceState(history.state, "", location.pathname + location.search);
}

export function userKey() { return localStorage.getItem(STORED) || ""; }
export function setUserKey(value) {
  if (value) localStorage.setItem(STORED, value);
  else localStorage.removeItem(STORED);
}
export function hasPageKey() { return Boolean(pageKey); }

function keyHeaders(useUserKey) {
  const key = useUserKey ? userKey() : pageKey;
  return key ? { "Ocp-Apim-Subscription-Key": key } : {};
}

async function call(path, params, init = {}) {
  const url = `${path}?${new URLSearchParams(params)}`;
  const useUserKey = Boolean(userKey());
  let res = await fetch(url, { ...init, headers: keyHeaders(useUserKey) });
  if (res.status === 401 && useUserKey && pageKey) {
    // a stale typed or demo key (the demo draws a new one each run): fall back to the page's
    setUserKey("");
    res = await fetch(url, { ...init, headers: keyHeaders(false) });
  }
  if (res.status === 429 && !init.retried) {
    // over the key's rate for this second: wait as told (briefly), then try once more
    const wait = Number(res.headers.get("Retry-After")) || 1;
    if (wait <= 2) {
      await new Promise((done) => setTimeout(done, wait * 1000));
      return call(path, params, { ...init, retried: true });
    }
  }
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const message = body.errors?.[0]?.message || res.statusText;
    throw new ApiError(res.status, message, Number(res.headers.get("Retry-After")) || 1);
  }
  return body;
}

function withCustom(params) {
  const custom = readUrl().customconfig;
  return custom ? { ...params, customConfig: custom } : params;
}

/** One page of results: q, the filters (API names), offset, count and a pinned id. */
export function search({ q, filters = {}, offset = 0, count = 50, id = "" }) {
  const params = withCustom({ q, ...filters, count: String(count), offset: String(offset) });
  if (id) params.id = id;
  const path = readUrl().customconfig ? "/v7.0/custom/images/search" : "/v7.0/images/search";
  return call(path, params);
}

/** Insights of a known image; its token carries any custom instance. */
export function details({ insightsToken, id }) {
  const params = { modules: "All" };
  if (insightsToken) params.insightsToken = insightsToken;
  else params.id = id;
  return call("/v7.0/images/details", params);
}

/** Insights of a picture: the multipart `image` part, with an optional crop (0..1 fractions). */
export function detailsOfPicture(blob, crop) {
  const params = { modules: "All" };
  if (crop) Object.assign(params, crop);
  const form = new FormData();
  form.append("image", blob, "image");
  return call("/v7.0/images/details", params, { method: "POST", body: form });
}

export function trending() {
  return call("/v7.0/images/trending", withCustom({}));
}

export async function stats() {
  const res = await fetch("/stats");
  return res.ok ? res.json() : null;
}
