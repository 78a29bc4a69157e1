// The engine's behaviour pinned by example: dangling references resolved when the object
// arrives, the order deltas come in, reference-counted members, named ports, tier re-ordering,
// staged views, locality, and changes that cancel out within one flush.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UserError } from '../errors/index.js';
import type { NormTier } from '../policy/index.js';
import type { Resource } from '../resources/index.js';
import {
  CalcEngine,
  CalcStateRecorder,
  localToNode,
  type ActivePolicy,
  type ActiveProfile,
  type CalcEngineOptions,
  type EndpointPolicies,
  type IpSetSpec,
  type ResourceRef,
} from './index.js';
import { globalNetworkPolicy, namespace, networkPolicy, pod, remove, tier, upsert } from './fixtures.test.js';

/** A recorder that also keeps the order of events, as `kind:key`. */
class Log extends CalcStateRecorder {
  readonly order: string[] = [];
  readonly rejected: ResourceRef[] = [];
  override onIpSetAdded(set: IpSetSpec, members: readonly string[]): void {
    this.order.push(`set+:${set.id}`);
    super.onIpSetAdded(set, members);
  }
  override onIpSetMembersChanged(id: string, added: readonly string[], removed: readonly string[]): void {
    this.order.push(`members:${id}`);
    super.onIpSetMembersChanged(id, added, removed);
  }
  override onIpSetRemoved(id: string): void {
    this.order.push(`set-:${id}`);
    super.onIpSetRemoved(id);
  }
  override onTierActive(t: NormTier): void {
    this.order.push(`tier+:${t.name}`);
    super.onTierActive(t);
  }
  override onTierInactive(name: string): void {
    this.order.push(`tier-:${name}`);
    super.onTierInactive(name);
  }
  override onPolicyActive(p: ActivePolicy): void {
    this.order.push(`policy+:${p.policy.id}`);
    super.onPolicyActive(p);
  }
  override onPolicyInactive(id: string): void {
    this.order.push(`policy-:${id}`);
    super.onPolicyInactive(id);
  }
  override onProfileActive(p: ActiveProfile): void {
    this.order.push(`profile+:${p.profile.name}`);
    super.onProfileActive(p);
  }
  override onProfileInactive(name: string): void {
    this.order.push(`profile-:${name}`);
    super.onProfileInactive(name);
  }
  override onEndpointUpdate(id: string, e: EndpointPolicies): void {
    this.order.push(`endpoint:${id}`);
    super.onEndpointUpdate(id, e);
  }
  override onEndpointRemoved(id: string): void {
    this.order.push(`endpoint-:${id}`);
    super.onEndpointRemoved(id);
  }
  onResourceRejected(ref: ResourceRef, error: UserError): void {
    assert.ok(error instanceof UserError);
    this.rejected.push(ref);
  }
  take(): string[] {
    return this.order.splice(0);
  }
}

function setup(options: Omit<CalcEngineOptions, 'callbacks'> = {}) {
  const log = new Log();
  const engine = new CalcEngine({ callbacks: log, ...options });
  const apply = (...updates: ({ type: 'upsert'; resource: Resource } | ReturnType<typeof remove>)[]) => {
    engine.onUpdates(updates);
    engine.flush();
    return log.take();
  };
  return { log, engine, apply };
}

const policyIds = (e: EndpointPolicies | undefined, direction: 'ingress' | 'egress' = 'ingress') =>
  (e?.[direction] ?? []).map((t) => `${t.tier}:${t.policies.join(',')}`);

test('a policy in a tier not yet seen applies once the tier exists, tier before policy before endpoint', () => {
  const { log, apply } = setup();
  const web = pod('shop', 'web', { labels: { app: 'web' }, ip: '10.0.0.1' });
  const np = networkPolicy('shop', 'allow-web', { tier: 'security', order: 10, selector: "app == 'web'", ingress: [{ action: 'Allow' }] });
  apply(upsert(web), upsert(np));
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:shop/web')), []);
  assert.equal(log.policies.size, 0);

  const events = apply(upsert(tier('security', 100)));
  assert.deepStrictEqual(events, ['tier+:security', 'policy+:security|np|shop/allow-web', 'endpoint:pod:shop/web']);
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:shop/web')), ['security:security|np|shop/allow-web']);

  // Deleting the tier again takes the policy out, endpoint first.
  assert.deepStrictEqual(apply(remove(tier('security', 100))), ['endpoint:pod:shop/web', 'policy-:security|np|shop/allow-web', 'tier-:security']);
});

test('a pod in a namespace not yet seen takes the namespace labels when it arrives, and loses them when it goes', () => {
  const { log, apply } = setup();
  const gnp = globalNetworkPolicy('team-x', { namespaceSelector: "team == 'x'", ingress: [{ action: 'Allow' }] });
  apply(upsert(pod('a', 'p', { ip: '10.0.0.1' })), upsert(gnp));
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:a/p')), []);
  apply(upsert(namespace('a', { team: 'x' })));
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:a/p')), ['default:default|gnp|team-x']);
  apply(upsert(namespace('a', { team: 'y' })));
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:a/p')), []);
  apply(upsert(namespace('a', { team: 'x' })));
  apply(remove(namespace('a')));
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:a/p')), []);
});

test('an IP set is complete before the policy that uses it, and goes after the endpoint stops using it', () => {
  const { log, apply } = setup();
  const db = pod('shop', 'db', { labels: { app: 'db' }, ip: '10.0.0.2' });
  const web1 = pod('shop', 'web1', { labels: { app: 'web' }, ip: '10.0.0.3' });
  const np = networkPolicy('shop', 'db-from-web', {
    selector: "app == 'db'",
    ingress: [{ action: 'Allow', source: { selector: "app == 'web'" } }],
  });
  const events = apply(upsert(db), upsert(web1), upsert(np));
  const setId = 's:|(projectcalico.org/namespace == "shop" && app == "web")';
  const profile = events.indexOf('profile+:kns.shop');
  assert.ok(profile >= 0);
  assert.deepStrictEqual(
    events.filter((e) => !e.startsWith('profile') && !e.startsWith('endpoint:pod:shop/web')),
    [`set+:${setId}`, 'tier+:default', 'policy+:default|np|shop/db-from-web', 'endpoint:pod:shop/db'],
  );
  assert.deepStrictEqual([...(log.ipSets.get(setId)?.members ?? [])], ['10.0.0.3']);
  assert.deepStrictEqual(log.policies.get('default|np|shop/db-from-web')?.ingress[0]?.source.selector, setId);

  assert.deepStrictEqual(apply(remove(np)), ['endpoint:pod:shop/db', 'policy-:default|np|shop/db-from-web', 'tier-:default', `set-:${setId}`]);
});

test('members are counted: an address two pods share stays until both are gone', () => {
  const { log, apply } = setup();
  const np = networkPolicy('ns', 'p', { selector: "app == 'db'", ingress: [{ action: 'Allow', source: { selector: "app == 'web'" } }] });
  const a = pod('ns', 'a', { labels: { app: 'web' }, ip: '10.0.0.7' });
  const b = pod('ns', 'b', { labels: { app: 'web' }, ip: '10.0.0.7' });
  apply(upsert(pod('ns', 'db', { labels: { app: 'db' }, ip: '10.0.0.1' })), upsert(np), upsert(a), upsert(b));
  const setId = 's:|(projectcalico.org/namespace == "ns" && app == "web")';
  assert.deepStrictEqual([...(log.ipSets.get(setId)?.members ?? [])], ['10.0.0.7']);
  const events = apply(remove(a));
  assert.ok(!events.some((e) => e.startsWith('members:')), 'no member change while b still has the address');
  apply(upsert({ ...b, metadata: { ...b.metadata, labels: { app: 'other' } } }));
  assert.deepStrictEqual([...(log.ipSets.get(setId)?.members ?? [])], []);
});

test('named ports resolve to address,protocol:port members of the peers that declare them', () => {
  const { log, apply } = setup();
  const api = pod('ns', 'api', { labels: { app: 'api' }, ip: '10.0.0.5', ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }, { name: 'dns', containerPort: 53, protocol: 'UDP' }] });
  const np = networkPolicy('ns', 'to-api', {
    selector: "app == 'api'",
    types: ['Egress'],
    egress: [{ action: 'Allow', protocol: 'TCP', destination: { selector: "app == 'api'", ports: ['http', 'dns'] } }],
  });
  apply(upsert(api), upsert(np));
  const sets = log.policies.get('default|np|ns/to-api')?.egress[0]?.destination.namedPorts ?? [];
  assert.equal(sets.length, 2);
  assert.deepStrictEqual(sets.map((id) => [...(log.ipSets.get(id)?.members ?? [])]), [['10.0.0.5,tcp:8080'], []]);
  const spec = log.ipSets.get(sets[0] as string)?.spec;
  assert.deepStrictEqual(spec && spec.type === 'named-port' ? [spec.port, spec.protocol] : undefined, ['http', 6]);
});

test('changing tier order re-sorts the endpoint lists', () => {
  const { log, apply } = setup();
  const p = pod('ns', 'p', { labels: { app: 'web' }, ip: '10.0.0.1' });
  const inT1 = networkPolicy('ns', 'one', { tier: 't1', selector: 'all()' });
  const inT2 = networkPolicy('ns', 'two', { tier: 't2', selector: 'all()' });
  apply(upsert(tier('t1', 1)), upsert(tier('t2', 2)), upsert(p), upsert(inT1), upsert(inT2));
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:ns/p')), ['t1:t1|np|ns/one', 't2:t2|np|ns/two']);
  const events = apply(upsert(tier('t1', 3)));
  assert.deepStrictEqual(events, ['tier+:t1', 'endpoint:pod:ns/p']);
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:ns/p')), ['t2:t2|np|ns/two', 't1:t1|np|ns/one']);
  // A default action change updates the tier only.
  assert.deepStrictEqual(apply(upsert(tier('t1', 3, 'Pass'))), ['tier+:t1']);
});

test('a staged policy shows in the staged view only, replacing its enforced twin there', () => {
  const { log, apply } = setup();
  const p = pod('ns', 'p', { labels: { app: 'web' }, ip: '10.0.0.1' });
  const enforced = networkPolicy('ns', 'x', { selector: "app == 'web'", ingress: [{ action: 'Deny' }] });
  apply(upsert(p), upsert(enforced));
  assert.equal(log.endpoints.get('pod:ns/p')?.staged, undefined);
  const staged: Resource = {
    apiVersion: 'projectcalico.org/v3',
    kind: 'StagedNetworkPolicy',
    metadata: { name: 'x', namespace: 'ns', labels: {} },
    spec: { tier: 'default', types: ['Ingress'], selector: "app == 'web'", ingress: [{ action: 'Allow' }], stagedAction: 'Set' },
  };
  apply(upsert(staged));
  const ep = log.endpoints.get('pod:ns/p');
  assert.deepStrictEqual(policyIds(ep), ['default:default|np|ns/x']);
  assert.deepStrictEqual(ep?.staged?.ingress.map((t) => t.policies), [['staged:default|np|ns/x']]);
  apply(upsert({ ...staged, spec: { ...(staged.spec as object), stagedAction: 'Delete' } } as Resource));
  assert.deepStrictEqual(log.endpoints.get('pod:ns/p')?.staged?.ingress, []);
  assert.ok(!log.policies.has('staged:default|np|ns/x'), 'a staged Delete is never active');
});

test('only local endpoints get lists; remote pods still fill IP sets', () => {
  const { log, apply } = setup({ isLocal: localToNode('n1') });
  const np = networkPolicy('ns', 'p', { selector: "app == 'db'", ingress: [{ action: 'Allow', source: { selector: "app == 'web'" } }] });
  apply(
    upsert(pod('ns', 'db-local', { labels: { app: 'db' }, ip: '10.0.0.1', node: 'n1' })),
    upsert(pod('ns', 'db-remote', { labels: { app: 'db' }, ip: '10.0.0.2', node: 'n2' })),
    upsert(pod('ns', 'web-remote', { labels: { app: 'web' }, ip: '10.0.0.3', node: 'n2' })),
    upsert(np),
  );
  assert.deepStrictEqual([...log.endpoints.keys()], ['pod:ns/db-local']);
  assert.deepStrictEqual([...(log.ipSets.get('s:|(projectcalico.org/namespace == "ns" && app == "web")')?.members ?? [])], ['10.0.0.3']);
  // The local pod moves away: the policy is no longer active here.
  const events = apply(upsert(pod('ns', 'db-local', { labels: { app: 'db' }, ip: '10.0.0.1', node: 'n2' })));
  assert.ok(events.includes('endpoint-:pod:ns/db-local') && events.includes('policy-:default|np|ns/p'));
  assert.equal(log.ipSets.size, 0);
});

test('changes that cancel out within one flush emit nothing', () => {
  const { engine, log, apply } = setup();
  const p = pod('ns', 'p', { labels: { app: 'web' }, ip: '10.0.0.1' });
  const np = networkPolicy('ns', 'np', { selector: "app == 'web'", ingress: [{ action: 'Allow', source: { selector: "app == 'web'" } }] });
  apply(upsert(p), upsert(np));
  engine.onUpdates([upsert(pod('ns', 'q', { labels: { app: 'web' }, ip: '10.0.0.9' })), remove(pod('ns', 'q'))]);
  engine.onUpdates([upsert({ ...p, metadata: { ...p.metadata, labels: { app: 'db' } } }), upsert(p)]);
  engine.onUpdates([remove(np), upsert(np)]);
  engine.onUpdates([upsert(p)]);
  engine.flush();
  assert.deepStrictEqual(log.take(), []);
  assert.equal(log.redundant, 0);
});

test('a resource the converters reject is reported and treated as absent', () => {
  const { log, apply } = setup();
  const bad = networkPolicy('ns', 'bad', { selector: 'app == ' });
  apply(upsert(pod('ns', 'p', { ip: '10.0.0.1' })), upsert(bad));
  assert.deepStrictEqual(log.rejected, [{ apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', name: 'bad', namespace: 'ns' }]);
  assert.equal(log.policies.size, 0);
});

test('a delete names its object as upserts do: namespaced kinds default to `default`', () => {
  const { log, apply } = setup();
  apply(upsert(pod('default', 'p', { ip: '10.0.0.1' })), upsert(tier('t', 5)), upsert(networkPolicy('default', 'np', { tier: 't', selector: 'all()' })));
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:default/p')), ['t:t|np|default/np']);
  apply({ type: 'delete', ref: { apiVersion: 'projectcalico.org/v3', kind: 'NetworkPolicy', name: 'np' } });
  assert.deepStrictEqual(policyIds(log.endpoints.get('pod:default/p')), []);
  apply({ type: 'delete', ref: { apiVersion: 'projectcalico.org/v3', kind: 'Tier', name: 't', namespace: 'ignored' } });
  apply({ type: 'delete', ref: { apiVersion: 'v1', kind: 'Pod', name: 'p' } });
  assert.equal(log.endpoints.size, 0);
});
