import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import type { AuditEventTable } from '../../db/schema.js';
import { sha256Hex } from '../crypto.js';
import type { Actor } from '../permissions.js';
import * as repository from './repository.js';

/** Who did it, from where: built once per request (see auditContext in platform/http.ts). */
export interface AuditContext {
  schoolId: string;
  actor?: Actor | undefined;
  ip?: string | undefined;
}

export interface AuditTarget {
  type: string;
  id: string;
}

export type AuditEvent = AuditEventTable;

export interface VerifyResult {
  ok: boolean;
  checked: number;
  broken?: { schoolId: string; seq: number; reason: string };
}

export function hashEvent(prevHash: string, event: Omit<AuditEventTable, 'hash' | 'prev_hash'>): string {
  const canonical = JSON.stringify([
    event.school_id,
    event.seq,
    event.at,
    event.actor_user_id,
    event.actor_label,
    event.action,
    event.target_type,
    event.target_id,
    event.ip,
    event.details,
  ]);
  return sha256Hex(`${prevHash}\n${canonical}`);
}

export function createAuditService(handle: DatabaseHandle, clock: () => Date) {
  const { db, dialect } = handle;

  async function appendIn(trx: DbOrTrx, context: AuditContext, action: string, target: AuditTarget | null, details: Record<string, unknown>) {
    const head = await repository.lockHead(trx, dialect, context.schoolId);
    const actor = context.actor;
    const event = {
      school_id: context.schoolId,
      seq: head.seq + 1,
      at: clock().toISOString(),
      actor_user_id: actor?.kind === 'user' ? actor.userId : null,
      actor_label: actor ? `${actor.kind === 'token' ? 'API token: ' : ''}${actor.displayName}` : 'system',
      action,
      target_type: target?.type ?? null,
      target_id: target?.id ?? null,
      ip: context.ip ?? null,
      details: JSON.stringify(details),
    };
    await repository.insertEvent(trx, { ...event, prev_hash: head.hash, hash: hashEvent(head.hash, event) });
  }

  /**
   * Appends one event to the school's chain. Pass `trx` to make the event part of the same
   * transaction as the change it records, so neither is written without the other.
   */
  async function record(
    context: AuditContext,
    action: string,
    target: AuditTarget | null = null,
    details: Record<string, unknown> = {},
    trx?: DbOrTrx,
  ): Promise<void> {
    if (trx) return appendIn(trx, context, action, target, details);
    await db.transaction().execute((inner) => appendIn(inner, context, action, target, details));
  }

  return {
    record,
    /** One line to audit a read of a safeguarding record (DESIGN.md: every read is audited). */
    read: (context: AuditContext, type: string, id: string, trx?: DbOrTrx) => record(context, `${type}.read`, { type, id }, {}, trx),

    list: (schoolId: string, filter: repository.AuditFilter, page: number, pageSize = 50) =>
      repository.listEvents(db, schoolId, filter, pageSize, (page - 1) * pageSize),

    actions: (schoolId: string) => repository.listActions(db, schoolId),

    /** Walks every chain; reports the first row whose link or content does not match. */
    async verify(): Promise<VerifyResult> {
      let checked = 0;
      let school = '';
      let prevHash = repository.genesisHash;
      let expectedSeq = 1;
      const lastSeen = new Map<string, number>();
      for await (const event of repository.eventsInChainOrder(db)) {
        if (event.school_id !== school) {
          school = event.school_id;
          prevHash = repository.genesisHash;
          expectedSeq = 1;
        }
        const broken = (reason: string): VerifyResult => ({ ok: false, checked, broken: { schoolId: school, seq: event.seq, reason } });
        if (event.seq !== expectedSeq) return broken(`expected event ${expectedSeq} but found ${event.seq} (a row is missing)`);
        if (event.prev_hash !== prevHash) return broken('its link to the previous event does not match');
        const { hash, prev_hash: _prev, ...content } = event;
        if (hashEvent(prevHash, content) !== hash) return broken('its content does not match its hash (the row was altered)');
        checked += 1;
        prevHash = hash;
        expectedSeq += 1;
        lastSeen.set(school, event.seq);
      }
      for (const head of await repository.listHeads(db)) {
        const seen = lastSeen.get(head.school_id) ?? 0;
        if (head.seq !== seen) {
          return {
            ok: false,
            checked,
            broken: { schoolId: head.school_id, seq: seen + 1, reason: `the chain ends at event ${seen} but ${head.seq} were written (rows were deleted)` },
          };
        }
      }
      return { ok: true, checked };
    },
  };
}

export type AuditService = ReturnType<typeof createAuditService>;
