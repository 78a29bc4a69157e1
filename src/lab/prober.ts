// Runs inside a source namespace (`ip netns exec NS node prober.js`): reads a JSON list of targets
// on stdin, tries them all at once with a short timeout, prints one JSON result per target.
// TCP: a completed connect is a success. UDP: a datagram echoed back is a success; silence or an
// ICMP error is a failure.
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';
import { readFileSync } from 'node:fs';

interface ProbeTarget {
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

interface ProbeResult {
  readonly ok: boolean;
  /** What happened: `connected`, `echo`, `refused`, `timeout`, an error code. */
  readonly detail: string;
  readonly ms: number;
}

function probeTcp(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    const socket = connect({ host: t.ip, port: t.port });
    const done = (ok: boolean, detail: string): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve({ ok, detail, ms: Date.now() - start });
    };
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs);
    socket.once('connect', () => done(true, 'connected'));
    socket.once('error', (err: NodeJS.ErrnoException) => done(false, err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? err.message)));
  });
}

function probeUdp(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    const socket = createSocket('udp4');
    const payload = Buffer.from(`margay-probe-${Math.random().toString(36).slice(2)}`);
    const done = (ok: boolean, detail: string): void => {
      clearTimeout(timer);
      try {
        socket.close();
      } catch {
        // already closed
      }
      resolve({ ok, detail, ms: Date.now() - start });
    };
    const timer = setTimeout(() => done(false, 'timeout'), timeoutMs);
    socket.on('message', (msg) => {
      if (msg.equals(payload)) done(true, 'echo');
    });
    socket.on('error', (err: NodeJS.ErrnoException) => done(false, err.code === 'ECONNREFUSED' ? 'refused' : (err.code ?? err.message)));
    // Connected, so an ICMP port-unreachable comes back as ECONNREFUSED instead of silence.
    socket.connect(t.port, t.ip, () => socket.send(payload));
  });
}

async function main(): Promise<void> {
  const timeoutIndex = process.argv.indexOf('--timeout-ms');
  const timeoutMs = timeoutIndex >= 0 ? Number(process.argv[timeoutIndex + 1]) : 1000;
  const targets = JSON.parse(readFileSync(0, 'utf8')) as ProbeTarget[];
  const results = await Promise.all(targets.map((t) => (t.protocol === 'UDP' ? probeUdp(t, timeoutMs) : probeTcp(t, timeoutMs))));
  process.stdout.write(`${JSON.stringify(results)}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`prober: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
