import type { DataSource } from 'typeorm';
import { observeAuditEvents, type ObservedAuditEvent } from '../../audit/observeAuditEvents.js';
import type { Metrics } from '../../shared/metrics.js';

/** Proofing steps as they appear in the audit log; the metric's `step` label. */
const PROOFING_STEPS: Record<string, string> = {
  proofing_started: 'started', proofing_document_checked: 'document', proofing_facial_match_checked: 'facial_match',
  proofing_records_checked: 'records', proofing_code_sent: 'code_sent', proofing_code_checked: 'code',
  proofing_abandoned: 'abandoned', identity_verified: 'verified',
};

/** How a person answered a phone request, as the audit log says it; the phone metric's `event` label. */
const PHONE_ANSWERS: Record<string, string> = {
  phone_confirmed: 'approved', phone_confirmed_for: 'approved', phone_denied: 'denied', phone_not_me: 'not_me', phone_unmet: 'unmet',
};

/** Outcomes are short codes written by OneDoor; anything else is counted as `other`, never echoed. */
const label = (v: unknown, fallback: string) => (typeof v === 'string' && /^[a-z_]{1,32}$/.test(v) ? v : fallback);

function count(metrics: Metrics, e: ObservedAuditEvent): void {
  metrics.auditEvents.inc({ type: e.type });
  if (e.type === 'account_created') metrics.signUps.inc();
  const step = PROOFING_STEPS[e.type];
  if (step) {
    const outcome = e.type === 'proofing_code_sent' ? label(e.details['channel'], 'other') : label(e.details['outcome'], e.type === 'identity_verified' ? 'passed' : step);
    metrics.proofing.inc({ step, outcome });
  }
  if (e.type.startsWith('delegation_')) metrics.delegation.inc({ type: e.type.slice('delegation_'.length) });
  const answer = PHONE_ANSWERS[e.type];
  if (answer) metrics.phoneRequests.inc({ event: answer });
}

/** Sign-ups, proofing, delegation and phone-answer counters, from the audit events as they are committed. */
export function countDomainEvents(opts: { ds: DataSource; metrics: Metrics }): void {
  observeAuditEvents({ ds: opts.ds, listener: (e) => count(opts.metrics, e) });
}
