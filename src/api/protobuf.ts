// Just enough Kubernetes protobuf to read a SelfSubjectAccessReview: kubectl's typed clients
// (`kubectl auth can-i`) send built-in kinds as `application/vnd.kubernetes.protobuf` — the
// `k8s\0` magic, a runtime.Unknown envelope, then the message. Field numbers are from
// k8s.io/api/authorization/v1/generated.proto.
import type { JsonObject } from './patch.js';
import { badRequest } from './status.js';

export const PROTOBUF_CONTENT_TYPE = 'application/vnd.kubernetes.protobuf';
const MAGIC = Buffer.from([0x6b, 0x38, 0x73, 0x00]);

type Fields = Map<number, Buffer[]>;

/** Length-delimited and varint fields of one message (varints are skipped; we need none). */
function fields(buf: Buffer): Fields {
  const out: Fields = new Map();
  let i = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length) throw badRequest('truncated protobuf message');
      const b = buf[i++] as number;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
      if (shift > 63) throw badRequest('bad varint in protobuf message');
    }
  };
  while (i < buf.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    const wire = key & 7;
    if (wire === 0) varint();
    else if (wire === 2) {
      const len = varint();
      if (i + len > buf.length) throw badRequest('truncated protobuf message');
      const list = out.get(field) ?? [];
      list.push(buf.subarray(i, i + len));
      out.set(field, list);
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw badRequest(`unsupported protobuf wire type ${wire}`);
  }
  return out;
}

const first = (f: Fields, n: number): Buffer | undefined => f.get(n)?.[0];
const str = (f: Fields, n: number): string | undefined => first(f, n)?.toString('utf8');

function strings(f: Fields, names: Record<number, string>): JsonObject {
  const o: JsonObject = {};
  for (const [n, name] of Object.entries(names)) {
    const v = str(f, Number(n));
    if (v !== undefined) o[name] = v;
  }
  return o;
}

/** The JSON form of a protobuf SelfSubjectAccessReview body. */
export function decodeSelfSubjectAccessReview(body: Buffer): JsonObject {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('the protobuf body does not start with the Kubernetes magic number');
  const unknown = fields(body.subarray(4));
  const raw = first(unknown, 2);
  if (raw === undefined) throw badRequest('the protobuf envelope has no object');
  const review = fields(raw);
  const specBuf = first(review, 2);
  const spec: JsonObject = {};
  if (specBuf !== undefined) {
    const s = fields(specBuf);
    const ra = first(s, 1);
    const nra = first(s, 2);
    if (ra !== undefined) spec.resourceAttributes = strings(fields(ra), { 1: 'namespace', 2: 'verb', 3: 'group', 4: 'version', 5: 'resource', 6: 'subresource', 7: 'name' });
    if (nra !== undefined) spec.nonResourceAttributes = strings(fields(nra), { 1: 'path', 2: 'verb' });
  }
  return { apiVersion: 'authorization.k8s.io/v1', kind: 'SelfSubjectAccessReview', spec };
}
