// Just enough Kubernetes protobuf to read what kubectl's typed clients send: `kubectl auth
// can-i` (SelfSubjectAccessReview) and `kubectl create namespace|serviceaccount|role|
// clusterrole|rolebinding|clusterrolebinding` send built-in kinds as
// `application/vnd.kubernetes.protobuf` — the `k8s\0` magic, a runtime.Unknown envelope
// (typeMeta, raw), then the message. Field numbers are those of k8s.io/api's generated.proto
// (checked against the bodies kubectl 1.32 sends). Answers are always JSON, which kubectl accepts.
import type { JsonObject } from './patch.js';
import { ApiError, badRequest } from './status.js';

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

/**
 * How to turn a message into JSON: per field number, its JSON name and shape. Optional empty
 * strings are left out (Go's omitempty); repeated strings keep "" (an apiGroups of [""] means core).
 */
type Shape = 'string' | 'strings' | 'map' | Schema | readonly [Schema];
interface Schema {
  readonly [field: number]: readonly [string, Shape];
}

function decodeMessage(buf: Buffer, schema: Schema): JsonObject {
  const f = fields(buf);
  const out: JsonObject = {};
  for (const [num, [name, shape]] of Object.entries(schema) as [string, readonly [string, Shape]][]) {
    const values = f.get(Number(num));
    if (values === undefined) continue;
    if (shape === 'string') {
      const v = values[0]?.toString('utf8') ?? '';
      if (v !== '') out[name] = v;
    } else if (shape === 'strings') out[name] = values.map((v) => v.toString('utf8'));
    else if (shape === 'map') {
      const m: JsonObject = {};
      for (const entry of values) {
        const e = fields(entry);
        m[first(e, 1)?.toString('utf8') ?? ''] = first(e, 2)?.toString('utf8') ?? '';
      }
      out[name] = m;
    } else if (Array.isArray(shape)) out[name] = values.map((v) => decodeMessage(v, shape[0] as Schema));
    else {
      const v = values[0];
      if (v !== undefined) out[name] = decodeMessage(v, shape as Schema);
    }
  }
  return out;
}

const OBJECT_META: Schema = { 1: ['name', 'string'], 2: ['generateName', 'string'], 3: ['namespace', 'string'], 11: ['labels', 'map'], 12: ['annotations', 'map'], 14: ['finalizers', 'strings'] };
const POLICY_RULE: Schema = { 1: ['verbs', 'strings'], 2: ['apiGroups', 'strings'], 3: ['resources', 'strings'], 4: ['resourceNames', 'strings'], 5: ['nonResourceURLs', 'strings'] };
const ROLE: Schema = { 1: ['metadata', OBJECT_META], 2: ['rules', [POLICY_RULE]] };
const BINDING: Schema = {
  1: ['metadata', OBJECT_META],
  2: ['subjects', [{ 1: ['kind', 'string'], 2: ['apiGroup', 'string'], 3: ['name', 'string'], 4: ['namespace', 'string'] }]],
  3: ['roleRef', { 1: ['apiGroup', 'string'], 2: ['kind', 'string'], 3: ['name', 'string'] }],
};

/** The kinds `kubectl create <kind>` sends as protobuf, by `apiVersion/kind`. */
const SCHEMAS: Readonly<Record<string, Schema>> = {
  'v1/Namespace': { 1: ['metadata', OBJECT_META], 2: ['spec', { 1: ['finalizers', 'strings'] }] },
  'v1/ServiceAccount': { 1: ['metadata', OBJECT_META] },
  'rbac.authorization.k8s.io/v1/Role': ROLE,
  'rbac.authorization.k8s.io/v1/ClusterRole': ROLE,
  'rbac.authorization.k8s.io/v1/RoleBinding': BINDING,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': BINDING,
};

/** Whether objects of this kind are read from protobuf bodies (other kinds: 415, as for CRDs). */
export function acceptsProtobuf(apiVersion: string, kind: string): boolean {
  return SCHEMAS[`${apiVersion}/${kind}`] !== undefined;
}

function envelope(body: Buffer): { apiVersion: string; kind: string; raw: Buffer } {
  if (body.length < 4 || !body.subarray(0, 4).equals(MAGIC)) throw badRequest('the protobuf body does not start with the Kubernetes magic number');
  const unknown = fields(body.subarray(4));
  const raw = first(unknown, 2);
  if (raw === undefined) throw badRequest('the protobuf envelope has no object');
  const typeMeta = first(unknown, 1);
  const tm = typeMeta === undefined ? new Map() : fields(typeMeta);
  return { apiVersion: first(tm, 1)?.toString('utf8') ?? '', kind: first(tm, 2)?.toString('utf8') ?? '', raw };
}

/** The JSON form of a protobuf object body; 415 for a kind Margay does not read as protobuf. */
export function decodeProtobufObject(body: Buffer): JsonObject {
  const { apiVersion, kind, raw } = envelope(body);
  const schema = SCHEMAS[`${apiVersion}/${kind}`];
  if (schema === undefined) throw new ApiError(415, 'UnsupportedMediaType', `${apiVersion} ${kind} is not accepted as protobuf; send it as application/json`);
  return { apiVersion, kind, ...decodeMessage(raw, schema) };
}
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
  const review = fields(envelope(body).raw);
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
