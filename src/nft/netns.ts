// Small helpers for `mgy-` network namespaces, used by this module's tests and the data-plane
// bench: create and delete namespaces (refusing any other name), run a command inside one, and
// wire a routed Calico-style node with veth-attached pods. Nothing here touches the host's
// interfaces, routes or ruleset: every link is created inside a `mgy-` namespace.
import { randomBytes } from 'node:crypto';
import { run, type NftRunResult } from './runner.js';

const IP = '/usr/sbin/ip';

export function randomNetnsName(tag: string): string {
  return `mgy-${tag}-${randomBytes(3).toString('hex')}`;
}

function check(name: string): void {
  if (!/^mgy-[A-Za-z0-9_-]{1,40}$/.test(name)) throw new Error(`refusing namespace ${name}: lab namespaces are named mgy-…`);
}

export async function createNetns(name: string): Promise<void> {
  check(name);
  await must(IP, ['netns', 'add', name]);
  await must(IP, ['-n', name, 'link', 'set', 'lo', 'up']);
}

/** Deletes a namespace if it exists; never throws (called from cleanup hooks). */
export async function deleteNetns(name: string): Promise<void> {
  check(name);
  await run(IP, ['netns', 'del', name]);
}

export function netnsExec(name: string, cmd: string, args: readonly string[], stdin?: string): Promise<NftRunResult> {
  check(name);
  return run(IP, ['netns', 'exec', name, cmd, ...args], stdin);
}

export async function must(cmd: string, args: readonly string[], stdin?: string): Promise<NftRunResult> {
  const r = await run(cmd, args, stdin);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: ${r.stderr.trim() || `exit ${r.code}`}`);
  return r;
}

export interface Netns {
  readonly name: string;
}

export interface PodSpec {
  /** The pod's namespace name (`mgy-…`). */
  readonly netns: string;
  /** Host-side veth name in the node namespace. */
  readonly iface: string;
  /** IPv4 address, routed as a /32. */
  readonly ip: string;
}

const GATEWAY = '169.254.1.1';
const NODE_MAC = 'ee:ee:ee:ee:ee:ee';

/**
 * Wires pods to a node namespace as Calico does: a veth per pod, the pod's address a /32 on its
 * `eth0`, a default route via a link-local gateway the node answers for (a permanent neighbour
 * entry, no proxy ARP needed), and a /32 route per pod on the node. Forwarding on in the node.
 */
export async function wirePods(node: string, pods: readonly PodSpec[]): Promise<void> {
  check(node);
  await must(IP, ['netns', 'exec', node, 'sysctl', '-qw', 'net.ipv4.ip_forward=1']);
  for (const [i, p] of pods.entries()) {
    check(p.netns);
    const podMac = `02:00:00:00:${((i >> 8) & 255).toString(16).padStart(2, '0')}:${(i & 255).toString(16).padStart(2, '0')}`;
    await must(IP, ['-n', node, 'link', 'add', p.iface, 'address', NODE_MAC, 'type', 'veth', 'peer', 'name', 'eth0', 'address', podMac, 'netns', p.netns]);
    await must(IP, ['-n', node, 'link', 'set', p.iface, 'up']);
    await must(IP, ['-n', p.netns, 'link', 'set', 'eth0', 'up']);
    await must(IP, ['-n', p.netns, 'addr', 'add', `${p.ip}/32`, 'dev', 'eth0']);
    await must(IP, ['-n', p.netns, 'route', 'add', GATEWAY, 'dev', 'eth0', 'scope', 'link']);
    await must(IP, ['-n', p.netns, 'route', 'add', 'default', 'via', GATEWAY, 'dev', 'eth0']);
    await must(IP, ['-n', p.netns, 'neigh', 'add', GATEWAY, 'lladdr', NODE_MAC, 'dev', 'eth0', 'nud', 'permanent']);
    await must(IP, ['-n', node, 'route', 'add', `${p.ip}/32`, 'dev', p.iface]);
    await must(IP, ['-n', node, 'neigh', 'add', p.ip, 'lladdr', podMac, 'dev', p.iface, 'nud', 'permanent']);
  }
}
