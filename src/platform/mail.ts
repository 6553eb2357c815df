import nodemailer from 'nodemailer';
import type { DatabaseHandle } from '../db/database.js';
import { isoNow, newId } from '../db/helpers.js';

export interface OutgoingMail {
  schoolId: string;
  to: string;
  subject: string;
  /** Plain text. Never put safeguarding detail in mail: a reference number and a link only. */
  text: string;
  /**
   * A single-use link in the text. The outbox copy never keeps it once the message is sent, and
   * keeps it while unsent only when `keepUntilSent` (for the headteacher to pass on by hand).
   */
  secret?: { value: string; keepUntilSent: boolean };
}

const withheld = '[link withheld from the outbox]';

/**
 * Every message is kept in the outbox table. With SMTP_URL set it is also sent through
 * nodemailer; without, administrators read the outbox in Haven.
 */
export function createMailer(handle: DatabaseHandle, options: { smtpUrl: string | undefined; from: string }, clock: () => Date) {
  const transport = options.smtpUrl ? nodemailer.createTransport(options.smtpUrl) : undefined;
  const { db } = handle;
  return {
    configured: transport !== undefined,
    async send(mail: OutgoingMail): Promise<void> {
      const id = newId();
      const redacted = mail.secret ? mail.text.split(mail.secret.value).join(withheld) : mail.text;
      const stored = mail.secret?.keepUntilSent && !transport ? mail.text : redacted;
      await db
        .insertInto('outbox')
        .values({
          school_id: mail.schoolId,
          id,
          to_address: mail.to,
          subject: mail.subject,
          body_text: stored,
          created_at: isoNow(clock),
          sent_at: null,
          error: null,
        })
        .execute();
      if (!transport) return;
      try {
        await transport.sendMail({ from: options.from, to: mail.to, subject: mail.subject, text: mail.text });
        await db
          .updateTable('outbox')
          .set({ sent_at: isoNow(clock), body_text: redacted })
          .where('school_id', '=', mail.schoolId)
          .where('id', '=', id)
          .execute();
      } catch (error) {
        await db
          .updateTable('outbox')
          .set({ error: String(error) })
          .where('school_id', '=', mail.schoolId)
          .where('id', '=', id)
          .execute();
      }
    },
    async outbox(schoolId: string, limit = 100) {
      return db.selectFrom('outbox').selectAll().where('school_id', '=', schoolId).orderBy('created_at', 'desc').limit(limit).execute();
    },
    close(): void {
      transport?.close();
    },
  };
}

export type Mailer = ReturnType<typeof createMailer>;
