// The one error a selector's text can raise: what was expected, and where (a 0-based offset).
import { UserError } from '../errors/index.js';

/**
 * A selector that Calico would reject. `position` is the 0-based offset into `selector` (in
 * UTF-16 code units, i.e. a JavaScript string index; the length of the text means "at the end").
 * The message reads `invalid selector "a == ": expected a quoted string at position 5`.
 */
export class SelectorSyntaxError extends UserError {
  readonly position: number;
  readonly selector: string;
  /** What was expected, without the location: `expected a quoted string`. */
  readonly expectation: string;
  constructor(selector: string, position: number, expectation: string, path?: string) {
    const message = `invalid selector ${JSON.stringify(selector)}: ${expectation} at position ${position}`;
    super(path === undefined || path === '' ? { message } : { path, message });
    this.name = 'SelectorSyntaxError';
    this.position = position;
    this.selector = selector;
    this.expectation = expectation;
  }

  /** The same error, located at a field such as `spec.ingress[0].source.selector`. */
  atPath(path: string): SelectorSyntaxError {
    return new SelectorSyntaxError(this.selector, this.position, this.expectation, path);
  }
}
