// Registers `margay token create|list|revoke` (issued bearer tokens); the command module loads
// only when one of them runs.
import { Option, type Command } from 'commander';
import type { CommandIo } from './simulate.js';

const token = () => import('./token.js');

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function withKubeconfig(cmd: Command): Command {
  return cmd.option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)').option('--context <name>', 'kubeconfig context to use');
}

export function registerTokenCommands(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  const cmd = program.command('token').description('bearer tokens the server issues (stored hashed, with expiry and revocation)');
  withKubeconfig(cmd.command('create'))
    .description('issue a token: prints the secret once on stdout')
    .requiredOption('--user <name>', 'the user the token authenticates as')
    .option('--group <group>', 'a group of the user (repeatable or comma-separated)', collect, [])
    .option('--ttl <duration>', 'lifetime: 90s, 15m, 24h, 30d', '24h')
    .option('--description <text>', 'what the token is for')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (o: { user: string; group: string[]; ttl: string; description?: string; output: string; kubeconfig?: string; context?: string }) => {
      setExit(await (await token()).tokenCreateCommand(o, io));
    });
  withKubeconfig(cmd.command('list'))
    .description('list issued tokens (never their secrets)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (o: { output: string; kubeconfig?: string; context?: string }) => {
      setExit(await (await token()).tokenListCommand(o, io));
    });
  withKubeconfig(cmd.command('revoke <id>'))
    .description('revoke a token: it stops working at once')
    .action(async (id: string, o: { kubeconfig?: string; context?: string }) => {
      setExit(await (await token()).tokenRevokeCommand(id, o, io));
    });
  registerClientCertCommand(program, io, setExit);
}

export function registerClientCertCommand(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  const tokenCmd = program.commands.find((c) => c.name() === 'token');
  if (tokenCmd === undefined) return;
  tokenCmd
    .command('client-cert')
    .description('sign a TLS client certificate (CN = user, O = groups) with the CA of `margay up --tls`; writes PREFIX.crt and PREFIX.key')
    .requiredOption('--user <name>', 'the user (certificate CN)')
    .option('--group <group>', 'a group (certificate O; repeatable or comma-separated)', collect, [])
    .option('--data-dir <dir>', 'the data directory of `margay up` (holds pki/)', './.margay')
    .option('--out <prefix>', 'where to write PREFIX.crt and PREFIX.key (default: the user name)')
    .action(async (o: { user: string; group: string[]; dataDir: string; out?: string }) => {
      setExit(await (await token()).clientCertCommand(o, io));
    });
}
