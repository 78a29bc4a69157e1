// Shared by the auth tests: start `bin/margay up` as a child process, send requests with bearer
// tokens, and the persona model every case is checked against (written out independently of
// src/rbac, so a wrong built-in role shows up as a failing case).
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';

export { MARGAY, REPO_ROOT as ROOT } from '../support/margay.js';
export const KUBECTL = existsSync('/usr/bin/kubectl') ? '/usr/bin/kubectl' : 'kubectl';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((done) => {
    execFile(cmd, args, { env, timeout: 30_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1;
      done({ code, stdout, stderr });
    });
  });
}

/** `margay up` as a child process: the shared starter, under the names these suites use. */
export { startMargayUp as startMargay, type MargayServer as Server } from '../support/margay.js';

export interface HttpReply {
  status: number;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  json: any;
}

export async function call(url: string, method: string, path: string, token: string | undefined, body?: unknown, headers: Record<string, string> = {}): Promise<HttpReply> {
  const res = await fetch(`${url}${path}`, {
    method,
    headers: {
      ...(token !== undefined ? { Authorization: `Bearer ${token}` } : {}),
      ...(body !== undefined ? { 'Content-Type': method === 'PATCH' ? 'application/merge-patch+json' : 'application/json' } : {}),
      ...headers,
    },
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, json };
}

export type Verb = 'get' | 'list' | 'watch' | 'create' | 'update' | 'patch' | 'delete' | 'deletecollection';
export const READ_VERBS: readonly Verb[] = ['get', 'list', 'watch'];
export const WRITE_VERBS: readonly Verb[] = ['create', 'update', 'patch', 'delete', 'deletecollection'];
export const ALL_VERBS: readonly Verb[] = [...READ_VERBS, ...WRITE_VERBS];

export interface Res {
  group: string;
  version: string;
  plural: string;
  kind: string;
  namespaced: boolean;
  /** An object that exists (in each test namespace, for namespaced kinds). */
  existing: string;
  /** The kubectl name (`networkpolicies.projectcalico.org`). */
  kubectl: string;
  category: 'namespaced-policy' | 'cluster-policy' | 'workload' | 'rbac' | 'namespace';
}

const r = (group: string, version: string, plural: string, kind: string, namespaced: boolean, existing: string, category: Res['category']): Res => ({
  group,
  version,
  plural,
  kind,
  namespaced,
  existing,
  category,
  kubectl: group === '' ? plural : `${plural}.${group}`,
});

export const RESOURCES: readonly Res[] = [
  r('', 'v1', 'namespaces', 'Namespace', false, 'team-a', 'namespace'),
  r('', 'v1', 'pods', 'Pod', true, 'p1', 'workload'),
  r('', 'v1', 'nodes', 'Node', false, 'n1', 'workload'),
  r('networking.k8s.io', 'v1', 'networkpolicies', 'NetworkPolicy', true, 'np1', 'namespaced-policy'),
  r('projectcalico.org', 'v3', 'networkpolicies', 'NetworkPolicy', true, 'cnp1', 'namespaced-policy'),
  r('projectcalico.org', 'v3', 'networksets', 'NetworkSet', true, 'ns1', 'namespaced-policy'),
  r('projectcalico.org', 'v3', 'globalnetworkpolicies', 'GlobalNetworkPolicy', false, 'g1', 'cluster-policy'),
  r('policy.networking.k8s.io', 'v1alpha1', 'adminnetworkpolicies', 'AdminNetworkPolicy', false, 'anp1', 'cluster-policy'),
  r('projectcalico.org', 'v3', 'tiers', 'Tier', false, 'default', 'cluster-policy'),
  r('projectcalico.org', 'v3', 'hostendpoints', 'HostEndpoint', false, 'none', 'workload'),
  r('rbac.authorization.k8s.io', 'v1', 'clusterroles', 'ClusterRole', false, 'margay:agent', 'rbac'),
  r('rbac.authorization.k8s.io', 'v1', 'rolebindings', 'RoleBinding', true, 'owner', 'rbac'),
];

export type Persona = 'masters' | 'cluster-admin' | 'network-admin' | 'security-auditor' | 'namespace-owner' | 'agent' | 'nobody';

export interface PersonaDef {
  user: string;
  groups: string[];
  token: string;
}

export const PERSONAS: Record<Exclude<Persona, 'masters'>, PersonaDef> = {
  'cluster-admin': { user: 'root', groups: ['margay:cluster-admins'], token: 'tok-cluster-admin-7f3a' },
  'network-admin': { user: 'alice', groups: ['margay:network-admins'], token: 'tok-network-admin-19c2' },
  'security-auditor': { user: 'bob', groups: ['margay:security-auditors'], token: 'tok-auditor-55e1' },
  'namespace-owner': { user: 'dave', groups: [], token: 'tok-owner-a8d0' },
  agent: { user: 'system:node:n1', groups: ['margay:agents'], token: 'tok-agent-0b77' },
  nobody: { user: 'eve', groups: [], token: 'tok-nobody-3c4d' },
};

/** The namespace the namespace owner owns (a RoleBinding there); team-b is someone else's. */
export const OWNED = 'team-a';
export const OTHER = 'team-b';

/** What each persona may do, from the description of the personas. */
export function expected(p: Persona, res: Res, verb: Verb, namespace: string | undefined, name: string | undefined): boolean {
  const read = READ_VERBS.includes(verb);
  switch (p) {
    case 'masters':
    case 'cluster-admin':
      return true;
    case 'network-admin':
      if (res.category === 'namespaced-policy' || res.category === 'cluster-policy') return true;
      if (res.category === 'workload' || res.category === 'namespace') return read;
      return false;
    case 'security-auditor':
      return read;
    case 'namespace-owner':
      if (res.category === 'namespace') return verb === 'get' && name === OWNED;
      if (namespace !== OWNED) return false;
      if (res.category === 'namespaced-policy') return true;
      if (res.plural === 'pods') return read;
      return false;
    case 'agent':
      if (res.category === 'rbac') return false;
      if (res.plural === 'nodes') return read || verb === 'create' || verb === 'update' || verb === 'patch';
      if (res.plural === 'hostendpoints') return read || verb === 'create' || verb === 'update' || verb === 'patch' || verb === 'delete';
      return read;
    case 'nobody':
      return false;
  }
}
