// Control-plane edits on a synced 100k-pod cluster: one policy's selector changed, one namespace's
// labels changed; each timed from the update until every delta is out (update + flush).
import type { CalcUpdate } from '../src/calc/index.js';
import type { CalicoNetworkPolicy, GlobalNetworkPolicy, K8sNetworkPolicy, Namespace, Resource } from '../src/resources/index.js';
import { Random, generateCluster, type SyntheticCluster } from './synthetic-cluster.js';
import { CountingCallbacks, LOCALITIES, SCALES, emit, gc, median, now, numberOption, option, syncedEngine } from './calc-common.js';

const EDITS = numberOption('edits', 5);

/** Selector edits of each kind: a Calico policy's selector, a Kubernetes podSelector, a global policy's namespaceSelector. */
function policyEdits(cluster: SyntheticCluster, rnd: Random): Map<string, CalcUpdate[]> {
  const edits = new Map<string, CalcUpdate[]>([['calico', []], ['kubernetes', []], ['global', []]]);
  const otherApp = (ns: string, not: string) => {
    const apps = (cluster.apps.get(ns) ?? []).filter((a) => a !== not);
    return apps.length > 0 ? rnd.pick(apps) : `${not}-renamed`;
  };
  for (const p of [...cluster.policies].sort(() => rnd.next() - 0.5)) {
    const r = p as Resource;
    if (r.apiVersion === 'projectcalico.org/v3' && r.kind === 'NetworkPolicy' && (edits.get('calico')?.length ?? 0) < EDITS) {
      const np = r as CalicoNetworkPolicy;
      const m = /^app == '([^']+)'$/.exec(np.spec.selector ?? '');
      if (!m) continue;
      const spec = { ...np.spec, selector: `app == '${otherApp(np.metadata.namespace, m[1] as string)}'` };
      edits.get('calico')?.push({ type: 'upsert', resource: { ...np, spec } });
    } else if (r.apiVersion === 'networking.k8s.io/v1' && (edits.get('kubernetes')?.length ?? 0) < EDITS) {
      const knp = r as K8sNetworkPolicy;
      const app = knp.spec.podSelector.matchLabels?.['app'];
      if (app === undefined) continue;
      const spec = { ...knp.spec, podSelector: { matchLabels: { app: otherApp(knp.metadata.namespace, app) } } };
      edits.get('kubernetes')?.push({ type: 'upsert', resource: { ...knp, spec } });
    } else if (r.kind === 'GlobalNetworkPolicy' && (edits.get('global')?.length ?? 0) < EDITS) {
      const gnp = r as GlobalNetworkPolicy;
      if (gnp.spec.namespaceSelector === undefined) continue;
      const spec = { ...gnp.spec, namespaceSelector: `env in {'prod', 'staging'} && team == '${rnd.pick(cluster.namespaces).metadata.labels['team']}'` };
      edits.get('global')?.push({ type: 'upsert', resource: { ...gnp, spec } });
    }
  }
  return edits;
}

/** Relabels: the biggest namespaces (every pod in them changes labels) and some random ones. */
function namespaceEdits(cluster: SyntheticCluster, rnd: Random): CalcUpdate[] {
  const sizes = new Map<string, number>();
  for (const p of cluster.pods) sizes.set(p.metadata.namespace, (sizes.get(p.metadata.namespace) ?? 0) + 1);
  const bySize = [...cluster.namespaces].sort((a, b) => (sizes.get(b.metadata.name) ?? 0) - (sizes.get(a.metadata.name) ?? 0));
  const picked = [...bySize.slice(0, Math.ceil(EDITS / 2)), ...Array.from({ length: Math.floor(EDITS / 2) }, () => rnd.pick(bySize))];
  return picked.map((ns): CalcUpdate => {
    const teams = cluster.namespaces.map((n) => n.metadata.labels['team']).filter((t) => t !== ns.metadata.labels['team']);
    const relabelled: Namespace = { ...ns, metadata: { ...ns.metadata, labels: { ...ns.metadata.labels, team: rnd.pick(teams) as string, env: 'prod' } } };
    return { type: 'upsert', resource: relabelled };
  });
}

for (const scale of option('scale', ['100k', '10k'].filter((s) => s in SCALES))) {
  const params = SCALES[scale]!;
  const cluster = generateCluster(params);
  const name = `${params.pods / 1000}k-pods-${params.policies / 1000}k-policies`;
  for (const local of option('local', Object.keys(LOCALITIES))) {
    const bench = `calc-edit/${name}/${local}`;
    const sink = new CountingCallbacks();
    const engine = syncedEngine(cluster.resources, LOCALITIES[local], sink);
    const rnd = new Random(11);
    const timed = (u: CalcUpdate): { ms: number; deltas: number; endpoints: number } => {
      const d0 = sink.total;
      const e0 = sink.endpointUpdates;
      const t = now();
      engine.onUpdate(u);
      engine.flush();
      return { ms: now() - t, deltas: sink.total - d0, endpoints: sink.endpointUpdates - e0 };
    };
    const report = (metric: string, runs: { ms: number; deltas: number; endpoints: number }[]) => {
      if (runs.length === 0) return;
      const ms = runs.map((r) => r.ms);
      emit(bench, `${metric}_median`, median(ms), 'ms');
      emit(bench, `${metric}_max`, Math.max(...ms), 'ms', { target: 1000, met: Math.max(...ms) < 1000 });
      emit(bench, `${metric}_deltas_median`, median(runs.map((r) => r.deltas)), 'count');
      emit(bench, `${metric}_endpoint_updates_max`, Math.max(...runs.map((r) => r.endpoints)), 'count');
    };
    gc();
    for (const [kind, updates] of policyEdits(cluster, rnd)) report(`policy_selector_edit_${kind}`, updates.map(timed));
    gc();
    report('namespace_label_edit', namespaceEdits(cluster, rnd).map(timed));
  }
}
