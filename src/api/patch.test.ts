// Strategic merge patch, JSON merge patch, label selectors and field ownership: pure functions.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { fieldSetOf, serverSideApply, updateManagedFields } from './managed-fields.js';
import { applyMergePatch, applyStrategicMergePatch, createMergePatch, type JsonObject } from './patch.js';
import { patchMetaFor } from './patch-meta.js';
import { parseLabelSelector } from './selectors.js';
import { ApiError } from './status.js';

const POD = patchMetaFor('v1', 'Pod');
const pod = (): JsonObject => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name: 'p', labels: { a: '1', b: '2' }, finalizers: ['x', 'y'] },
  spec: {
    containers: [
      { name: 'web', image: 'nginx', ports: [{ containerPort: 80 }, { containerPort: 443 }], env: [{ name: 'A', value: '1' }] },
      { name: 'log', image: 'busybox' },
    ],
    volumes: [{ name: 'data', emptyDir: {} }],
    tolerations: [{ key: 'k' }],
  },
});

describe('strategic merge patch', () => {
  it('merges lists by their merge key and keeps unnamed items', () => {
    const out = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'web', image: 'nginx:2' }, { name: 'new', image: 'x' }] } }, POD);
    const containers = (out.spec as JsonObject).containers as JsonObject[];
    assert.deepEqual(containers.map((c) => c.name), ['web', 'log', 'new']);
    assert.equal(containers[0]?.image, 'nginx:2');
    assert.equal((containers[0]?.ports as unknown[]).length, 2, 'untouched nested list kept');
  });

  it('merges nested keyed lists (ports by containerPort, env by name)', () => {
    const out = applyStrategicMergePatch(pod(), { spec: { containers: [{ name: 'web', ports: [{ containerPort: 80, name: 'http' }, { containerPort: 8080 }], env: [{ name: 'B', value: '2' }] }] } }, POD);
    const web = ((out.spec as JsonObject).containers as JsonObject[])[0] as JsonObject;
    assert.deepEqual(web.ports, [{ containerPort: 80, name: 'http' }, { containerPort: 443 }, { containerPort: 8080 }]);
    assert.deepEqual((web.env as JsonObject[]).map((e) => e.name), ['A', 'B']);
  });

  it('replaces lists without a strategy (atomic)', () => {
    const out = applyStrategicMergePatch(pod(), { spec: { tolerations: [{ key: 'other' }] } }, POD);
    assert.deepEqual((out.spec as JsonObject).tolerations, [{ key: 'other' }]);
  });

  it('honours $patch: delete on list items and maps, and null deletes fields', () => {
    const out = applyStrategicMergePatch(pod(), { metadata: { labels: { a: null } }, spec: { containers: [{ name: 'log', $patch: 'delete' }], volumes: null } }, POD);
    assert.deepEqual((out.metadata as JsonObject).labels, { b: '2' });
    assert.deepEqual(((out.spec as JsonObject).containers as JsonObject[]).map((c) => c.name), ['web']);
    assert.equal((out.spec as JsonObject).volumes, undefined);
    const noLabels = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'delete' } } }, POD);
    assert.equal((noLabels.metadata as JsonObject).labels, undefined);
  });

  it('honours $patch: replace on maps and lists', () => {
    const out = applyStrategicMergePatch(pod(), { metadata: { labels: { $patch: 'replace', c: '3' } }, spec: { containers: [{ $patch: 'replace' }, { name: 'only', image: 'i' }] } }, POD);
    assert.deepEqual((out.metadata as JsonObject).labels, { c: '3' });
    assert.deepEqual((out.spec as JsonObject).containers, [{ name: 'only', image: 'i' }]);
  });

  it('orders by $setElementOrder and removes with $deleteFromPrimitiveList', () => {
    const out = applyStrategicMergePatch(
      pod(),
      {
        metadata: { ['$deleteFromPrimitiveList/finalizers']: ['x'], finalizers: ['z'] },
        spec: { ['$setElementOrder/containers']: [{ name: 'log' }, { name: 'web' }], containers: [{ name: 'web', image: 'n2' }] },
      } as unknown as JsonObject,
      POD,
    );
    assert.deepEqual((out.metadata as JsonObject).finalizers, ['y', 'z']);
    assert.deepEqual(((out.spec as JsonObject).containers as JsonObject[]).map((c) => `${String(c.name)}:${String(c.image)}`), ['log:busybox', 'web:n2']);
  });

  it('keeps only $retainKeys', () => {
    const out = applyStrategicMergePatch(pod(), { spec: { volumes: [{ name: 'data', $retainKeys: ['name', 'hostPath'], hostPath: { path: '/x' } }] } }, POD);
    assert.deepEqual((out.spec as JsonObject).volumes, [{ name: 'data', hostPath: { path: '/x' } }]);
  });

  it('rejects malformed directives with 400', () => {
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { $patch: 'explode' } }, POD), (e: unknown) => e instanceof ApiError && e.code === 400);
    assert.throws(() => applyStrategicMergePatch(pod(), { spec: { containers: [{ image: 'no-name' }] } }, POD), (e: unknown) => e instanceof ApiError && e.code === 400);
    assert.throws(() => applyStrategicMergePatch(pod(), [1] as unknown as JsonObject, POD), (e: unknown) => e instanceof ApiError && e.code === 400);
  });
});

describe('JSON merge patch', () => {
  it('round-trips createMergePatch and applyMergePatch', () => {
    const a: JsonObject = { a: 1, b: { c: [1, 2], d: 'x' }, e: true };
    const b: JsonObject = { a: 2, b: { c: [3], f: null as unknown as string }, g: 'new' };
    const clean = JSON.parse(JSON.stringify(b, (_k, v: unknown) => (v === null ? undefined : v))) as JsonObject;
    const patch = createMergePatch(a, clean);
    assert.deepEqual(applyMergePatch(a, patch ?? {}), clean);
    assert.equal(createMergePatch(a, a), undefined);
  });
});

describe('label selectors', () => {
  const m = (sel: string, labels: Record<string, string>): boolean => (parseLabelSelector(sel) ?? (() => true))(labels);
  it('implements the Kubernetes syntax', () => {
    assert.ok(m('a=b', { a: 'b' }));
    assert.ok(m('a==b,c!=d', { a: 'b' }));
    assert.ok(!m('a==b,c!=d', { a: 'b', c: 'd' }));
    assert.ok(m('e in (x, y),!f', { e: 'y' }));
    assert.ok(!m('e in (x,y)', {}));
    assert.ok(m('e notin (x)', {}));
    assert.ok(m('has', { has: '' }) && !m('has', {}));
    assert.ok(m('n>3,n<10', { n: '5' }) && !m('n>3', { n: 'x' }));
    assert.ok(m('a=', { a: '' }));
  });
  it('rejects bad selectors with 400 naming the position', () => {
    for (const bad of ['a in (', 'a ~ b', '=b', 'a=b,', 'a b', 'UPPER/x=1']) {
      assert.throws(() => parseLabelSelector(bad), (e: unknown) => e instanceof ApiError && e.code === 400, bad);
    }
  });
});

describe('field ownership', () => {
  const meta = patchMetaFor('v1', 'Pod');
  it('builds FieldsV1 sets with keyed list items', () => {
    const set = fieldSetOf(pod(), meta);
    assert.deepEqual(Object.keys(set), ['f:metadata', 'f:spec']);
    const containers = ((set['f:spec'] ?? {})['f:containers'] ?? {});
    assert.ok('k:{"name":"web"}' in containers);
    assert.ok('k:{"containerPort":80}' in (containers['k:{"name":"web"}']?.['f:ports'] ?? {}));
    assert.ok('v:"x"' in ((set['f:metadata'] ?? {})['f:finalizers'] ?? {}));
  });
  it('moves ownership of changed fields to the updater', () => {
    const first = updateManagedFields(undefined, pod(), 'a', meta, 'v1', 't');
    const next = structuredClone(pod());
    ((next.spec as JsonObject).containers as JsonObject[])[0]!.image = 'changed';
    const second = updateManagedFields({ ...pod(), metadata: { ...(pod().metadata as JsonObject), managedFields: first as unknown as JsonObject[] } }, next, 'b', meta, 'v1', 't');
    assert.deepEqual(second.map((e) => e.manager), ['a', 'b']);
    assert.deepEqual(second[1]?.fieldsV1, { 'f:spec': { 'f:containers': { 'k:{"name":"web"}': { 'f:image': {} } } } });
  });
  it('apply merges keyed lists and reports conflicts per field', () => {
    const owned = updateManagedFields(undefined, pod(), 'editor', meta, 'v1', 't');
    const current: JsonObject = { ...pod(), metadata: { ...(pod().metadata as JsonObject), managedFields: owned as unknown as JsonObject[] } };
    const cfg: JsonObject = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p' }, spec: { containers: [{ name: 'web', image: 'other' }] } };
    const r = serverSideApply(current, cfg, 'applier', false, meta, 'v1', 't');
    assert.deepEqual(r.conflicts.map((c) => c.field), ['.spec.containers[name="web"].image']);
    const forced = serverSideApply(current, cfg, 'applier', true, meta, 'v1', 't');
    const containers = (forced.object.spec as JsonObject).containers as JsonObject[];
    assert.deepEqual(containers.map((c) => `${String(c.name)}:${String(c.image)}`), ['web:other', 'log:busybox']);
  });
});
