// Maps the API's validation causes (field paths such as `spec.ingress[0].ports[1].port`) to lines
// of the YAML the user is editing, so each error is shown at its field.
import { isNode, LineCounter, parseDocument } from 'yaml';

/** `spec.ingress[0].ports[1].port` → ['spec', 'ingress', 0, 'ports', 1, 'port']. */
export function fieldPathSegments(path: string): (string | number)[] {
  const out: (string | number)[] = [];
  const re = /([^.[\]]+)|\[(\d+)\]|\[([^\]]*)\]/g;
  for (let m = re.exec(path); m !== null; m = re.exec(path)) {
    if (m[1] !== undefined) out.push(m[1]);
    else if (m[2] !== undefined) out.push(Number(m[2]));
    else if (m[3] !== undefined) out.push(m[3].replace(/^"|"$/g, ''));
  }
  return out;
}

/** The 1-based line of the deepest node of `path` present in `text` (undefined when none is). */
export function lineOfField(text: string, path: string): number | undefined {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc });
  const segs = fieldPathSegments(path);
  for (let n = segs.length; n > 0; n--) {
    const node = doc.getIn(segs.slice(0, n), true);
    if (isNode(node) && node.range !== undefined && node.range !== null) return lc.linePos(node.range[0]).line;
  }
  return undefined;
}
