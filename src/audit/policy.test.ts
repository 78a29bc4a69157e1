// The audit policy: file parsing with field-path errors, Kubernetes' first-match semantics
// (property-tested against an independent reading of each rule), and the default's treatment
// of flow batches.
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { UserError } from '../errors/index.js';
import { DEFAULT_AUDIT_POLICY, evaluatePolicy, parseAuditPolicy, ruleMatches, type PolicyInput, type PolicyRuleSpec } from './index.js';

const req = (o: Partial<PolicyInput>): PolicyInput => ({ user: 'u', groups: [], verb: 'get', resourceRequest: true, path: '/api/v1/pods', apiGroup: '', resource: 'pods', ...o });

function problems(text: string): string[] {
  try {
    parseAuditPolicy(text, 'policy.yaml');
  } catch (err) {
    assert.ok(err instanceof UserError);
    return err.problems.map((p) => `${p.file ?? ''} ${p.path ?? ''}: ${p.message}`);
  }
  return [];
}

describe('audit policy file', () => {
  it('reads a Kubernetes policy and applies the first matching rule', () => {
    const policy = parseAuditPolicy(
      `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
  - level: None
    resources: [{ group: flows.margay.io, resources: [flowbatches] }]
  - level: RequestResponse
    verbs: [create, update, patch, delete]
    resources: [{ group: projectcalico.org, resources: ["*"] }]
    namespaces: [payments]
  - level: Request
    users: [alice]
    resources: [{ group: "", resources: [pods/log, "*/status"], resourceNames: [web] }]
  - level: None
    nonResourceURLs: [/healthz*]
  - level: Metadata
`,
      'policy.yaml',
    );
    const level = (o: Partial<PolicyInput>) => evaluatePolicy(policy, req(o)).level;
    assert.equal(level({ verb: 'create', apiGroup: 'flows.margay.io', resource: 'flowbatches' }), 'None');
    assert.equal(level({ verb: 'create', apiGroup: 'projectcalico.org', resource: 'networkpolicies', namespace: 'payments' }), 'RequestResponse');
    assert.equal(level({ verb: 'create', apiGroup: 'projectcalico.org', resource: 'networkpolicies', namespace: 'shop' }), 'Metadata');
    assert.equal(level({ user: 'alice', resource: 'pods', subresource: 'log', name: 'web', namespace: 'a' }), 'Request');
    assert.equal(level({ user: 'alice', resource: 'pods', subresource: 'log', name: 'db', namespace: 'a' }), 'Metadata');
    assert.equal(level({ user: 'alice', resource: 'nodes', subresource: 'status', name: 'web' }), 'Request');
    assert.equal(level({ user: 'alice', resource: 'pods', name: 'web' }), 'Metadata');
    assert.equal(level({ resourceRequest: false, path: '/healthz/ping', resource: undefined, apiGroup: undefined }), 'None');
    assert.deepEqual(evaluatePolicy(policy, req({})).omitStages, ['RequestReceived']);
  });

  it('names the file, field path and expectation for each mistake', () => {
    const got = problems(`apiVersion: audit.k8s.io/v1beta1
kind: Policy
rules:
  - level: Everything
  - level: Metadata
    verb: [get]
  - level: None
    resources: [{ group: "", resources: ["p*ds"] }]
    nonResourceURLs: [/x]
  - level: Request
    omitStages: [Later]
    nonResourceURLs: [healthz]
`);
    assert.deepEqual(got, [
      'policy.yaml apiVersion: expected "audit.k8s.io/v1", got "audit.k8s.io/v1beta1"',
      'policy.yaml rules[0].level: expected None, Metadata, Request, RequestResponse, got "Everything"',
      'policy.yaml rules[1].verb: unknown field; expected one of level, users, userGroups, verbs, resources, namespaces, nonResourceURLs, omitStages, omitManagedFields',
      'policy.yaml rules[2].resources[0].resources[0]: expected a resource such as "pods", "pods/log", "*/scale", "pods/*" or "*", got "p*ds"',
      'policy.yaml rules[2].nonResourceURLs: expected a rule to match either resources/namespaces or nonResourceURLs, not both',
      'policy.yaml rules[3].nonResourceURLs[0]: expected a path starting with "/" (a trailing * matches a prefix), got "healthz"',
      'policy.yaml rules[3].omitStages[0]: expected a stage (RequestReceived, ResponseStarted, ResponseComplete, Panic), got "Later"',
    ]);
    assert.match(problems('rules: [')[0] ?? '', /policy\.yaml : invalid YAML/);
    assert.match(problems('apiVersion: audit.k8s.io/v1\nkind: Policy\nrules: []\n')[0] ?? '', /rules: expected a non-empty list/);
  });

  it('the default logs flow batches as metadata only, and policy writes with bodies', () => {
    const flow = evaluatePolicy(DEFAULT_AUDIT_POLICY, req({ verb: 'create', apiGroup: 'flows.margay.io', resource: 'flowbatches' }));
    assert.equal(flow.level, 'Metadata');
    assert.deepEqual(flow.omitStages, ['RequestReceived']);
    assert.equal(evaluatePolicy(DEFAULT_AUDIT_POLICY, req({ verb: 'patch', apiGroup: 'projectcalico.org', resource: 'globalnetworkpolicies', name: 'x' })).level, 'RequestResponse');
  });

  it('property: the level is that of the first rule that matches on its own (or None)', () => {
    const str = (xs: string[]) => fc.option(fc.subarray(xs), { nil: undefined });
    const rule: fc.Arbitrary<PolicyRuleSpec> = fc.record(
      {
        level: fc.constantFrom('None', 'Metadata', 'Request', 'RequestResponse'),
        users: str(['u', 'v']),
        userGroups: str(['g', 'h']),
        verbs: str(['get', 'create', 'delete']),
        resources: fc.option(fc.array(fc.record({ group: fc.constantFrom('', 'projectcalico.org'), resources: str(['pods', 'networkpolicies', '*', 'pods/log']) }), { maxLength: 2 }), { nil: undefined }),
        namespaces: str(['', 'a']),
      },
      { requiredKeys: ['level'] },
    ) as fc.Arbitrary<PolicyRuleSpec>;
    const input = fc.record({
      user: fc.constantFrom('u', 'v', 'w'),
      groups: fc.subarray(['g', 'h']),
      verb: fc.constantFrom('get', 'create', 'delete', 'list'),
      resourceRequest: fc.constant(true),
      path: fc.constant('/apis/x'),
      apiGroup: fc.constantFrom('', 'projectcalico.org'),
      resource: fc.constantFrom('pods', 'networkpolicies'),
      namespace: fc.constantFrom('', 'a', 'b'),
    }) as fc.Arbitrary<PolicyInput>;
    fc.assert(
      fc.property(fc.array(rule, { maxLength: 6 }), input, (rules, r) => {
        // The oracle reads each rule field by field, as the audit.k8s.io documentation states.
        const alone = (x: PolicyRuleSpec): boolean =>
          (x.users === undefined || x.users.length === 0 || x.users.includes(r.user)) &&
          (x.userGroups === undefined || x.userGroups.length === 0 || x.userGroups.some((g) => r.groups.includes(g))) &&
          (x.verbs === undefined || x.verbs.length === 0 || x.verbs.includes(r.verb)) &&
          (x.resources === undefined || x.resources.length === 0 || x.resources.some((g) => (g.group ?? '') === r.apiGroup && (g.resources === undefined || g.resources.length === 0 || g.resources.includes('*') || g.resources.includes(r.resource ?? '')))) &&
          (x.namespaces === undefined || x.namespaces.length === 0 || x.namespaces.includes(r.namespace ?? ''));
        const first = rules.find(alone);
        assert.equal(evaluatePolicy({ rules }, r).level, first?.level ?? 'None');
        for (const x of rules) assert.equal(ruleMatches(x, r), alone(x));
      }),
      { numRuns: 500 },
    );
  });
});
