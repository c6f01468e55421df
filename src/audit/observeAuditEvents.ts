import type { DataSource, EntitySubscriberInterface, InsertEvent, QueryRunner, TransactionCommitEvent, TransactionRollbackEvent } from 'typeorm';
import { AuditEvent } from '../../entities/index.js';
import type { AuditEventType } from './recordEvent.js';

export interface ObservedAuditEvent {
  type: AuditEventType;
  details: Record<string, unknown>;
}

/** One observer per data source: a second app on the same data source replaces the first's. */
const observers = new WeakMap<DataSource, { listener: (e: ObservedAuditEvent) => void }>();

/**
 * Calls `listener` for every audit event once it is committed: recordEvent is the only writer
 * of audit events, so this sees every sign-up, proofing step and delegation change in one
 * place. Events written inside a transaction are held until it commits and dropped when it
 * rolls back, so what is observed matches what is in the database.
 */
export function observeAuditEvents(opts: { ds: DataSource; listener: (e: ObservedAuditEvent) => void }): void {
  const existing = observers.get(opts.ds);
  if (existing) { existing.listener = opts.listener; return; }
  const slot = { listener: opts.listener };
  observers.set(opts.ds, slot);
  const pending = new WeakMap<QueryRunner, ObservedAuditEvent[]>();
  const emit = (e: ObservedAuditEvent) => {
    try { slot.listener(e); } catch { /* observing never breaks the write */ }
  };
  const subscriber: EntitySubscriberInterface<AuditEvent> = {
    listenTo: () => AuditEvent,
    afterInsert(event: InsertEvent<AuditEvent>) {
      const row = event.entity as Partial<AuditEvent>;
      let details: Record<string, unknown> = {};
      try { details = JSON.parse(String(row.details ?? '{}')) as Record<string, unknown>; } catch { /* malformed details carry nothing to count */ }
      const observed = { type: row.type as AuditEventType, details };
      if (!event.queryRunner.isTransactionActive) return emit(observed);
      const list = pending.get(event.queryRunner) ?? [];
      list.push(observed);
      pending.set(event.queryRunner, list);
    },
    afterTransactionCommit(event: TransactionCommitEvent) {
      if (event.queryRunner.isTransactionActive) return; // a savepoint released inside an outer transaction
      const list = pending.get(event.queryRunner);
      pending.delete(event.queryRunner);
      list?.forEach(emit);
    },
    afterTransactionRollback(event: TransactionRollbackEvent) {
      if (event.queryRunner.isTransactionActive) return;
      pending.delete(event.queryRunner);
    },
  };
  opts.ds.subscribers.push(subscriber);
}
