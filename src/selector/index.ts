// PLACEHOLDER — the selector module is being written; this file only pins the public contract.
export type Labels = Readonly<Record<string, string>>;
export interface Selector {
  matches(labels: Labels): boolean;
  toString(): string;
}
export function parseSelector(_text: string): Selector {
  throw new Error('selector module not written yet');
}
