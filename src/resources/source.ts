// Where a decoded object came from, so every later error can point back at the manifest.
import type { Resource } from './types.js';

export interface SourceRef {
  file: string;
  /** 1-based document number within the file (List items share their List's document). */
  document: number;
  /** 1-based line of the object in the file, when known. */
  line?: number;
}

export interface Decoded<R extends Resource = Resource> {
  source: SourceRef;
  resource: R;
}
