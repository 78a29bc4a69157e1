// The audit module: audit.k8s.io/v1 Events for every API request under an audit policy, written
// to a hash-chained SQLite log (DIR/audit.db) with retention, and the queries and verification
// `margay audit` runs over it.
export { Auditor, type AuditRequest, type AuditHandle, type AuditListener } from './auditor.js';
export { AuditLog, AUDIT_DB_FILE, GENESIS_HASH, chainHash, type AuditQuery, type RetentionOptions, type StoredAuditEvent, type VerifyResult } from './log.js';
export { DEFAULT_AUDIT_POLICY, evaluatePolicy, ruleMatches, canonicalJson, type AuditEvent, type AuditLevel, type AuditStage, type AuditPolicy, type PolicyInput, type ObjectReference, type PolicyRuleSpec, type GroupResources } from './event.js';
export { lineDiff } from './diff.js';
export { parseDuration, parseSince } from './duration.js';
export { parseAuditPolicy, readAuditPolicy } from './policy-file.js';
export { auditApi, AUDIT_API_GROUP } from './audit-api.js';
export { objectChanges, cleanObject, changeDiff, type ObjectChange } from './changes.js';
export { yamlLines } from './yaml-lines.js';
