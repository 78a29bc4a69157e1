// The small server every lab pod runs: on each of its TCP ports it accepts, writes one byte and
// closes; on each UDP port it echoes datagrams back. Started inside the pod's namespace by
// `ip netns exec NS node responder.js --tcp 80,81 --udp 80,81 --ready FILE`; writes FILE once
// every port listens. Exits on SIGTERM.
import { createServer, type Server } from 'node:net';
import { createSocket, type Socket } from 'node:dgram';
import { writeFileSync } from 'node:fs';

function ports(flag: string): number[] {
  const i = process.argv.indexOf(flag);
  const v = i >= 0 ? process.argv[i + 1] : undefined;
  return v === undefined || v === '' ? [] : v.split(',').map(Number).filter((n) => Number.isInteger(n) && n > 0 && n < 65536);
}

const readyIndex = process.argv.indexOf('--ready');
const readyFile = readyIndex >= 0 ? process.argv[readyIndex + 1] : undefined;
const servers: Server[] = [];
const sockets: Socket[] = [];

async function main(): Promise<void> {
  for (const port of ports('--tcp')) {
    const server = createServer((conn) => {
      conn.on('error', () => undefined);
      conn.end('M');
    });
    await new Promise<void>((ok, fail) => {
      server.once('error', fail);
      server.listen({ port, host: '0.0.0.0' }, ok);
    });
    servers.push(server);
  }
  for (const port of ports('--udp')) {
    const socket = createSocket('udp4');
    socket.on('message', (msg, rinfo) => socket.send(msg, rinfo.port, rinfo.address));
    socket.on('error', () => undefined);
    await new Promise<void>((ok, fail) => {
      socket.once('error', fail);
      socket.bind(port, '0.0.0.0', ok);
    });
    sockets.push(socket);
  }
  if (readyFile !== undefined) writeFileSync(readyFile, `${process.pid}\n`);
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
