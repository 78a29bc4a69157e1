// `margay simulate`: can A talk to B, and which policy decides? Answers from manifests alone.
import { UserError } from '../errors/index.js';
import {
  PolicyEvaluator,
  buildSnapshot,
  flowBetween,
  reachabilityMatrix,
  type Entity,
} from '../policy/index.js';
import type { IpAddress } from '../net/index.js';
import { readManifests } from './read-manifests.js';
import { formatPort, parsePortArgument, resolveEnd } from './flow-args.js';
import { renderMatrix, renderVerdict } from './render-verdict.js';

export interface SimulateOptions {
  readonly files: readonly string[];
  readonly from?: string;
  readonly to?: string;
  readonly port?: string;
  readonly matrix?: boolean;
  /** Only this family's addresses (default: IPv4 where both ends have it, else IPv6). */
  readonly family?: 4 | 6;
  readonly output: 'text' | 'json';
}

export interface CommandIo {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  readonly stdin: () => string;
}

export function simulate(opts: SimulateOptions, io: CommandIo): number {
  if (opts.files.length === 0) throw new UserError({ path: '-f', message: 'expected at least one manifest file (-f FILE)' });
  if (opts.port === undefined) throw new UserError({ path: '--port', message: 'expected --port PORT[/PROTOCOL], e.g. --port 80/TCP' });
  if (opts.matrix && (opts.from !== undefined || opts.to !== undefined)) {
    throw new UserError({ path: '--matrix', message: 'use either --matrix or --from/--to, not both' });
  }
  if (!opts.matrix && (opts.from === undefined || opts.to === undefined)) {
    throw new UserError({ path: opts.from === undefined ? '--from' : '--to', message: 'expected both --from NS/POD and --to NS/POD|IP, or --matrix' });
  }
  const request = parsePortArgument(opts.port);
  const notes: string[] = [];
  const built = buildSnapshot(readManifests(opts.files, io.stdin, (note) => notes.push(note)));
  if (built.problems.length > 0) throw new UserError(built.problems);
  if (opts.output === 'text') for (const note of [...notes, ...built.notes]) io.err(`note: ${note}`);
  const evaluator = new PolicyEvaluator(built.snapshot);

  if (opts.matrix) {
    const matrix = reachabilityMatrix(evaluator, built.pods, request, opts.family);
    io.out(opts.output === 'json' ? JSON.stringify(matrix) : `${formatPort(request)}\n${renderMatrix(matrix)}`);
    return 0;
  }

  const from = resolveEnd(opts.from as string, '--from', built.pods, built.snapshot.entities);
  const to = resolveEnd(opts.to as string, '--to', built.pods, built.snapshot.entities);
  const flow = flowBetween(from, to, request, opts.family !== undefined ? [opts.family] : undefined);
  if (!flow) {
    throw new UserError({ path: '--to', message: `${nameOf(from)} and ${nameOf(to)} share no ${opts.family !== undefined ? `IPv${opts.family} address` : 'IP family (IPv4 or IPv6)'}` });
  }
  const verdict = evaluator.evaluate(flow);
  if (opts.output === 'json') {
    io.out(
      JSON.stringify(
        {
          from: nameOf(from),
          to: nameOf(to),
          sourceIP: flow.source.ip.text,
          destinationIP: flow.destination.ip.text,
          port: request.port ?? null,
          protocol: formatPort(request).split('/').pop(),
          ...verdict,
        },
        null,
        2,
      ),
    );
  } else {
    io.out(renderVerdict(nameOf(from), nameOf(to), formatPort(request), verdict));
  }
  return 0;
}

function nameOf(x: Entity | IpAddress): string {
  if ('kind' in x) return x.namespace !== undefined ? `${x.namespace}/${x.name}` : `${x.kind} ${x.name}`;
  return x.text;
}
