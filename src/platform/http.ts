import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import type { AuditContext } from './audit/service.js';
import type { LoadedSession } from './auth/service.js';
import { AppError, type FieldError } from './errors.js';
import { can, type Actor, type Permission, type RouteAccess } from './permissions.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Every route declares who may use it; routes without one are refused (and fail a test). */
    access?: RouteAccess;
  }
  interface FastifyRequest {
    session: LoadedSession | null;
    actor: Actor | undefined;
  }
  interface FastifyInstance {
    registeredRoutes: RouteOptions[];
  }
  interface FastifyReply {
    render(template: string, context?: Record<string, unknown>): FastifyReply;
  }
}

export function isApiRequest(request: FastifyRequest): boolean {
  return request.url.startsWith('/api/');
}

/** The actor of a route whose declared permission has already been checked. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.actor) throw new AppError('UNAUTHENTICATED', 'Sign in to continue');
  return request.actor;
}

export function schoolIdOf(request: FastifyRequest): string {
  return actorOf(request).schoolId;
}

export function auditContext(request: FastifyRequest): AuditContext {
  const actor = actorOf(request);
  return { schoolId: actor.schoolId, actor, ip: request.ip };
}

export function allowed(request: FastifyRequest, permission: Permission): boolean {
  return can(request.actor, permission);
}

/** Form fields as strings (the first of repeated fields) — for parsing with a zod schema. */
export type FormBody = Record<string, string | string[] | undefined>;

export function formBody(request: FastifyRequest): FormBody {
  const body = request.body;
  if (!body || typeof body !== 'object') return {};
  const fields: FormBody = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (typeof value === 'string') fields[key] = value;
    else if (Array.isArray(value)) fields[key] = value.filter((item): item is string => typeof item === 'string');
  }
  return fields;
}

export function field(body: FormBody, name: string): string {
  const value = body[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
}

export function fieldList(body: FormBody, name: string): string[] {
  const value = body[name];
  if (value === undefined) return [];
  return (Array.isArray(value) ? value : [value]).map((item) => item.trim()).filter(Boolean);
}

/** The error summary and per-field messages that govuk-frontend components expect. */
export function errorView(fields: FieldError[], fallback?: string) {
  const errors =
    fields.length > 0 ? fields.map((item) => ({ text: item.message, href: `#${item.field}` })) : fallback ? [{ text: fallback, href: '#main-content' }] : [];
  const errorFor: Record<string, { text: string }> = {};
  for (const item of fields) errorFor[item.field] ??= { text: item.message };
  return { errors, errorFor };
}

/** Runs a form action; a validation or conflict error re-renders the form with the error summary. */
export async function handleForm(reply: FastifyReply, template: string, context: Record<string, unknown>, action: () => Promise<unknown>): Promise<unknown> {
  try {
    return await action();
  } catch (error) {
    if (error instanceof AppError && (error.code === 'VALIDATION' || error.code === 'CONFLICT')) {
      reply.code(error.statusCode);
      return reply.render(template, { ...context, ...errorView(error.fields, error.message) });
    }
    throw error;
  }
}

export function redirect(reply: FastifyReply, location: string): FastifyReply {
  return reply.code(303).header('location', location).send();
}

/** Only same-site relative paths may be used as a post-sign-in destination. */
export function safeNext(next: unknown): string {
  // A single leading slash, then no backslash or control character (browsers drop tabs and newlines, so "/\t/x" becomes "//x").
  return typeof next === 'string' && /^\/(?![/\\])[^\\\p{Cc}]*$/u.test(next) ? next : '/';
}

export interface UploadedFile {
  filename: string;
  mimetype: string;
  data: Buffer;
}

/** A file from a multipart form, or undefined when none (or an empty one) was sent. */
export function uploadedFile(request: FastifyRequest, name: string): UploadedFile | undefined {
  const value = (request.body as Record<string, unknown> | undefined)?.[name];
  if (!value || typeof value !== 'object' || !('data' in value) || !Buffer.isBuffer((value as UploadedFile).data)) return undefined;
  const file = value as UploadedFile;
  return file.data.length > 0 ? file : undefined;
}
