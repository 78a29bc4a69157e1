// Runs inside a source namespace (`ip netns exec NS node prober.js`): reads a JSON list of targets
// on stdin, tries them all at once with a short timeout, prints one JSON result per target.
// TCP: a completed connect is a success. UDP: a datagram echoed back is a success; silence or an
// ICMP error is a failure.
import { readFileSync } from 'node:fs';
import { probeAll, type ProbeTarget } from './probe.js';

async function main(): Promise<void> {
  const timeoutIndex = process.argv.indexOf('--timeout-ms');
  const timeoutMs = timeoutIndex >= 0 ? Number(process.argv[timeoutIndex + 1]) : 1000;
  const targets = JSON.parse(readFileSync(0, 'utf8')) as ProbeTarget[];
  const results = await probeAll(targets, timeoutMs);
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`prober: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
