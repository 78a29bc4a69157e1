// Real connections from the namespace this process runs in: TCP counts a completed connect, UDP
// a datagram echoed back; silence or an ICMP error is a failure. Used by the one-shot prober and
// by each responder's control socket (so a matrix costs no process start per source).
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';

export interface ProbeTarget {
  readonly ip: string;
  readonly port: number;
  readonly protocol: 'TCP' | 'UDP';
}

export interface ProbeResult {
  readonly ok: boolean;
  /** What happened: `connected`, `echo`, `refused`, `timeout`, an error code. */
  readonly detail: string;
  readonly ms: number;
}

export function probeTcp(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
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

export function probeUdp(t: ProbeTarget, timeoutMs: number): Promise<ProbeResult> {
  const start = Date.now();
  return new Promise((resolve) => {
    const socket = createSocket(t.ip.includes(':') ? 'udp6' : 'udp4');
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

/** Every target at once. */
export function probeAll(targets: readonly ProbeTarget[], timeoutMs: number): Promise<ProbeResult[]> {
  return Promise.all(targets.map((t) => (t.protocol === 'UDP' ? probeUdp(t, timeoutMs) : probeTcp(t, timeoutMs))));
}
