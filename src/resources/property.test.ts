// Property tests: whatever JSON value lands at whatever field of a valid object, decoding either
// succeeds (and the result decodes to itself) or throws a UserError with well-formed problems.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { isUserError } from '../errors/index.js';
import { decodeManifests, decodeObject } from './index.js';

const VALID: readonly unknown[] = [
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'NetworkPolicy',
    metadata: { name: 'p', namespace: 'n', labels: { a: 'b' } },
    spec: {
      tier: 'default',
      order: 10,
      selector: "app == 'x'",
      types: ['Ingress', 'Egress'],
      ingress: [
        {
          action: 'Allow',
          protocol: 'TCP',
          source: { selector: 'has(a)', namespaceSelector: 'global()', nets: ['10.0.0.0/8'], serviceAccounts: { names: ['s'] } },
          destination: { ports: [80, '90:99', 'http'], notNets: ['10.1.0.0/16'] },
          http: { methods: ['GET'], paths: [{ prefix: '/a' }] },
        },
        { action: 'Deny', protocol: 'ICMP', icmp: { type: 8, code: 0 }, ipVersion: 4 },
      ],
      egress: [{ action: 'Allow', destination: { services: { name: 'api', namespace: 'x' } } }],
    },
  },
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'GlobalNetworkPolicy',
    metadata: { name: 't.g' },
    spec: { tier: 't', doNotTrack: true, applyOnForward: true, ingress: [{ action: 'Pass', notProtocol: 17 }] },
  },
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'StagedKubernetesNetworkPolicy',
    metadata: { name: 's', namespace: 'n' },
    spec: { stagedAction: 'Delete' },
  },
  {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'k', namespace: 'n' },
    spec: {
      podSelector: { matchLabels: { app: 'db' }, matchExpressions: [{ key: 'x', operator: 'In', values: ['y'] }] },
      policyTypes: ['Ingress', 'Egress'],
      ingress: [{ from: [{ podSelector: {} }, { ipBlock: { cidr: '10.0.0.0/8', except: ['10.1.0.0/16'] } }], ports: [{ port: 80, endPort: 90 }, { port: 'dns', protocol: 'UDP' }] }],
      egress: [{ to: [{ namespaceSelector: {} }] }],
    },
  },
  {
    apiVersion: 'policy.networking.k8s.io/v1alpha1',
    kind: 'AdminNetworkPolicy',
    metadata: { name: 'a' },
    spec: {
      priority: 3,
      subject: { pods: { namespaceSelector: {}, podSelector: { matchLabels: { a: 'b' } } } },
      ingress: [{ name: 'r', action: 'Pass', from: [{ namespaces: {} }], ports: [{ portNumber: { port: 80 } }, { portRange: { start: 1, end: 2 } }] }],
      egress: [{ action: 'Deny', to: [{ networks: ['0.0.0.0/0'] }, { nodes: {} }] }],
    },
  },
  {
    apiVersion: 'policy.networking.k8s.io/v1alpha2',
    kind: 'ClusterNetworkPolicy',
    metadata: { name: 'c' },
    spec: {
      tier: 'Baseline',
      priority: 0,
      subject: { namespaces: {} },
      egress: [{ action: 'Accept', to: [{ pods: { podSelector: {} } }], protocols: [{ tcp: { destinationPort: { number: 443 } } }, { destinationNamedPort: 'dns' }] }],
    },
  },
  {
    apiVersion: 'projectcalico.org/v3',
    kind: 'IPPool',
    metadata: { name: 'pool' },
    spec: { cidr: '10.244.0.0/16', blockSize: 24, vxlanMode: 'Always', allowedUses: ['Workload'] },
  },
  {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name: 'p', namespace: 'n', labels: { app: 'web' } },
    spec: { nodeName: 'n1', containers: [{ name: 'c', ports: [{ containerPort: 80, name: 'http' }] }] },
    status: { podIP: '10.0.0.1', podIPs: [{ ip: '10.0.0.1' }] },
  },
];

type Path = (string | number)[];

/** Every path in a JSON value, the root included. */
function paths(v: unknown, at: Path = []): Path[] {
  const out: Path[] = [at];
  if (Array.isArray(v)) v.forEach((x, i) => out.push(...paths(x, [...at, i])));
  else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) out.push(...paths(x, [...at, k]));
  return out;
}

/** A deep copy of `root` with `value` written at `path` (or at a new key under it when `key`). */
function setAt(root: unknown, path: Path, value: unknown, key: string | undefined): unknown {
  const copy = structuredClone(root);
  if (path.length === 0 && key === undefined) return value;
  let parent: Record<string | number, unknown> = copy as Record<string | number, unknown>;
  for (const seg of path.slice(0, key === undefined ? -1 : undefined)) parent = parent[seg] as Record<string | number, unknown>;
  if (key !== undefined) {
    if (parent !== null && typeof parent === 'object' && !Array.isArray(parent)) parent[key] = value;
  } else {
    parent[path[path.length - 1]!] = value;
  }
  return copy;
}

const mutation = fc
  .nat({ max: VALID.length - 1 })
  .chain((i) => {
    const base = VALID[i];
    const all = paths(base);
    return fc.record({
      base: fc.constant(base),
      path: fc.constantFrom(...all),
      value: fc.jsonValue({ maxDepth: 3 }),
      key: fc.option(fc.oneof(fc.constantFrom('spec', 'ports', 'selector', 'name', 'items', 'kind'), fc.string({ maxLength: 8 })), { nil: undefined }),
    });
  })
  .map(({ base, path, value, key }) => setAt(base, path, value, key));

function checkOutcome(run: () => unknown): unknown {
  try {
    return run();
  } catch (err) {
    assert.ok(isUserError(err), `threw a non-UserError: ${String(err)}`);
    assert.ok(err.problems.length > 0);
    for (const p of err.problems) {
      assert.ok(p.message.length > 0);
      // zod's own wording or a stringified object must never reach the user.
      assert.doesNotMatch(p.message, /Invalid input|\[object |undefined/);
    }
    return undefined;
  }
}

test('the valid seeds decode', () => {
  for (const v of VALID) decodeObject(v, { file: 'seed', document: 1 });
});

test('random JSON at random fields: only UserError, and decoded output decodes to itself', () => {
  fc.assert(
    fc.property(mutation, (obj) => {
      const src = { file: 'prop', document: 1 };
      const decoded = checkOutcome(() => decodeObject(obj, src));
      if (decoded !== undefined) assert.deepEqual(decodeObject(decoded, src), decoded);
      checkOutcome(() => decodeManifests(JSON.stringify(obj), 'prop.json'));
    }),
    { numRuns: 3000 },
  );
});

test('random text never escapes as anything but UserError', () => {
  fc.assert(
    fc.property(fc.string({ maxLength: 200 }), (text) => {
      checkOutcome(() => decodeManifests(text, 'fuzz.yaml'));
    }),
    { numRuns: 1000 },
  );
});
