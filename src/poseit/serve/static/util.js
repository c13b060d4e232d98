// Small helpers shared by the pages.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  Object.assign(node, props);
  node.append(...children);
  return node;
}

export async function fetchJson(url, options = {}) {
  const res = await fetch(url, { credentials: "same-origin", ...options });
  const body = await res.json().catch(() => ({}));
  if (!res.ok) throw new Error(body.detail ? String(body.detail) : `${res.status} ${res.statusText}`);
  return body;
}

export function fillExercises(select, exercises, chosen) {
  select.replaceChildren(...exercises.map((e) => el("option", { value: e.id, selected: e.id === chosen }, e.name)));
}

export const SVG = "http://www.w3.org/2000/svg";

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  node.append(...children);
  return node;
}
