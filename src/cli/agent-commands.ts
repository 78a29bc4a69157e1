// Registers `margay agent`: the node agent (watch → calc → nftables for one node). Its module
// (client, calc engine, nft) loads only when the command runs, so `margay simulate` starts fast.
import type { Command } from 'commander';
import { UserError } from '../errors/index.js';
import type { CommandIo } from './simulate.js';

const agentModule = () => import('../agent/index.js');

function positive(text: string | undefined, path: string, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < min) throw new UserError({ path, message: `expected a whole number of milliseconds ≥ ${min}, got "${text}"` });
  return n;
}

export function registerAgentCommands(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  program
    .command('agent')
    .description("run the node agent: enforce policy on one node's pods with nftables (stops on SIGTERM, leaving the rules in place)")
    .requiredOption('--node <name>', 'the Node this agent runs on (its pods are the local endpoints)')
    .option('--kubeconfig <file>', 'kubeconfig of the cluster (default: $KUBECONFIG)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--netns <name>', 'program this network namespace (default: the current one)')
    .option('--interfaces <file>', 'JSON map of pods to host interfaces (default: $MARGAY_LAB_INTERFACES)')
    .option('--state-file <file>', 'keep what a restart needs to adopt the table without rewriting it (rule ids, hashes); default: none (a restart rewrites the table once)')
    .option('--pod-interface-prefix <prefix>', 'pod interface name prefix (default: from the map, else cali)')
    .option('--batch-ms <ms>', 'apply at most this long after the first change', '20')
    .option('--resync-ms <ms>', 'read the ruleset back and repair drift this often', '10000')
    .option('--no-flow-logs', 'do not collect flow logs (conntrack and NFLOG through ulogd2)')
    .option('--flow-flush-ms <ms>', 'flow log bucket length (default: $MARGAY_FLOW_FLUSH_MS, else 15000)')
    .option('--restart-on-failure', 'run the agent as a child and start it again when it dies (1 s, doubling to 30 s), as a kubelet restarts a DaemonSet pod')
    .option('--flow-aggregation <allowed,denied>', 'aggregation levels none|port|prefix|namespace for allowed and denied flows (default: $MARGAY_FLOW_AGGREGATION, else prefix,port)')
    .action(async (o: { node: string; kubeconfig?: string; context?: string; netns?: string; interfaces?: string; stateFile?: string; podInterfacePrefix?: string; batchMs: string; resyncMs: string; flowLogs: boolean; flowFlushMs?: string; flowAggregation?: string; restartOnFailure?: boolean }) => {
      const kubeconfig = o.kubeconfig ?? process.env.KUBECONFIG;
      if (kubeconfig === undefined || kubeconfig === '') throw new UserError({ path: '--kubeconfig', message: 'expected --kubeconfig FILE or $KUBECONFIG' });
      const interfaces = o.interfaces ?? (process.env.MARGAY_LAB_INTERFACES || undefined);
      const batchMs = positive(o.batchMs, '--batch-ms', 0);
      const resyncMs = positive(o.resyncMs, '--resync-ms', 100);
      const flowFlushMs = positive(o.flowFlushMs ?? (process.env.MARGAY_FLOW_FLUSH_MS || undefined), '--flow-flush-ms', 100);
      const aggregation = o.flowAggregation ?? (process.env.MARGAY_FLOW_AGGREGATION || 'prefix,port');
      const levels = aggregation.split(',');
      const known = ['none', 'port', 'prefix', 'namespace'] as const;
      const level = (v: string | undefined): (typeof known)[number] => {
        const found = known.find((k) => k === v);
        if (found === undefined) throw new UserError({ path: '--flow-aggregation', message: `expected two of ${known.join('|')} separated by a comma (allowed,denied), got "${aggregation}"` });
        return found;
      };
      const flowLogs = o.flowLogs ? { allowedLevel: level(levels[0]), deniedLevel: level(levels[1] ?? levels[0]), ...(flowFlushMs !== undefined ? { flushMs: flowFlushMs } : {}) } : false;
      if (o.restartOnFailure === true) {
        // Options were checked above; the child gets the same arguments less the flag.
        const { superviseAgent, RESTART_FLAG } = await agentModule();
        const at = process.argv.indexOf('agent');
        const args = process.argv.slice(at).filter((a) => a !== RESTART_FLAG);
        setExit(await superviseAgent({ args, log: io.out }));
        return;
      }
      const { runAgent } = await agentModule();
      setExit(
        await runAgent({
          node: o.node,
          kubeconfig,
          log: io.out,
          ...(o.context !== undefined ? { context: o.context } : {}),
          ...(o.netns !== undefined ? { netns: o.netns } : {}),
          ...(interfaces !== undefined ? { interfaces } : {}),
          ...(o.stateFile !== undefined ? { stateFile: o.stateFile } : {}),
          ...(o.podInterfacePrefix !== undefined ? { podInterfacePrefix: o.podInterfacePrefix } : {}),
          ...(batchMs !== undefined ? { batchMs } : {}),
          ...(resyncMs !== undefined ? { resyncMs } : {}),
          flowLogs,
        }),
      );
    });
}
