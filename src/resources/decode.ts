// Placeholder while the decoder is written.
import { BugError } from '../errors/index.js';
import type { Resource } from './types.js';
import type { Decoded, SourceRef } from './source.js';
export function decodeManifests(_text: string, _file: string): Decoded[] { throw new BugError('not yet'); }
export function decodeObject(_obj: unknown, _source: SourceRef): Resource { throw new BugError('not yet'); }
