// Shared by the data-plane tests (this file holds no tests): a CalcState (and the evaluator's
// snapshot) from YAML manifests, run through the real calc engine.
import { CalcEngine, CalcStateRecorder, type CalcState } from '../calc/index.js';
import { PolicyEvaluator, buildSnapshot, type Entity } from '../policy/index.js';
import { decodeManifests } from '../resources/index.js';
import type { RenderOptions } from './index.js';

export interface Cluster {
  readonly state: CalcState;
  readonly evaluator: PolicyEvaluator;
  readonly entities: ReadonlyMap<string, Entity>;
}

export function clusterFromYaml(yaml: string): Cluster {
  const decoded = decodeManifests(yaml, 'test.yaml');
  const recorder = new CalcStateRecorder();
  const engine = new CalcEngine({ callbacks: recorder });
  engine.onUpdates(decoded.map((d) => ({ type: 'upsert' as const, resource: d.resource })));
  engine.flush();
  const built = buildSnapshot(decoded);
  return {
    state: recorder.state,
    evaluator: new PolicyEvaluator(built.snapshot),
    entities: new Map(built.snapshot.entities.map((e) => [e.id, e])),
  };
}

/** Interfaces `mgy-<pod name>` for every pod. */
export const OPTIONS: RenderOptions = {
  tableName: 'margay',
  podInterfacePrefix: 'mgy',
  logGroup: 7,
  interfaceOf: (e) => (e.kind === 'pod' ? `mgy-${e.name}`.slice(0, 15) : undefined),
};

export const BASIC = `
apiVersion: v1
kind: Namespace
metadata: {name: app}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: app, labels: {role: web}}
spec: {nodeName: n1, containers: [{name: c, ports: [{name: http, containerPort: 8080, protocol: TCP}]}]}
status: {podIP: 10.65.0.2}
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: app, labels: {role: client}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIP: 10.65.0.3}
---
apiVersion: v1
kind: Pod
metadata: {name: other, namespace: app, labels: {role: other}}
spec: {nodeName: n1, containers: [{name: c}]}
status: {podIP: 10.65.0.4}
---
apiVersion: projectcalico.org/v3
kind: NetworkPolicy
metadata: {name: web-in, namespace: app}
spec:
  selector: role == 'web'
  types: [Ingress]
  ingress:
  - action: Log
    source: {selector: role == 'other'}
  - action: Allow
    protocol: TCP
    source: {selector: role == 'client'}
    destination: {ports: [http, 9000]}
  - action: Deny
    protocol: TCP
    source: {nets: [10.0.0.0/8], notNets: [10.66.0.0/16]}
`;
