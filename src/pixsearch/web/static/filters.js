// The filter bar: one control per search filter of the API; choices live in the URL.
import { FILTERS } from "./url.js";

const SWATCH = {
  Black: "#000", Blue: "#1e5bd8", Brown: "#7b4a1e", Gray: "#888", Green: "#2e9d3a",
  Orange: "#f08a00", Pink: "#f06aa8", Purple: "#7b3fbf", Red: "#d8232a", Teal: "#0f8c8c",
  White: "#fff", Yellow: "#f5d000",
};

function select(filter, value, id) {
  const wrap = document.createElement("span");
  wrap.className = "filter";
  const label = document.createElement("label");
  label.htmlFor = id;
  label.textContent = filter.label;
  const box = document.createElement("select");
  box.id = id;
  box.name = filter.name;
  for (const [v, text] of filter.choices) box.add(new Option(text, v, false, v === value));
  if (value) wrap.classList.add("active");
  wrap.append(label, box);
  return wrap;
}

function swatches(filter, value) {
  const set = document.createElement("fieldset");
  set.className = "filter swatches";
  const legend = document.createElement("legend");
  legend.textContent = filter.label;
  set.append(legend);
  for (const [v, text] of filter.choices) {
    const label = document.createElement("label");
    label.className = `swatch swatch-${(v || "any").toLowerCase()}`;
    label.title = text;
    const radio = document.createElement("input");
    radio.type = "radio";
    radio.name = filter.name;
    radio.value = v;
    radio.checked = v === value;
    radio.className = "visually-hidden";
    const dot = document.createElement("span");
    dot.className = "dot";
    dot.setAttribute("aria-hidden", "true");
    if (SWATCH[v]) dot.style.background = SWATCH[v];
    const name = document.createElement("span");
    name.className = "visually-hidden";
    name.textContent = text;
    label.append(radio, dot, name);
    set.append(label);
  }
  return set;
}

/** Draw the bar for the current filters; onChange gets the new {name: value} map. */
export function renderFilters(form, current, onChange) {
  // the handlers change with every search (they carry its q), the controls only with filters
  form.onchange = () => {
    const data = new FormData(form);
    const chosen = {};
    for (const filter of FILTERS) {
      const v = data.get(filter.name);
      if (v) chosen[filter.name] = v;
    }
    onChange(chosen);
  };
  form.onsubmit = (e) => e.preventDefault();
  form.onclick = (e) => { if (e.target.closest(".clear-filters")) onChange({}); };
  const drawn = JSON.stringify(current);
  if (form.dataset.drawn === drawn) return; // only the open image changed
  form.dataset.drawn = drawn;
  // a keyboard user who just changed a control keeps focus on it across the redraw
  const had = form.contains(document.activeElement) ? document.activeElement : null;
  form.replaceChildren();
  for (const filter of FILTERS) {
    const value = current[filter.name] || "";
    form.append(filter.swatches ? swatches(filter, value)
      : select(filter, value, `filter-${filter.name}`));
  }
  if (Object.keys(current).length) {
    const clear = document.createElement("button");
    clear.type = "button";
    clear.className = "clear-filters";
    clear.textContent = "Clear filters";
    form.append(clear);
  }
  if (had?.name) {
    const same = had.type === "radio" ? `[value="${CSS.escape(had.value)}"]` : "";
    form.querySelector(`[name="${had.name}"]${same}`)?.focus();
  }
}
