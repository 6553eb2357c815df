import type { DatabaseHandle, DbOrTrx } from '../../db/database.js';
import { isoNow, newId } from '../../db/helpers.js';

export interface NewNotification {
  /** A reference and a short phrase only: never safeguarding detail (DESIGN.md). */
  title: string;
  link: string | null;
  urgent?: boolean;
}

/** In-app notifications: a list per user, with an unread count shown in the header. */
export function createNotificationService(handle: DatabaseHandle, clock: () => Date) {
  const { db } = handle;
  return {
    async notify(trx: DbOrTrx, schoolId: string, userIds: readonly string[], notification: NewNotification): Promise<void> {
      const unique = [...new Set(userIds)];
      if (unique.length === 0) return;
      const now = isoNow(clock);
      await trx
        .insertInto('notifications')
        .values(
          unique.map((userId) => ({
            school_id: schoolId,
            id: newId(),
            user_id: userId,
            title: notification.title,
            link: notification.link,
            urgent: notification.urgent ? 1 : 0,
            created_at: now,
            read_at: null,
          })),
        )
        .execute();
    },
    async list(schoolId: string, userId: string, limit = 50) {
      return db
        .selectFrom('notifications')
        .selectAll()
        .where('school_id', '=', schoolId)
        .where('user_id', '=', userId)
        .orderBy('created_at', 'desc')
        .limit(limit)
        .execute();
    },
    async unreadCount(schoolId: string, userId: string): Promise<number> {
      const row = await db
        .selectFrom('notifications')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('school_id', '=', schoolId)
        .where('user_id', '=', userId)
        .where('read_at', 'is', null)
        .executeTakeFirstOrThrow();
      return Number(row.n);
    },
    async markAllRead(schoolId: string, userId: string): Promise<void> {
      await db
        .updateTable('notifications')
        .set({ read_at: isoNow(clock) })
        .where('school_id', '=', schoolId)
        .where('user_id', '=', userId)
        .where('read_at', 'is', null)
        .execute();
    },
  };
}

export type NotificationService = ReturnType<typeof createNotificationService>;
