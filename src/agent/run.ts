// `margay agent`: the node agent process. Informers for every kind the calc engine consumes feed a
// NodeAgent; an NftApplier programs the node's network namespace; the Node object carries the
// agent's readiness and last applied revision (merge-patched annotations). SIGTERM stops it and
// leaves the ruleset in place (fail closed); a restart adopts it with one full atomic replace.
import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { findResourceTypeByKind, type JsonObject, type ResourceType } from '../api/index.js';
import { Informer, KubeClient, loadKubeconfig } from '../client/index.js';
import { EMPTY_CALC_STATE } from '../calc/index.js';
import { bugText, UserError } from '../errors/index.js';
import { NftApplier, nftRunner, type AdoptionRecord } from '../nft/index.js';
import { FLOW_BATCH_PATH, startNodeCollection, type AggregationLevel, type NodeCollection } from '../collector/index.js';
import { InterfaceMap, parseIpAddr } from './interfaces.js';
import { NodeAgent, type AppliedReport } from './node-agent.js';

export const ANNOTATION_READY = 'margay.io/agent-ready';
export const ANNOTATION_REVISION = 'margay.io/applied-revision';
export const TABLE_NAME = 'margay';

/** Every kind the calc engine consumes (apiVersion, kind). */
export const WATCHED_KINDS: readonly (readonly [string, string])[] = [
  ['v1', 'Namespace'],
  ['v1', 'Pod'],
  ['v1', 'ServiceAccount'],
  ['v1', 'Node'],
  ['projectcalico.org/v3', 'HostEndpoint'],
  ['projectcalico.org/v3', 'NetworkSet'],
  ['projectcalico.org/v3', 'GlobalNetworkSet'],
  ['projectcalico.org/v3', 'Tier'],
  ['projectcalico.org/v3', 'Profile'],
  ['projectcalico.org/v3', 'NetworkPolicy'],
  ['projectcalico.org/v3', 'GlobalNetworkPolicy'],
  ['projectcalico.org/v3', 'StagedNetworkPolicy'],
  ['projectcalico.org/v3', 'StagedGlobalNetworkPolicy'],
  ['projectcalico.org/v3', 'StagedKubernetesNetworkPolicy'],
  ['networking.k8s.io/v1', 'NetworkPolicy'],
  ['policy.networking.k8s.io/v1alpha1', 'AdminNetworkPolicy'],
  ['policy.networking.k8s.io/v1alpha1', 'BaselineAdminNetworkPolicy'],
  ['policy.networking.k8s.io/v1alpha2', 'ClusterNetworkPolicy'],
];

export interface AgentRunOptions {
  readonly node: string;
  readonly kubeconfig: string;
  readonly context?: string;
  /** Network namespace to program; default the current one. */
  readonly netns?: string;
  /** Pod → host interface map file (see interfaces.ts). */
  readonly interfaces?: string;
  /**
   * Where the agent keeps what a restart needs to adopt its table without rewriting it (rule
   * ids, hashes of the program and of the table as read back); none: a restart rewrites it once.
   */
  readonly stateFile?: string;
  readonly podInterfacePrefix?: string;
  readonly batchMs?: number;
  readonly resyncMs?: number;
  readonly log: (line: string) => void;
  /** Flow log collection (conntrack + NFLOG through ulogd2); false turns it off. */
  readonly flowLogs?: false | { readonly flushMs?: number; readonly allowedLevel?: AggregationLevel; readonly deniedLevel?: AggregationLevel };
  /** Resolves when the agent should stop (default: SIGTERM or SIGINT). */
  readonly stopSignal?: Promise<void>;
}

/**
 * SIGTERM, SIGINT, or (run by `--restart-on-failure`) the supervisor's IPC channel closing: the
 * supervisor was killed, and an agent nobody supervises must not outlive it unseen. Signals after
 * the first are ignored, so a Ctrl-C that reaches both does not cut the shutdown short.
 */
function signalled(): Promise<void> {
  return new Promise((resolve) => {
    const ignore = (): void => undefined;
    const done = (): void => {
      process.removeListener('SIGTERM', done);
      process.removeListener('SIGINT', done);
      process.removeListener('disconnect', done);
      process.on('SIGTERM', ignore);
      process.on('SIGINT', ignore);
      resolve();
    };
    process.once('SIGTERM', done);
    process.once('SIGINT', done);
    if (process.connected) process.once('disconnect', done);
  });
}

/** Runs until stopped; returns the exit code. */
export async function runAgent(o: AgentRunOptions): Promise<number> {
  const stop = o.stopSignal ?? signalled();
  const log = (line: string): void => o.log(`${new Date().toISOString()} agent ${o.node}: ${line}`);
  const access = loadKubeconfig(o.kubeconfig, o.context);
  const client = new KubeClient({ server: access.server, ...(access.token !== undefined ? { token: access.token } : {}), ...(access.caPem !== undefined ? { caPem: access.caPem } : {}), userAgent: `margay-agent/0.1 (${o.node})` });
  const interfaces = new InterfaceMap(o.interfaces, log);
  const prefix = o.podInterfacePrefix ?? interfaces.podInterfacePrefix ?? 'cali';
  if (o.netns !== undefined && !/^[A-Za-z0-9_.-]{1,64}$/.test(o.netns)) throw new UserError({ path: '--netns', message: `not a network namespace name: ${JSON.stringify(o.netns)}` });
  const runner = nftRunner(o.netns !== undefined ? { netns: o.netns } : {});
  const applier = new NftApplier({
    ...(o.netns !== undefined ? { netns: o.netns } : {}),
    runner,
    render: { tableName: TABLE_NAME, podInterfacePrefix: prefix, logGroup: 1, interfaceOf: interfaces.interfaceOf },
  });
  const nodeType = findResourceTypeByKind('v1', 'Node');
  const status = new StatusReporter(client, nodeType, o.node, log);

  // Fail closed before the first sync: with no table yet, install the empty program (every pod
  // interface dropped). An existing table (a restart) stays as it is until the full replace.
  const existing = await runner(['list', 'table', 'inet', TABLE_NAME]);
  if (o.stateFile !== undefined) {
    const file = o.stateFile;
    const record = existing.code === 0 ? readAdoptionRecord(file, log) : undefined;
    if (record !== undefined) applier.restore(record);
    applier.onRecord = (r) => writeAdoptionRecord(file, r, log);
  }
  if (existing.code !== 0) {
    applier.onUpdate(EMPTY_CALC_STATE);
    const r = await applier.apply();
    log(r.ok ? 'no ruleset yet: installed the fail-closed one (pod traffic dropped until policy is programmed)' : `installing the fail-closed ruleset failed: ${r.error}`);
  } else {
    log(`adopting the existing table inet ${TABLE_NAME}; it stays until the first apply, which writes nothing if the table is what this node's last agent left and what this one would write`);
  }

  const flowOptions = o.flowLogs === false ? undefined : (o.flowLogs ?? {});
  const flows: NodeCollection | undefined =
    flowOptions === undefined
      ? undefined
      : await startNodeCollection({
          node: o.node,
          ...(o.netns !== undefined ? { netns: o.netns } : {}),
          nflogGroup: 1,
          ...flowOptions,
          ruleOf: (id) => applier.ruleIds.lookup(id),
          post: (batch) => client.send('POST', FLOW_BATCH_PATH, batch),
          log,
        }).catch((err: unknown) => {
          log(`flow logs off: ${err instanceof Error ? err.message : String(err)}`);
          return undefined;
        });

  let ready = false;
  const agent = new NodeAgent({
    node: o.node,
    dataplane: applier,
    log,
    ...(o.batchMs !== undefined ? { batchMs: o.batchMs } : {}),
    onApplied: (r: AppliedReport) => {
      if (!ready) {
        ready = true;
        log(`ready: the ruleset is current at revision ${r.revision}`);
      }
      status.report(true, r.revision);
    },
  });

  const informers: Informer[] = [];
  for (const [apiVersion, kind] of WATCHED_KINDS) {
    const type = findResourceTypeByKind(apiVersion, kind);
    if (type === undefined) {
      log(`the API does not serve ${apiVersion} ${kind}; not watched`);
      continue;
    }
    const guard = (what: string, fn: () => void): void => {
      try {
        fn();
      } catch (err) {
        log(`${what} ${kind}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    informers.push(
      new Informer(client, type, {
        onAdd: (obj) => {
          guard('add', () => agent.onUpsert(obj));
          flows?.view.upsert(obj);
        },
        onUpdate: (obj) => {
          guard('update', () => agent.onUpsert(obj));
          flows?.view.upsert(obj);
        },
        onDelete: (obj) => {
          guard('delete', () => agent.onDelete(obj));
          flows?.view.delete(obj);
        },
        onError: (err) => log(`watch ${type.plural}: ${err.message}`),
      }, { initialBackoffMs: 100, maxBackoffMs: 5000 }),
    );
  }
  const started = performance.now();
  for (const inf of informers) inf.start();

  let stopping = false;
  const synced = Promise.all(informers.map((i) => i.waitForSync(24 * 3600 * 1000))).then(
    () => {
      if (stopping) return;
      log(`synced ${informers.length} kinds in ${(performance.now() - started).toFixed(0)} ms`);
      interfaces.refresh();
      agent.onSynced();
    },
    () => undefined,
  );

  // The node's addresses, for host endpoints that name expectedIPs but no interface; read again
  // at each resync (addresses rarely move).
  const readHostAddresses = async (): Promise<boolean> => {
    const r = await execFileText('ip', [...(o.netns !== undefined ? ['-n', o.netns] : []), '-j', 'addr', 'show']);
    return r !== undefined && interfaces.setHostAddresses(parseIpAddr(r));
  };
  if (await readHostAddresses()) agent.onRenderInputsChanged();
  const resyncMs = o.resyncMs ?? 10_000;
  const resyncTimer = setInterval(() => {
    readHostAddresses()
      .then((moved) => {
        if (interfaces.refresh() || moved) agent.onRenderInputsChanged();
        return agent.resync();
      })
      .catch((err: unknown) => log(`resync: ${bugText(err)}`));
  }, resyncMs);
  // The map is written before a new pod reaches the API; poll it cheaply so a late write still lands.
  const mapTimer = setInterval(() => {
    if (interfaces.refresh()) agent.onRenderInputsChanged();
  }, 250);

  await stop;
  stopping = true;
  log('stopping; the ruleset stays in place');
  clearInterval(resyncTimer);
  clearInterval(mapTimer);
  await agent.stop();
  await flows?.stop();
  await Promise.all(informers.map((i) => i.stop()));
  await synced;
  await status.report(false, agent.applied, 1000);
  log(`stopped (${agent.counts.flushes} flushes, ${applier.stats.writes} nft writes, ${agent.counts.rejected} rejected objects)`);
  return 0;
}

/** Keeps the Node's annotations current: one patch in flight, the latest wins. */
class StatusReporter {
  private inflight: Promise<void> | undefined;
  private wanted: { ready: boolean; revision: string | undefined } | undefined;
  private sent = '';

  constructor(
    private readonly client: KubeClient,
    private readonly type: ResourceType | undefined,
    private readonly node: string,
    private readonly log: (line: string) => void,
  ) {}

  report(ready: boolean, revision: string | undefined, timeoutMs?: number): Promise<void> {
    this.wanted = { ready, revision };
    this.inflight ??= this.drain().finally(() => (this.inflight = undefined));
    const done = this.inflight;
    if (timeoutMs === undefined) return done;
    return Promise.race([done, new Promise<void>((r) => setTimeout(r, timeoutMs).unref())]);
  }

  private async drain(): Promise<void> {
    while (this.wanted !== undefined) {
      const w = this.wanted;
      this.wanted = undefined;
      const key = `${w.ready}:${w.revision ?? ''}`;
      if (key === this.sent || this.type === undefined) continue;
      const annotations: JsonObject = { [ANNOTATION_READY]: String(w.ready), ...(w.revision !== undefined ? { [ANNOTATION_REVISION]: w.revision } : {}) };
      try {
        await this.client.patch(this.type, undefined, this.node, 'merge', { metadata: { annotations } }, { fieldManager: 'margay-agent' });
        this.sent = key;
      } catch (err) {
        this.log(`reporting status on Node ${this.node} failed: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  }
}

/** The record a previous agent left (undefined, with a note, when absent or unreadable). */
function readAdoptionRecord(file: string, log: (line: string) => void): AdoptionRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as AdoptionRecord;
  } catch (err) {
    log(`ignoring ${file}: ${err instanceof Error ? err.message : String(err)}`);
    return undefined;
  }
}

function writeAdoptionRecord(file: string, record: AdoptionRecord, log: (line: string) => void): void {
  try {
    mkdirSync(dirname(file), { recursive: true });
    writeFileSync(`${file}.tmp`, JSON.stringify(record));
    renameSync(`${file}.tmp`, file);
  } catch (err) {
    log(`could not write ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Runs a command and returns its stdout, or undefined when it fails. */
function execFileText(file: string, args: readonly string[]): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile(file, [...args], { timeout: 10_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout) => resolve(err === null ? stdout : undefined));
  });
}
