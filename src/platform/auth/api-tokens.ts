import type { DatabaseHandle } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';
import type { AuditContext, AuditService } from '../audit/service.js';
import { randomToken, sha256Hex } from '../crypto.js';
import { invalid, notFound } from '../errors.js';
import { canGrant, isPermission, tokenScopes, type Actor, type Permission } from '../permissions.js';

export interface ApiTokenSummary {
  id: string;
  name: string;
  scopes: Permission[];
  createdAt: string;
  lastUsedAt: string | null;
  revokedAt: string | null;
}

const tokenPattern = /^hvn\.([0-9a-f-]{36})\.([0-9a-f-]{36})\.([A-Za-z0-9_-]{43})$/;

/** Per-school integration tokens: scoped, shown once, stored as a SHA-256 hash. */
export function createApiTokenService(handle: DatabaseHandle, audit: AuditService, clock: () => Date) {
  const { db } = handle;
  return {
    async create(schoolId: string, input: { name: string; scopes: string[] }, context: AuditContext): Promise<{ id: string; token: string }> {
      const fields = [];
      if (!input.name.trim()) fields.push({ field: 'name', message: 'Enter a name that says what the token is for' });
      const scopes = input.scopes.filter(isPermission);
      if (scopes.length === 0 || scopes.length !== input.scopes.length || scopes.some((scope) => !tokenScopes.includes(scope))) {
        fields.push({ field: 'scopes', message: 'Select at least one of the listed scopes' });
      } else if (context.actor && scopes.some((scope) => !canGrant(context.actor, scope))) {
        // A token can never do more than the person who makes it.
        fields.push({
          field: 'scopes',
          message: `You can only give a token scopes you hold yourself: not ${scopes.filter((scope) => !canGrant(context.actor, scope)).join(', ')}`,
        });
      }
      if (fields.length > 0) throw invalid('There is a problem with the token details', fields);
      const id = newId();
      const secret = randomToken();
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('api_tokens')
          .values({
            school_id: schoolId,
            id,
            name: input.name.trim(),
            secret_hash: sha256Hex(secret),
            scopes: JSON.stringify(scopes),
            created_by: context.actor?.kind === 'user' ? context.actor.userId : 'system',
            created_at: isoNow(clock),
            last_used_at: null,
            revoked_at: null,
          })
          .execute();
        await audit.record(context, 'api_token.created', { type: 'api_token', id }, { scopes }, trx);
      });
      return { id, token: `hvn.${schoolId}.${id}.${secret}` };
    },

    async list(schoolId: string): Promise<ApiTokenSummary[]> {
      const rows = await db.selectFrom('api_tokens').selectAll().where('school_id', '=', schoolId).orderBy('created_at', 'desc').execute();
      return rows.map((row) => ({
        id: row.id,
        name: row.name,
        scopes: (JSON.parse(row.scopes) as string[]).filter(isPermission),
        createdAt: row.created_at,
        lastUsedAt: row.last_used_at,
        revokedAt: row.revoked_at,
      }));
    },

    async revoke(schoolId: string, id: string, context: AuditContext): Promise<void> {
      const result = await db
        .updateTable('api_tokens')
        .set({ revoked_at: isoNow(clock) })
        .where('school_id', '=', schoolId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) throw notFound('API token');
      await audit.record(context, 'api_token.revoked', { type: 'api_token', id });
    },

    /** Resolves an Authorization: Bearer token to an actor, or undefined. */
    async authenticate(token: string): Promise<Actor | undefined> {
      const match = tokenPattern.exec(token);
      if (!match) return undefined;
      const [, schoolId, id, secret] = match as unknown as [string, string, string, string];
      const row = await db.selectFrom('api_tokens').selectAll().where('school_id', '=', schoolId).where('id', '=', id).executeTakeFirst();
      if (!row || row.revoked_at || row.secret_hash !== sha256Hex(secret)) return undefined;
      const now = isoNow(clock);
      if (!row.last_used_at || Date.parse(now) - Date.parse(row.last_used_at) > 60_000) {
        await db.updateTable('api_tokens').set({ last_used_at: now }).where('school_id', '=', schoolId).where('id', '=', id).execute();
      }
      return { kind: 'token', schoolId, tokenId: id, displayName: row.name, scopes: (JSON.parse(row.scopes) as string[]).filter(isPermission) };
    },
  };
}

export type ApiTokenService = ReturnType<typeof createApiTokenService>;
