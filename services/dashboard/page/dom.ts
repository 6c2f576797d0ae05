// A tiny element builder: text always goes in as text, never as HTML, so nothing a source
// answers (an error message, a fault id) can inject markup into the page.

type Child = Node | string | number | false | undefined;

export function h(
  tag: string,
  attributes: Readonly<Record<string, string>> = {},
  ...children: Child[]
): HTMLElement {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) element.setAttribute(name, value);
  append(element, children);
  return element;
}

const SVG_NS = 'http://www.w3.org/2000/svg';

export function s(
  tag: string,
  attributes: Readonly<Record<string, string | number>> = {},
  ...children: Child[]
): SVGElement {
  const element = document.createElementNS(SVG_NS, tag);
  for (const [name, value] of Object.entries(attributes)) {
    element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === false || child === undefined) continue;
    parent.append(typeof child === 'number' ? String(child) : child);
  }
}

/** Replaces what `id` holds with `content`. */
export function fill(id: string, ...content: Node[]): void {
  document.getElementById(id)?.replaceChildren(...content);
}
