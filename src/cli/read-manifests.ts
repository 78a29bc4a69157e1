// Reads the files named by -f (a file, a directory of .yaml/.yml/.json files, or - for stdin)
// and decodes them, gathering every problem from every file before failing.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, type Problem } from '../errors/index.js';
import { decodeManifests, type Decoded } from '../resources/index.js';

const MANIFEST_EXTENSIONS = /\.(ya?ml|json)$/i;

export interface ManifestText {
  readonly file: string;
  readonly text: string;
}

/** The text of every file named (directories expanded); unreadable files become problems. */
export function readManifestTexts(paths: readonly string[], stdin: () => string, problems: Problem[]): ManifestText[] {
  const texts: ManifestText[] = [];
  for (const file of paths.flatMap(expand)) {
    try {
      texts.push({ file, text: file === '-' ? stdin() : readFileSync(file, 'utf8') });
    } catch (err) {
      problems.push({ file, message: `cannot read file: ${(err as NodeJS.ErrnoException).code ?? String(err)}` });
    }
  }
  return texts;
}

/**
 * Reads and decodes every file. Objects of kinds simulate has no use for (Deployments, Services,
 * …) are passed over and reported through `onNote`, so a whole application's manifests load.
 */
export function readManifests(paths: readonly string[], stdin: () => string, onNote: (note: string) => void = () => undefined): Decoded[] {
  const decoded: Decoded[] = [];
  const problems: Problem[] = [];
  for (const { file, text } of readManifestTexts(paths, stdin, problems)) {
    try {
      decoded.push(
        ...decodeManifests(text, file, {
          onForeign: (o) =>
            onNote(`ignoring ${o.apiVersion} ${o.kind}${o.name !== undefined ? ` ${o.name}` : ''} in ${o.source.file} (document ${o.source.document}): Margay does not use this kind`),
        }),
      );
    } catch (err) {
      if (err instanceof UserError) problems.push(...err.problems);
      else throw err;
    }
  }
  if (problems.length > 0) throw new UserError(problems);
  return decoded;
}

function expand(path: string): string[] {
  if (path === '-') return [path];
  let isDirectory: boolean;
  try {
    isDirectory = statSync(path).isDirectory();
  } catch {
    return [path]; // reported as unreadable when read
  }
  if (!isDirectory) return [path];
  return readdirSync(path)
    .filter((name) => MANIFEST_EXTENSIONS.test(name))
    .sort()
    .map((name) => join(path, name));
}
