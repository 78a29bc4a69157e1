// The alerts module: Alert objects (alerts.margay.io/v1) matched against every audit event as it
// is written, fired alerts kept in DIR/alerts.db, webhook delivery with retries and backoff.
export { AlertEngine, ALERT_PREFIX, ALERT_GROUP, kindTable, firedAlertObject, type AlertEngineOptions } from './engine.js';
export { matchesAuditCondition, tierOf, type KindTable } from './condition.js';
export { FiringStore, ALERTS_DB_FILE, type FiredAlert, type FiringQuery, type DeliveryState } from './firings.js';
export { WebhookSender, DEFAULT_RETRY, backoffDelay, type RetryPolicy, type DeliveryOutcome } from './webhook.js';
export { alertsApi } from './alerts-api.js';
