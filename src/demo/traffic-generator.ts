// A demo traffic generator: runs inside one source pod's namespace (`ip netns exec NS node
// traffic-generator.js TARGETS_JSON`) and makes real connections to each target at its rate, until
// it is killed. TCP: connect, read the responder's byte, close. UDP: one datagram.
import { connect } from 'node:net';
import { createSocket } from 'node:dgram';

interface Target {
  readonly ip: string;
  readonly port: number;
  readonly proto: 'tcp' | 'udp';
  readonly everyMs: number;
}

function once(t: Target): void {
  if (t.proto === 'udp') {
    const s = createSocket('udp4');
    s.on('error', () => s.close());
    s.send(Buffer.from('margay-demo'), t.port, t.ip, () => setTimeout(() => s.close(), 200));
    return;
  }
  const socket = connect({ host: t.ip, port: t.port });
  const timer = setTimeout(() => socket.destroy(), 1500);
  socket.on('data', () => socket.end());
  socket.on('close', () => clearTimeout(timer));
  socket.on('error', () => socket.destroy());
}

const targets = JSON.parse(process.argv[2] ?? '[]') as Target[];
for (const t of targets) {
  // Spread the first connections so sources do not all fire at once.
  setTimeout(() => {
    once(t);
    setInterval(() => once(t), t.everyMs);
  }, Math.floor(Math.random() * t.everyMs));
}
process.on('SIGTERM', () => process.exit(0));
