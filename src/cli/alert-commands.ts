// Registers `margay alerts` (fired alerts); the Alert objects themselves are managed with
// `kubectl apply` / `margay apply` like any other kind.
import { Option, type Command } from 'commander';
import type { CommandIo } from './simulate.js';

export function registerAlertCommands(program: Command, io: CommandIo, setExit: (code: number) => void): void {
  program
    .command('alerts')
    .description('list fired alerts (newest first) with their webhook delivery state')
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context to use')
    .option('--alert <name>', 'only this Alert')
    .option('--since <when>', 'only alerts fired at or after: a duration (24h) or a timestamp')
    .option('--limit <n>', 'at most this many (default 1000)')
    .addOption(new Option('-o, --output <format>', 'output format').choices(['text', 'json']).default('text'))
    .action(async (o: { kubeconfig?: string; context?: string; alert?: string; since?: string; limit?: string; output: string }) => {
      setExit(await (await import('./alerts.js')).alertsCommand(o, io));
    });
}
