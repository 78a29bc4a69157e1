// Human-readable rendering of a verdict's trace and of a reachability matrix.
import type { Decision, DirectionVerdict, PolicySetVerdict, ReachabilityMatrix, TierTrace, Verdict } from '../policy/index.js';

export function renderVerdict(from: string, to: string, port: string, v: Verdict): string {
  const lines = [`${v.allowed ? 'ALLOWED' : 'DENIED'}  ${from} -> ${to}  ${port}`, ''];
  lines.push(...renderDirection(v.egress, `egress from ${from}`));
  lines.push(...renderDirection(v.ingress, `ingress to ${to}`));
  if (v.staged !== (v as PolicySetVerdict) && stagedDiffers(v)) {
    lines.push(`staged policies would make it ${v.staged.allowed ? 'ALLOWED' : 'DENIED'}:`);
    lines.push(...renderDirection(v.staged.egress, `egress from ${from} (staged)`).map(indent));
    lines.push(...renderDirection(v.staged.ingress, `ingress to ${to} (staged)`).map(indent));
  } else {
    lines.push('staged policies: no change');
  }
  return lines.join('\n');
}

function indent(line: string): string {
  return line === '' ? line : `  ${line}`;
}

function stagedDiffers(v: Verdict): boolean {
  return JSON.stringify(v.staged.egress.decidedBy) !== JSON.stringify(v.egress.decidedBy) ||
    JSON.stringify(v.staged.ingress.decidedBy) !== JSON.stringify(v.ingress.decidedBy);
}

function renderDirection(d: DirectionVerdict, title: string): string[] {
  const lines = [`${title}: ${d.allowed ? 'allowed' : 'denied'} — ${describeDecision(d.decidedBy)}`];
  for (const t of d.tiers) lines.push(...renderTier(t));
  if (d.profiles.length > 0) lines.push(`  profiles: ${d.profiles.join(', ')}`);
  lines.push('');
  return lines;
}

function renderTier(t: TierTrace): string[] {
  const lines = [`  tier ${t.tier}: ${describeOutcome(t.outcome)}`];
  for (const p of t.policies) {
    const hits = p.hits.length === 0 ? 'no rule matched' : p.hits.map((h) => `rule ${h.ruleIndex}${h.ruleName ? ` "${h.ruleName}"` : ''} ${h.action}`).join(', ');
    lines.push(`    ${p.kind} ${p.policy}: ${hits}`);
  }
  return lines;
}

function describeOutcome(o: TierTrace['outcome']): string {
  switch (o) {
    case 'end-of-tier-Deny':
      return 'no rule matched; end of tier denies';
    case 'end-of-tier-Pass':
      return 'no rule matched; tier default action passes to the next tier';
    case 'Pass':
      return 'passed to the next tier';
    default:
      return o === 'Allow' ? 'allowed' : 'denied';
  }
}

export function describeDecision(d: Decision): string {
  switch (d.kind) {
    case 'rule':
      return `${d.action} by rule ${d.ruleIndex}${d.ruleName ? ` "${d.ruleName}"` : ''} of ${d.policy} in tier ${d.tier}`;
    case 'end-of-tier':
      return `end of tier ${d.tier}: a policy selected the endpoint and no rule matched`;
    case 'profile':
      return `${d.action} by rule ${d.ruleIndex} of profile ${d.profile}`;
    case 'default-deny':
      return `default deny (${d.reason})`;
    case 'not-enforced':
      return `no policy applies (${d.reason})`;
  }
}

/** Upstream's truth-table style: rows are sources, columns destinations; `.` allowed, `X` denied. */
export function renderMatrix(m: ReachabilityMatrix): string {
  const keys = Object.keys(m);
  const width = Math.max(4, ...keys.map((k) => k.length));
  const header = `${' '.repeat(width)} ${keys.map((k) => k.padStart(Math.max(k.length, 1))).join(' ')}`;
  const rows = keys.map((from) => {
    const row = m[from] ?? {};
    return `${from.padEnd(width)} ${keys.map((to) => (row[to] ? '.' : 'X').padStart(to.length)).join(' ')}`;
  });
  return [header, ...rows].join('\n');
}
