// Registers `margay audit` (list, verify, changes) and the authentication and audit flags of
// `margay up`. The SQLite-backed modules load only when one of these runs.
import { Option, type Command } from 'commander';
import type { CommandIo } from './simulate.js';

const audit = () => import('./audit.js');

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function withFilters(cmd: Command): Command {
  return cmd
    .option('--data-dir <dir>', 'the data directory of `margay up` (holds audit.db)', './.margay')
    .option('--since <when>', 'only events at or after: a duration (24h, 30m) or a timestamp')
    .option('--until <when>', 'only events at or before: a duration (1h) or a timestamp')
    .option('--verb <verb>', 'only these verbs (repeatable or comma-separated)', collect, [])
    .option('--kind <kind>', 'only this kind: networkpolicy, gnp, networkpolicies.projectcalico.org…')
    .option('-n, --namespace <ns>', 'only this namespace')
    .option('--name <name>', 'only objects of this name')
    .option('--user <user>', 'only requests of this user')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'));
}

interface UpExtra {
  tokenAuthFile?: string;
  auditMaxAge?: string;
  auditMaxCount?: string;
  tls?: boolean;
  auditPolicyFile?: string;
  auditLogPath?: string;
}

export function registerAuditCommands(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  const upCommand = program.commands.find((c) => c.name() === 'up');
  if (upCommand !== undefined) {
    upCommand
      .option('--token-auth-file <file>', 'bearer tokens: CSV lines token,user,uid,"group1,group2" (then every request needs a token)')
      .option('--audit-max-age <duration>', 'drop audit records older than this (default 30d)')
      .option('--audit-max-count <n>', 'keep at most this many audit records (default 1000000)')
      .option('--audit-policy-file <file>', 'audit.k8s.io/v1 Policy deciding what each request records (first matching rule wins)')
      .option('--audit-log-path <file>', 'also append every audit event to this file as JSON lines (for log pipelines)')
      .option('--tls', 'serve HTTPS on loopback too (a CA in DIR/pki; its certificate goes into the kubeconfig)')
      .hook('preAction', async (cmd) => {
        const o = cmd.opts<UpExtra>();
        const count = o.auditMaxCount !== undefined ? Number(o.auditMaxCount) : undefined;
        (await import('./up.js')).setExtraUpOptions({
          ...(o.tokenAuthFile !== undefined ? { tokenAuthFile: o.tokenAuthFile } : {}),
          ...(o.auditMaxAge !== undefined ? { auditMaxAge: o.auditMaxAge } : {}),
          ...(count !== undefined ? { auditMaxCount: count } : {}),
          ...(o.tls === true ? { tls: true } : {}),
          ...(o.auditPolicyFile !== undefined ? { auditPolicyFile: o.auditPolicyFile } : {}),
          ...(o.auditLogPath !== undefined ? { auditLogPath: o.auditLogPath } : {}),
        });
      });
  }

  const auditCmd = withFilters(program.command('audit'))
    .description('show the audit log: margay audit [--since 24h] [--verb …] [--kind …] [--code 403]; `verify`, `changes`')
    .option('--code <code>', 'only responses with this HTTP status code')
    .option('--stage <stage>', 'RequestReceived, ResponseComplete (default) or all')
    .action(async (o: { dataDir: string; since?: string; until?: string; verb: string[]; kind?: string; namespace?: string; name?: string; user?: string; code?: string; stage?: string; output: string }) => {
      setExit((await audit()).auditListCommand(o, io));
    });

  // The subcommands take the filters declared on `audit` (commander hands them to the parent).
  auditCmd
    .command('verify')
    .description('check the hash chain of the audit log; names the first edited, deleted or reordered record (exit 1)')
    .action(async (_o: unknown, cmd: Command) => {
      setExit((await audit()).auditVerifyCommand(cmd.optsWithGlobals<{ dataDir: string }>(), io));
    });

  auditCmd
    .command('changes')
    .description('what changed: each write (of --kind, in --since…) with a diff of the object before and after')
    .action(async (_o: unknown, cmd: Command) => {
      setExit((await audit()).auditChangesCommand(cmd.optsWithGlobals<{ dataDir: string; verb: string[]; output: string }>(), io));
    });
}
