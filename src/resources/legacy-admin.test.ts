// Early v1alpha1 AdminNetworkPolicy peers wrapped their selectors; they decode to today's shape.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeManifests, type AdminNetworkPolicy } from './index.js';

test('legacy namespaces/pods peer wrappers decode to the current shape', () => {
  const [d] = decodeManifests(
    `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: legacy}
spec:
  priority: 1
  subject: {namespaces: {}}
  ingress:
  - {action: Deny, from: [{namespaces: {namespaceSelector: {matchLabels: {a: b}}}}]}
  egress:
  - action: Allow
    to: [{pods: {namespaces: {namespaceSelector: {}}, podSelector: {matchLabels: {app: x}}}}]
`,
    'legacy.yaml',
  );
  const anp = d?.resource as AdminNetworkPolicy;
  assert.deepEqual(anp.spec.ingress?.[0]?.from, [{ namespaces: { matchLabels: { a: 'b' } } }]);
  assert.deepEqual(anp.spec.egress?.[0]?.to, [{ pods: { namespaceSelector: {}, podSelector: { matchLabels: { app: 'x' } } } }]);
});

test('the dropped sameLabels wrapper field is still an error naming it', () => {
  assert.throws(
    () =>
      decodeManifests(
        `apiVersion: policy.networking.k8s.io/v1alpha1
kind: AdminNetworkPolicy
metadata: {name: legacy}
spec:
  priority: 1
  subject: {namespaces: {}}
  ingress: [{action: Deny, from: [{namespaces: {sameLabels: [team]}}]}]
`,
        'legacy.yaml',
      ),
    /sameLabels/,
  );
});
