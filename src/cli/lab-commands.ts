// Registers `margay lab up|apply|probe|down`: a local cluster of `mgy-` network namespaces with
// real traffic, whose probe matrix has the same shape as `simulate --matrix`. The lab module (and
// the API client it brings) loads only when a lab command runs, so `margay simulate` starts fast.
import { Option, type Command } from 'commander';
import { UserError } from '../errors/index.js';
import { PROTOCOL_NUMBERS } from '../policy/index.js';
import type { ProbeProtocol } from '../lab/index.js';
import { readManifests } from './read-manifests.js';
import { parsePortArgument } from './flow-args.js';
import { renderMatrix } from './render-verdict.js';
import type { CommandIo } from './simulate.js';

/** The lab's default directory (the lab module's DEFAULT_LAB_DIR, kept here to load it lazily). */
const DEFAULT_LAB_DIR = './.margay/lab';
const labModule = () => import('../lab/index.js');

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function probePort(text: string | undefined): { port: number; protocol: ProbeProtocol } {
  if (text === undefined) throw new UserError({ path: '--port', message: 'expected --port PORT[/PROTOCOL], e.g. --port 80/TCP' });
  const r = parsePortArgument(text);
  const protocol = r.protocol === PROTOCOL_NUMBERS.TCP ? 'TCP' : r.protocol === PROTOCOL_NUMBERS.UDP ? 'UDP' : r.protocol === PROTOCOL_NUMBERS.SCTP ? 'SCTP' : undefined;
  if (protocol === undefined || r.port === undefined) throw new UserError({ path: '--port', message: `the lab probes TCP, UDP (and reports SCTP as unavailable), got "${text}"` });
  return { port: r.port, protocol };
}

async function manifests(files: readonly string[], io: CommandIo, notes: string[]) {
  if (files.length === 0) throw new UserError({ path: '-f', message: 'expected at least one manifest file (-f FILE)' });
  const decoded = readManifests(files, io.stdin, (n) => notes.push(n));
  const { readObjects } = await import('./kube-commands.js');
  const objects = readObjects(files, io.stdin);
  return { decoded, objects };
}

export function registerLabCommands(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  const lab = program.command('lab').description('a local cluster made of network namespaces (mgy-…): nodes, pods, an "internet"; real traffic');
  const dirOption = (): Option => new Option('--lab-dir <dir>', 'where the lab keeps its state, logs and control plane').default(DEFAULT_LAB_DIR);

  lab
    .command('up')
    .description('build a lab from manifests: node and pod namespaces, routes, responders; registers them in the API')
    .requiredOption('-f, --filename <file>', 'manifest file or directory (repeatable)', collect, [])
    .option('--nodes <n>', 'number of nodes (default: the nodes the manifests name, else 2)')
    .option('--kubeconfig <file>', 'register into this cluster instead of starting a control plane in the lab dir')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--agent-command <cmd>', 'per node: a shell command that runs the node agent instead of `margay agent` (env MARGAY_NODE_NAME, MARGAY_LAB_NETNS, KUBECONFIG, MARGAY_LAB_INTERFACES)')
    .option('--no-agent', 'run no agent: policies are not enforced')
    .addOption(dirOption())
    .action(async (o: { filename: string[]; nodes?: string; kubeconfig?: string; context?: string; agentCommand?: string; agent: boolean; labDir: string }) => {
      const notes: string[] = [];
      const { decoded, objects } = await manifests(o.filename, io, notes);
      for (const n of notes) io.err(`note: ${n}`);
      let nodes: number | undefined;
      if (o.nodes !== undefined) {
        nodes = Number(o.nodes);
        if (!/^\d+$/.test(o.nodes)) throw new UserError({ path: '--nodes', message: `expected a whole number, got "${o.nodes}"` });
      }
      const { labUp } = await labModule();
      await labUp(
        {
          dir: o.labDir,
          decoded,
          objects,
          ...(nodes !== undefined ? { nodes } : {}),
          ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
          ...(o.context !== undefined ? { context: o.context } : {}),
          ...(o.agentCommand !== undefined ? { agentCommand: o.agentCommand } : {}),
          builtinAgent: o.agent,
        },
        io.out,
      );
      setExit(0);
    });

  lab
    .command('apply')
    .description('add new pods to the lab and apply manifests (policies…) to its cluster')
    .requiredOption('-f, --filename <file>', 'manifest file or directory (repeatable)', collect, [])
    .addOption(dirOption())
    .action(async (o: { filename: string[]; labDir: string }) => {
      const notes: string[] = [];
      const { decoded, objects } = await manifests(o.filename, io, notes);
      const { labApply } = await labModule();
      await labApply({ dir: o.labDir, decoded, objects }, io.out);
      setExit(0);
    });

  lab
    .command('probe')
    .description('real connections between pods (~1 s timeout): --from NS/POD --to NS/POD|IP, or --matrix')
    .option('--from <ns/pod>', 'source pod, or `internet` for the lab internet (203.0.113.1)')
    .option('--to <ns/pod|ip>', 'destination pod or address (the lab internet is 203.0.113.1 and fd00:6d67::cb00:7101)')
    .option('--port <port/proto>', 'destination port and protocol, e.g. 80/TCP, 81/UDP')
    .option('--matrix', 'probe every ordered pair of pods')
    .option('--timeout-ms <ms>', 'per-connection timeout', '1000')
    .addOption(new Option('--ip-family <4|6>', 'probe pods at their IPv4 (default) or IPv6 addresses').choices(['4', '6']).default('4'))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .addOption(dirOption())
    .action(async (o: { from?: string; to?: string; port?: string; matrix?: boolean; timeoutMs: string; ipFamily: '4' | '6'; output: 'text' | 'json'; labDir: string }) => {
      const family = Number(o.ipFamily) as 4 | 6;
      const { port, protocol } = probePort(o.port);
      const timeoutMs = Number(o.timeoutMs);
      if (!Number.isInteger(timeoutMs) || timeoutMs < 10 || timeoutMs > 60_000) throw new UserError({ path: '--timeout-ms', message: `expected 10 to 60000, got "${o.timeoutMs}"` });
      if (o.matrix) {
        if (o.from !== undefined || o.to !== undefined) throw new UserError({ path: '--matrix', message: 'use either --matrix or --from/--to, not both' });
        const { labMatrix } = await labModule();
        const m = await labMatrix({ dir: o.labDir, port, protocol, timeoutMs, family });
        io.out(o.output === 'json' ? JSON.stringify(m) : `${port}/${protocol}\n${renderMatrix(m)}`);
        setExit(0);
        return;
      }
      if (o.from === undefined || o.to === undefined) throw new UserError({ path: o.from === undefined ? '--from' : '--to', message: 'expected both --from NS/POD and --to NS/POD|IP, or --matrix' });
      const { labProbe } = await labModule();
      const r = await labProbe({ dir: o.labDir, from: o.from, to: o.to, port, protocol, timeoutMs, family });
      io.out(o.output === 'json' ? JSON.stringify(r, null, 2) : `${r.from} -> ${r.to} (${r.ip}) ${r.port}/${r.protocol}: ${r.ok ? 'ok' : 'FAILED'}, ${r.detail} in ${r.ms} ms`);
      setExit(0);
    });

  lab
    .command('delete')
    .description('delete objects from the lab\'s cluster (TYPE NAME… | TYPE/NAME… | -f FILE); deleted pods leave the kernel and free their address')
    .argument('[args...]')
    .option('-f, --filename <file>', 'delete the objects named in these manifests', collect, [])
    .option('-n, --namespace <ns>', 'namespace of namespaced objects named on the command line (default: default)')
    .option('--ignore-not-found', 'treat a missing object as deleted')
    .addOption(dirOption())
    .action(async (args: string[], o: { filename: string[]; namespace?: string; ignoreNotFound?: boolean; labDir: string }) => {
      const { targets } = await import('./kube-commands.js');
      const named = targets({ args, files: o.filename, ...(o.namespace !== undefined ? { namespace: o.namespace } : {}) }, {}, io);
      const list = named.flatMap((t) => {
        if (t.names.length === 0) throw new UserError({ message: `expected the name of the ${t.type.singular} to delete (or -f FILE)` });
        return t.names.map((name) => ({ type: t.type, namespace: t.namespace, name }));
      });
      const { labDelete } = await labModule();
      const r = await labDelete({ dir: o.labDir, targets: list, ...(o.ignoreNotFound ? { ignoreNotFound: true } : {}) }, io.out);
      for (const x of o.ignoreNotFound ? [] : r.notFound) io.err(`Error from server (NotFound): ${x} not found`);
      setExit(r.notFound.length > 0 && !o.ignoreNotFound ? 1 : 0);
    });

  lab
    .command('down')
    .description('remove every namespace, process and file the lab made (also after a crash)')
    .addOption(dirOption())
    .action(async (o: { labDir: string }) => {
      const { labDown } = await labModule();
      await labDown({ dir: o.labDir }, io.out);
      setExit(0);
    });
}
