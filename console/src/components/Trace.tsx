// A verdict's trace, readable: per direction, the tiers in order, the policies that matched in
// each and how evaluation left the tier; staged policies' verdict when it differs.
import type { DirectionVerdict, Verdict } from '../../../src/policy/index.js';

function decision(d: DirectionVerdict): string {
  const x = d.decidedBy;
  switch (x.kind) {
    case 'rule': return `${x.action} by rule ${x.ruleIndex} of ${x.policy} (tier ${x.tier})`;
    case 'end-of-tier': return `Deny at the end of tier ${x.tier} (no policy in it matched)`;
    case 'profile': return `${x.action} by profile ${x.profile}`;
    case 'default-deny': return `Deny: ${x.reason}`;
    case 'not-enforced': return `not enforced: ${x.reason}`;
  }
}

function Direction({ d }: { d: DirectionVerdict }) {
  return (
    <div>
      <strong>{d.direction}</strong> {d.endpoint !== undefined ? <>at <code>{d.endpoint}</code></> : null}:{' '}
      <span className={`badge ${d.allowed ? 'allow' : 'deny'}`}>{d.allowed ? 'allowed' : 'denied'}</span> — {decision(d)}
      {d.tiers.length > 0 && (
        <ul className="trace">
          {d.tiers.map((t) => (
            <li key={t.tier}>
              tier <code>{t.tier}</code>: {t.outcome}
              {t.policies.length > 0 && ' — '}
              {t.policies.map((p) => `${p.policy} (${p.kind}) ${p.hits.map((h) => `rule ${h.ruleIndex} ${h.action}`).join(', ')}`).join('; ')}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export function Trace({ v }: { v: Verdict }) {
  const stagedDiffers = v.staged.allowed !== v.allowed || JSON.stringify(v.staged.egress.decidedBy) !== JSON.stringify(v.egress.decidedBy) || JSON.stringify(v.staged.ingress.decidedBy) !== JSON.stringify(v.ingress.decidedBy);
  return (
    <div className="verdict">
      <Direction d={v.egress} />
      <Direction d={v.ingress} />
      {stagedDiffers && (
        <p>
          <span className="badge staged">staged</span> with staged policies: {v.staged.allowed ? 'allowed' : 'denied'} — {decision(v.staged.allowed ? v.staged.ingress : v.staged.egress.allowed ? v.staged.ingress : v.staged.egress)}
        </p>
      )}
    </div>
  );
}
