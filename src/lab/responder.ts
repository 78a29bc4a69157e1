// The small server every lab pod runs: on each of its TCP ports it accepts, writes one byte and
// closes; on each UDP port it echoes datagrams back. Started inside the pod's namespace by
// `ip netns exec NS node responder.js --tcp 80,81 --udp 80,81 --ready FILE`; writes FILE once
// every port listens. Exits on SIGTERM.
// With `--control SOCKET` it also probes on request: a client writes one JSON line
// `{"timeoutMs":N,"targets":[…]}` to the unix socket and reads one JSON line of results back, so
// the lab probes from this namespace without starting a process (sockets on the filesystem are
// reachable from any network namespace).
import { createServer, type Server } from 'node:net';
import { rmSync } from 'node:fs';
import { probeAll, type ProbeTarget } from './probe.js';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';

function ports(flag: string): number[] {
  const i = process.argv.indexOf(flag);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v === undefined || v === '' ? [] : v.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n < 65536);
}

function flag(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const readyFile = flag('--ready');
const servers: Server[] = [];
const sockets: Socket[] = [];

async function main(): Promise<void> {
  // Both families on one socket (IPv4 arrives mapped); IPv4 alone where IPv6 is off.
  const ipv6 = await canBindIpv6();
  for (const port of ports('--tcp')) {
    const server = createServer((conn) => {
      conn.on('error', () => undefined);
      conn.end('M');
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen({ port, host: ipv6 ? '::' : '0.0.0.0' }, ok);
    });
    servers.push(server);
  }
  for (const port of ports('--udp')) {
    const socket = createSocket(ipv6 ? 'udp6' : 'udp4');
    socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
    socket.on('error', () => undefined);
    await new Promise<void>((ok, fail) => {
      socket.once('error', fail);
      socket.bind(port, ipv6 ? '::' : '0.0.0.0', ok);
    });
    sockets.push(socket);
  }
  const control = flag('--control');
  if (control !== undefined) {
    rmSync(control, { force: true });
    const server = createServer((conn) => {
      let buffered = '';
      conn.on('error', () => undefined);
      conn.on('data', (chunk) => {
        buffered += chunk.toString('utf8');
        const nl = buffered.indexOf('\n');
        if (nl < 0) return;
        let request: { timeoutMs: number; targets: ProbeTarget[] };
        try {
          request = JSON.parse(buffered.slice(0, nl)) as { timeoutMs: number; targets: ProbeTarget[] };
        } catch {
          conn.end('{"error":"not JSON"}\n');
          return;
        }
        void probeAll(request.targets, request.timeoutMs).then((results) => conn.end(`${JSON.stringify(results)}\n`));
      });
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen(control, ok);
    });
    servers.push(server);
  }
  if (readyFile !== undefined) writeFileSync(readyFile, `${process.pid}\n`);
}

function canBindIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createSocket('udp6');
    probe.once('error', () => resolve(false));
    probe.bind(0, '::', () => {
      probe.close();
      resolve(true);
    });
  });
}

const stop = (): void => {
  for (const s of servers) s.close();
  for (const s of sockets) s.close();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
main().catch((err: unknown) => {
  process.stderr.write(`responder: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
