/**
 * A tiny element builder: the whole UI is made with createElement and text nodes (never
 * innerHTML), so e-RS data can never become markup, and handlers are attached with
 * addEventListener because the CSP forbids inline handlers.
 */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Handler<K extends keyof HTMLElementEventMap> = (event: HTMLElementEventMap[K]) => void;

export interface Attributes {
  [name: string]: string | number | boolean | null | undefined | Handler<'click'> | Handler<'submit'> | Handler<'change'>;
  onclick?: Handler<'click'>;
  onsubmit?: Handler<'submit'>;
  onchange?: Handler<'change'>;
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attributes: Attributes = {}, ...children: Child[]): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (typeof value === 'function') {
      element.addEventListener(name.slice(2), value as EventListener);
    } else if (value === true) {
      element.setAttribute(name, '');
    } else if (value !== false && value !== null && value !== undefined) {
      element.setAttribute(name, String(value));
    }
  }
  append(element, children);
  return element;
}

export function append(parent: Node, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    if (typeof child === 'string' || typeof child === 'number') parent.appendChild(document.createTextNode(String(child)));
    else if (child instanceof Node) parent.appendChild(child);
    else append(parent, child);
  }
}

export function replaceChildren(parent: Element, ...children: Child[]): void {
  parent.replaceChildren();
  append(parent, children);
}

export function byId(id: string): HTMLElement {
  const element = document.getElementById(id);
  if (element === null) throw new Error(`#${id} is missing from index.html`);
  return element;
}

/** Text a screen reader says but the page does not show (NHS.UK's visually-hidden class). */
export function hidden(text: string): HTMLSpanElement {
  return h('span', { class: 'nhsuk-u-visually-hidden' }, text);
}
