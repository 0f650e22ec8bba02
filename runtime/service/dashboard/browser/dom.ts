/**
 * The few browser APIs the dashboard's script uses, as types. The runtime compiles with Node's types
 * only (no `lib.dom`, which would change the globals of the whole program), so the browser code is
 * written against these and receives `window` as a parameter. Types only: nothing here reaches the page.
 */

export interface DomEvent {
  readonly type: string;
  readonly key?: string;
  preventDefault(): void;
}

export interface DomClassList {
  add(...names: string[]): void;
  remove(...names: string[]): void;
  toggle(name: string, force?: boolean): boolean;
  contains(name: string): boolean;
}

export type Child = DomElement | string | null | undefined | false;

export interface DomElement {
  textContent: string | null;
  hidden: boolean;
  id: string;
  readonly tagName: string;
  readonly classList: DomClassList;
  readonly children: { readonly length: number; item(index: number): DomElement | null };
  readonly isConnected: boolean;
  setAttribute(name: string, value: string): void;
  getAttribute(name: string): string | null;
  removeAttribute(name: string): void;
  append(...nodes: (DomElement | string)[]): void;
  replaceChildren(...nodes: (DomElement | string)[]): void;
  addEventListener(type: string, listener: (event: DomEvent) => void): void;
  querySelector(selectors: string): DomElement | null;
  contains(other: DomElement | null): boolean;
  focus(): void;
  remove(): void;
}

/** `<input>`, `<select>`, `<button>`. */
export interface DomControl extends DomElement {
  value: string;
  checked: boolean;
  disabled: boolean;
}

export interface DomDocument {
  title: string;
  readonly activeElement: DomElement | null;
  getElementById(id: string): DomElement | null;
  createElement(tag: string): DomElement;
  createElementNS(namespace: string, tag: string): DomElement;
}

export interface DomStorage {
  getItem(key: string): string | null;
  setItem(key: string, value: string): void;
  removeItem(key: string): void;
}

/** The parts of `window` the script uses; methods are always called on it (`w.fetch(...)`). */
export interface DomWindow {
  readonly document: DomDocument;
  readonly location: { hash: string };
  readonly sessionStorage: DomStorage;
  readonly AbortController: typeof AbortController;
  readonly TextDecoder: typeof TextDecoder;
  fetch(input: string, init?: RequestInit): Promise<Response>;
  setTimeout(handler: () => void, ms: number): number;
  clearTimeout(handle: number | undefined): void;
  addEventListener(type: string, listener: (event: DomEvent) => void): void;
}
