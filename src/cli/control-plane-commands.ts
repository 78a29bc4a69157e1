// Registers the control-plane commands on the `margay` program: up, apply, get, delete, diff.
// Their modules (HTTP server, datastores, gRPC for etcd) load only when one of them runs, so
// `margay simulate` starts fast.
import { Option, type Command } from 'commander';
import type { CommandIo } from './simulate.js';

const kube = () => import('./kube-commands.js');

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

interface ClusterFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
}

function cluster(o: ClusterFlags): ClusterFlags {
  return {
    ...(o.kubeconfig !== undefined ? { kubeconfig: o.kubeconfig } : {}),
    ...(o.context !== undefined ? { context: o.context } : {}),
    ...(o.namespace !== undefined ? { namespace: o.namespace } : {}),
  };
}

function withCluster(cmd: Command): Command {
  return cmd
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('-n, --namespace <ns>', 'namespace for namespaced objects');
}

export function registerControlPlaneCommands(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  program
    .command('up')
    .description('run the control plane: the Kubernetes-style API server over a datastore')
    .option('--data-dir <dir>', 'where the datastore and kubeconfig live', './.margay')
    .option('--listen <host:port>', 'address to listen on (non-loopback addresses are served with TLS)', '127.0.0.1:6443')
    .addOption(new Option('--datastore <kind>', 'datastore backend').choices(['sqlite', 'etcd', 'memory']).default('sqlite'))
    .option('--etcd-endpoints <urls>', 'etcd endpoints, comma-separated or repeated (with --datastore etcd)', collect, [])
    .option('--etcd-prefix <prefix>', 'key prefix inside etcd')
    .option('--insecure', 'serve plain HTTP on a non-loopback address (no TLS: tokens cross the network in clear text)')
    .action(async (o: { dataDir: string; listen: string; datastore: 'sqlite' | 'etcd' | 'memory'; etcdEndpoints: string[]; etcdPrefix?: string; insecure?: boolean }) => {
      setExit(
        await (await import('./up.js')).up(
          {
            dataDir: o.dataDir,
            listen: o.listen,
            datastore: o.datastore,
            etcdEndpoints: o.etcdEndpoints,
            ...(o.etcdPrefix !== undefined ? { etcdPrefix: o.etcdPrefix } : {}),
            ...(o.insecure ? { insecure: true } : {}),
          },
          io,
        ),
      );
    });

  withCluster(program.command('apply'))
    .description('create or update objects from manifests (validated locally first; nothing changes if any is invalid)')
    .option('-f, --filename <file>', 'manifest file, directory or - for stdin (repeatable)', collect, [])
    .option('--dry-run', 'validate and default on the server without persisting')
    .option('--force-conflicts', 'take over fields another manager owns')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json', 'name']))
    .action(async (o: ClusterFlags & { filename: string[]; dryRun?: boolean; forceConflicts?: boolean; output?: string }) => {
      setExit(await (await kube()).applyCommand({ ...cluster(o), files: o.filename, ...(o.dryRun ? { dryRun: true } : {}), ...(o.forceConflicts ? { forceConflicts: true } : {}), ...(o.output !== undefined ? { output: o.output } : {}) }, io));
    });

  withCluster(program.command('get'))
    .description('show objects: margay get TYPE [NAME…] | TYPE/NAME… | -f FILE')
    .argument('[args...]', 'resource type and names')
    .option('-f, --filename <file>', 'get the objects named in these manifests', collect, [])
    .option('-A, --all-namespaces', 'list across all namespaces')
    .option('-l, --selector <selector>', 'label selector, e.g. app=web,tier!=db')
    .option('--show-managed-fields', 'keep metadata.managedFields in yaml/json output')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['yaml', 'json', 'wide', 'name']))
    .action(async (args: string[], o: ClusterFlags & { filename: string[]; allNamespaces?: boolean; selector?: string; output?: string; showManagedFields?: boolean }) => {
      setExit(
        await (await kube()).getCommand(
          {
            ...cluster(o),
            args,
            files: o.filename,
            ...(o.allNamespaces ? { allNamespaces: true } : {}),
            ...(o.selector !== undefined ? { selector: o.selector } : {}),
            ...(o.output !== undefined ? { output: o.output } : {}),
            ...(o.showManagedFields ? { showManagedFields: true } : {}),
          },
          io,
        ),
      );
    });

  withCluster(program.command('delete'))
    .description('delete objects: margay delete TYPE NAME… | TYPE/NAME… | -f FILE')
    .argument('[args...]', 'resource type and names')
    .option('-f, --filename <file>', 'delete the objects named in these manifests', collect, [])
    .option('--ignore-not-found', 'treat a missing object as deleted')
    .option('--dry-run', 'check on the server without deleting')
    .action(async (args: string[], o: ClusterFlags & { filename: string[]; ignoreNotFound?: boolean; dryRun?: boolean }) => {
      setExit(await (await kube()).deleteCommand({ ...cluster(o), args, files: o.filename, ...(o.ignoreNotFound ? { ignoreNotFound: true } : {}), ...(o.dryRun ? { dryRun: true } : {}) }, io));
    });

  withCluster(program.command('diff'))
    .description('show what apply would change (server-side dry run); exit 1 when there are differences')
    .option('-f, --filename <file>', 'manifest file, directory or - for stdin (repeatable)', collect, [])
    .action(async (o: ClusterFlags & { filename: string[] }) => {
      setExit(await (await kube()).diffCommand({ ...cluster(o), files: o.filename }, io));
    });
}
