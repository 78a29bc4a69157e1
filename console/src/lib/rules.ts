// Policy rules as sentences ("Allow TCP from app in {…} in namespaces … to ports 5432"), read from
// the object as written (Calico, Kubernetes and admin policies), for the policy board.
type Obj = Record<string, unknown>;
const obj = (v: unknown): Obj => (v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Obj) : {});
const arr = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);

function ports(v: unknown): string | undefined {
  const list = arr(v).map((p) => (typeof p === 'object' && p !== null ? `${String((p as Obj).port ?? '')}${(p as Obj).endPort !== undefined ? `-${String((p as Obj).endPort)}` : ''}${(p as Obj).protocol !== undefined ? `/${String((p as Obj).protocol)}` : ''}` : String(p)));
  return list.length > 0 ? list.join(', ') : undefined;
}

function calicoPeer(v: unknown): string {
  const p = obj(v);
  const parts: string[] = [];
  if (str(p.selector)) parts.push(`endpoints where ${String(p.selector)}`);
  if (str(p.notSelector)) parts.push(`not ${String(p.notSelector)}`);
  if (str(p.namespaceSelector)) parts.push(`in namespaces where ${String(p.namespaceSelector)}`);
  if (arr(p.nets).length > 0) parts.push(`nets ${arr(p.nets).join(', ')}`);
  if (arr(p.notNets).length > 0) parts.push(`not nets ${arr(p.notNets).join(', ')}`);
  const sa = str(obj(p.serviceAccounts).selector);
  if (sa !== undefined) parts.push(`service accounts where ${sa}`);
  const pr = ports(p.ports);
  if (pr !== undefined) parts.push(`ports ${pr}`);
  if (arr(p.domains).length > 0) parts.push(`domains ${arr(p.domains).join(', ')}`);
  return parts.length > 0 ? parts.join(', ') : 'anywhere';
}

function calicoRule(r: Obj): string {
  const proto = str(r.protocol) ?? (typeof r.protocol === 'number' ? String(r.protocol) : undefined);
  return `${String(r.action ?? '?')}${proto !== undefined ? ` ${proto}` : ''} from ${calicoPeer(r.source)} to ${calicoPeer(r.destination)}`;
}

function k8sPeers(v: unknown, word: 'from' | 'to'): string {
  const peers = arr(v).map((x) => {
    const p = obj(x);
    const parts: string[] = [];
    const sel = (s: unknown) => {
      const o = obj(s);
      const ml = Object.entries(obj(o.matchLabels)).map(([k, val]) => `${k}=${String(val)}`);
      const me = arr(o.matchExpressions).map((e) => `${String(obj(e).key)} ${String(obj(e).operator)} (${arr(obj(e).values).join(', ')})`);
      const all = [...ml, ...me];
      return all.length > 0 ? all.join(', ') : 'all';
    };
    if (p.podSelector !== undefined) parts.push(`pods ${sel(p.podSelector)}`);
    if (p.namespaceSelector !== undefined) parts.push(`namespaces ${sel(p.namespaceSelector)}`);
    if (p.ipBlock !== undefined) parts.push(`ipBlock ${String(obj(p.ipBlock).cidr)}${arr(obj(p.ipBlock).except).length > 0 ? ` except ${arr(obj(p.ipBlock).except).join(', ')}` : ''}`);
    return parts.join(' in ');
  });
  return peers.length > 0 ? `${word} ${peers.join(' or ')}` : `${word} anywhere`;
}

export interface ReadableRules {
  readonly ingress: string[];
  readonly egress: string[];
}

export function readableRules(o: Obj): ReadableRules {
  const spec = obj(o.spec);
  if (o.apiVersion === 'networking.k8s.io/v1' || o.kind === 'StagedKubernetesNetworkPolicy') {
    return {
      ingress: arr(spec.ingress).map((r) => `Allow ${k8sPeers(obj(r).from, 'from')}${ports(obj(r).ports) !== undefined ? ` on ports ${ports(obj(r).ports)}` : ''}`),
      egress: arr(spec.egress).map((r) => `Allow ${k8sPeers(obj(r).to, 'to')}${ports(obj(r).ports) !== undefined ? ` on ports ${ports(obj(r).ports)}` : ''}`),
    };
  }
  if (String(o.apiVersion ?? '').startsWith('policy.networking.k8s.io')) {
    const rule = (r: unknown) => `${String(obj(r).action ?? '?')}${str(obj(r).name) !== undefined ? ` (${String(obj(r).name)})` : ''}: ${JSON.stringify(obj(r).from ?? obj(r).to ?? {})}${obj(r).ports !== undefined ? ` ports ${JSON.stringify(obj(r).ports)}` : ''}`;
    return { ingress: arr(spec.ingress).map(rule), egress: arr(spec.egress).map(rule) };
  }
  return { ingress: arr(spec.ingress).map((r) => calicoRule(obj(r))), egress: arr(spec.egress).map((r) => calicoRule(obj(r))) };
}
