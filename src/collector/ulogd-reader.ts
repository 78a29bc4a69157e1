// The event socket's reader, in its own thread. ulogd writes to the socket without blocking and
// drops a message when the socket is full, and the kernel drops conntrack events when ulogd
// falls behind; so the reader must never wait on the collector's other work (table snapshots,
// attribution). This thread only reads, parses and hands over batches.
import { createServer, type Socket } from 'node:net';
import { parentPort, workerData } from 'node:worker_threads';
import { parseUlogdLine, type ConnEvent, type DeniedPacket } from './events.js';

export interface ReaderInput {
  readonly socketPath: string;
}

export type ReaderMessage =
  | { readonly type: 'listening' }
  | { readonly type: 'connected' }
  | { readonly type: 'error'; readonly message: string }
  | { readonly type: 'events'; readonly events: readonly (ConnEvent | DeniedPacket)[]; readonly ignored: number };

const BATCH_MS = 20;
const BATCH_MAX = 2000;

function main(port: NonNullable<typeof parentPort>, input: ReaderInput): void {
  let pending: (ConnEvent | DeniedPacket)[] = [];
  let ignored = 0;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const send = (): void => {
    timer = undefined;
    if (pending.length === 0 && ignored === 0) return;
    const msg: ReaderMessage = { type: 'events', events: pending, ignored };
    pending = [];
    ignored = 0;
    port.postMessage(msg);
  };
  const attach = (sock: Socket): void => {
    port.postMessage({ type: 'connected' } satisfies ReaderMessage);
    let rest = '';
    sock.setEncoding('utf8');
    sock.on('data', (chunk: string) => {
      const text = rest + chunk;
      let from = 0;
      for (let nl = text.indexOf('\n', from); nl >= 0; nl = text.indexOf('\n', from)) {
        const line = text.slice(from, nl);
        from = nl + 1;
        if (line.length === 0) continue;
        const e = parseUlogdLine(line);
        if (e === undefined) ignored++;
        else pending.push(e);
      }
      rest = text.slice(from);
      if (pending.length >= BATCH_MAX) send();
      else timer ??= setTimeout(send, BATCH_MS);
    });
    sock.on('error', () => undefined);
  };
  const server = createServer(attach);
  server.on('error', (err) => port.postMessage({ type: 'error', message: err.message } satisfies ReaderMessage));
  server.listen(input.socketPath, () => port.postMessage({ type: 'listening' } satisfies ReaderMessage));
  port.on('message', (m: unknown) => {
    if (m === 'close') {
      send();
      server.close();
      port.close();
    }
  });
}

if (parentPort !== null) main(parentPort, workerData as ReaderInput);
