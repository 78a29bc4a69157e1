// The `margay` command line. One top-level handler maps a UserError to exit code 2 with one line
// per problem, and anything else (a bug) to exit code 70 with the stack.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, Option } from 'commander';
import { bugText, UserError, formatProblem } from '../errors/index.js';
import { simulate, type CommandIo } from './simulate.js';
import { registerControlPlaneCommands } from './control-plane-commands.js';
import { registerLabCommands } from './lab-commands.js';
import { registerAuditCommands } from './audit-commands.js';
import { registerAgentCommands } from './agent-commands.js';
import { registerDemoOption } from './demo-option.js';
import { registerTokenCommands } from './token-commands.js';
import { registerAlertCommands } from './alert-commands.js';
import { registerFlowsCommands } from './flows-commands.js';

export const EXIT_USAGE = 2;
export const EXIT_BUG = 70;

const defaultIo: CommandIo = {
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
  stdin: () => readFileSync(0, 'utf8'),
};

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

function buildProgram(io: CommandIo, setExit: (code: number) => void): Command {
  const program = new Command('margay')
    .description('Margay: network security for Kubernetes and Linux workloads')
    .version(packageVersion(), '--version')
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s.trimEnd()), writeErr: (s) => io.err(s.trimEnd()) });

  program
    .command('simulate')
    .description('answer "can A talk to B, and which policy decides?" from manifests alone')
    .requiredOption('-f, --filename <file>', 'manifest file, directory or - for stdin (repeatable)', collect, [])
    .option('--from <ns/pod>', 'source pod (NAMESPACE/POD) or IP address')
    .option('--to <ns/pod|ip>', 'destination pod (NAMESPACE/POD) or IP address')
    .option('--port <port[/proto]>', 'destination port and protocol, e.g. 80/TCP, 53/UDP, ICMP')
    .option('--matrix', 'evaluate every ordered pair of pods')
    .addOption(new Option('--ip-family <4|6>', 'pods\' addresses of this family only (default: IPv4 where both have one)').choices(['4', '6']))
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action((o: { filename: string[]; from?: string; to?: string; port?: string; matrix?: boolean; ipFamily?: '4' | '6'; output: 'text' | 'json' }) => {
      setExit(
        simulate(
          {
            files: o.filename,
            output: o.output,
            ...(o.from !== undefined ? { from: o.from } : {}),
            ...(o.to !== undefined ? { to: o.to } : {}),
            ...(o.port !== undefined ? { port: o.port } : {}),
            ...(o.matrix ? { matrix: true } : {}),
            ...(o.ipFamily !== undefined ? { family: Number(o.ipFamily) as 4 | 6 } : {}),
          },
          io,
        ),
      );
    });
  registerControlPlaneCommands(program, io, setExit);
  registerLabCommands(program, io, setExit);
  registerAuditCommands(program, io, setExit);
  registerAgentCommands(program, io, setExit);
  registerDemoOption(program);
  registerTokenCommands(program, io, setExit);
  registerAlertCommands(program, io, setExit);
  registerFlowsCommands(program, io, setExit);
  return program;
}

/** Runs the CLI and returns the exit code; never throws for anything a user typed. */
export async function main(argv: readonly string[], io: CommandIo = defaultIo): Promise<number> {
  let code = 0;
  const program = buildProgram(io, (c) => (code = c));
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return code;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are successes; every other parse failure is a usage error.
      return err.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    if (err instanceof UserError) {
      for (const p of err.problems) io.err(`error: ${formatProblem(p)}`);
      return EXIT_USAGE;
    }
    io.err(`margay: internal error (please report): ${bugText(err)}`);
    return EXIT_BUG;
  }
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}
