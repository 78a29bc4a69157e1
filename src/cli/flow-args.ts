// Parses the flow a user asks about: `--port 80`, `--port 53/UDP`, `--port ICMP`, and the
// `NS/POD` or IP at each end.
import { UserError } from '../errors/index.js';
import { parseIp, type IpAddress } from '../net/index.js';
import { PROTOCOL_NUMBERS, protocolName, type Entity, type FlowRequest } from '../policy/index.js';

const PORTLESS = new Set([PROTOCOL_NUMBERS.ICMP, PROTOCOL_NUMBERS.ICMPv6]);

export function parsePortArgument(text: string): FlowRequest {
  const m = /^(?:(\d+)(?:\/([A-Za-z0-9]+))?|([A-Za-z][A-Za-z0-9]*))$/.exec(text.trim());
  if (!m) throw portError(text);
  const protoText = m[2] ?? m[3] ?? 'TCP';
  const protocol = protocolFromText(protoText);
  if (protocol === undefined) throw portError(text, `unknown protocol "${protoText}"`);
  if (m[1] === undefined) {
    if (!PORTLESS.has(protocol as 1 | 58)) throw portError(text, `${protocolName(protocol)} needs a port number`);
    return { protocol };
  }
  const port = Number(m[1]);
  if (port < 1 || port > 65535) throw portError(text, 'port must be 1-65535');
  if (PORTLESS.has(protocol as 1 | 58)) throw portError(text, `${protocolName(protocol)} has no ports`);
  return { protocol, port };
}

function protocolFromText(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 0 && n <= 255 ? n : undefined;
  }
  for (const [name, n] of Object.entries(PROTOCOL_NUMBERS)) if (name.toLowerCase() === text.toLowerCase()) return n;
  return undefined;
}

function portError(text: string, why?: string): UserError {
  return new UserError({
    path: '--port',
    message: `expected PORT[/PROTOCOL] such as 80, 80/TCP, 53/UDP or ICMP${why ? ` (${why})` : ''}, got "${text}"`,
  });
}

export function formatPort(request: FlowRequest): string {
  return request.port === undefined ? protocolName(request.protocol) : `${request.port}/${protocolName(request.protocol)}`;
}

/** `ns/pod` names a pod from the manifests; anything that parses as an address is an address. */
export function resolveEnd(
  text: string,
  flag: '--from' | '--to',
  pods: ReadonlyMap<string, Entity>,
  entities: readonly Entity[],
): Entity | IpAddress {
  const ip = parseIp(text);
  if (ip) {
    // An address that belongs to a pod, host endpoint or node is that endpoint.
    return entities.find((e) => e.kind !== 'networkSet' && !e.hostNetwork && e.ips.some((a) => a.text === ip.text)) ?? ip;
  }
  const pod = pods.get(text.includes('/') ? text : `default/${text}`);
  if (pod) return pod;
  const known = [...pods.keys()];
  const hint = known.length === 0 ? 'the manifests define no pods' : `known pods: ${known.slice(0, 10).join(', ')}${known.length > 10 ? ', …' : ''}`;
  throw new UserError({ path: flag, message: `expected NAMESPACE/POD or an IP address; pod "${text}" is not in the manifests (${hint})` });
}
