import cookie from '@fastify/cookie';
import csrf from '@fastify/csrf-protection';
import formbody from '@fastify/formbody';
import helmet from '@fastify/helmet';
import multipart from '@fastify/multipart';
import rateLimit from '@fastify/rate-limit';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest, type RouteOptions } from 'fastify';
import { jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { join } from 'node:path';
import { registerAccessRegisterRoutes } from './features/agreements/register-routes.js';
import { registerAgreementRoutes } from './features/agreements/routes.js';
import { registerConsentRoutes } from './features/consents/routes.js';
import { registerVideoConferenceRoutes } from './features/consents/video-routes.js';
import { registerFilteringRoutes } from './features/filtering/routes.js';
import { registerIncidentRoutes } from './features/incidents/routes.js';
import { registerMonitoringRoutes } from './features/monitoring/routes.js';
import { registerPeopleRoutes } from './features/people/routes.js';
import { registerNotificationRoutes } from './platform/notifications/routes.js';
import { registerSetupRoutes } from './features/setup/routes.js';
import { registerApiRoutes } from './platform/api/routes.js';
import { registerAuditRoutes } from './platform/audit/routes.js';
import { registerAuthRoutes } from './platform/auth/routes.js';
import { AppError, errorCodes, type ErrorCode } from './platform/errors.js';
import { isApiRequest, redirect, type UploadedFile } from './platform/http.js';
import { navigationFor } from './platform/navigation.js';
import { can } from './platform/permissions.js';
import { registerUserRoutes } from './platform/users/routes.js';
import { createViews, projectRoot } from './platform/views.js';
import type { Services } from './services.js';

export const sessionCookie = 'haven_session';

export type HavenApp = FastifyInstance;

export interface AppDeps {
  services: Services;
  /** Fastify logger settings; off in tests. */
  logger?: boolean | { level: string };
}

/** Builds the whole web application over the given services. Never listens: see main.ts. */
export async function createApp(deps: AppDeps): Promise<HavenApp> {
  const { services } = deps;
  const { config } = services;
  const app = Fastify({
    logger: deps.logger
      ? {
          ...(typeof deps.logger === 'object' ? deps.logger : {}),
          // No secrets or safeguarding detail in logs: link tokens and query strings are dropped.
          serializers: { req: (request: FastifyRequest) => ({ method: request.method, url: redactPath(request.url), remoteAddress: request.ip }) },
        }
      : false,
    trustProxy: config.env === 'production',
    bodyLimit: 2 * 1024 * 1024,
  }).withTypeProvider<ZodTypeProvider>();
  // Every route is recorded so tests (and `routesWithoutAccess`) can check each declares its access.
  const registeredRoutes: RouteOptions[] = [];
  app.addHook('onRoute', (route) => {
    registeredRoutes.push(route);
  });
  app.decorate('registeredRoutes', registeredRoutes);
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);

  const views = createViews();

  await app.register(helmet, {
    enableCSPNonces: true,
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", 'data:'],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
        objectSrc: ["'none'"],
        upgradeInsecureRequests: config.secureCookies ? [] : null,
      },
    },
    referrerPolicy: { policy: 'same-origin' },
    hsts: config.secureCookies,
  });
  await app.register(rateLimit, { global: false });
  await app.register(cookie);
  await app.register(csrf, {
    sessionPlugin: '@fastify/cookie',
    cookieOpts: { httpOnly: true, sameSite: 'lax', secure: config.secureCookies, path: '/', signed: false },
    getToken: (request) => {
      const body = request.body as Record<string, unknown> | undefined;
      const fromBody = body && typeof body._csrf === 'string' ? body._csrf : undefined;
      const header = request.headers['x-csrf-token'];
      return fromBody ?? (typeof header === 'string' ? header : undefined);
    },
  });
  await app.register(formbody);
  await app.register(multipart, {
    attachFieldsToBody: 'keyValues',
    limits: { fileSize: 10 * 1024 * 1024, files: 1, fields: 200 },
    // Files arrive as { filename, mimetype, data } (see uploadedFile in platform/http.ts).
    async onFile(part) {
      const data = await part.toBuffer();
      (part as unknown as { value: UploadedFile }).value = { filename: part.filename, mimetype: part.mimetype, data };
    },
  });
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Haven API', version: '1', description: 'Per-school integration API. Authenticate with `Authorization: Bearer <token>`.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    transform: jsonSchemaTransform,
    hideUntagged: true,
  });

  // Static assets are public; they are registered in their own scope so the hook marks only them.
  await app.register(async (assets) => {
    assets.addHook('onRoute', (route) => {
      route.config = { ...(route.config ?? {}), access: 'public' };
    });
    await assets.register(fastifyStatic, { root: join(projectRoot, 'public', 'build'), prefix: '/assets/', maxAge: '1h', decorateReply: false });
  });

  app.decorateRequest('session', null);
  app.decorateRequest('actor', undefined);
  app.decorateReply('render', function (this: FastifyReply, template: string, context: Record<string, unknown> = {}) {
    const request = this.request;
    const session = request.session;
    const html = views.render(template, {
      csrfToken: this.generateCsrf(),
      cspNonce: this.cspNonce.script,
      school: session?.school,
      user: session?.user,
      stage: session?.stage,
      navigation: session?.stage === 'full' ? navigationFor(request.actor, request.url) : [],
      canReport: can(request.actor, 'incident.report'),
      pupilOnly: request.actor?.kind === 'user' && request.actor.roles.length > 0 && request.actor.roles.every((role) => role === 'pupil'),
      ...context,
    });
    return this.type('text/html; charset=utf-8').send(html);
  });

  // Who is asking (a session cookie, or a bearer token for the API), and may they use this route?
  // Checked before the body is read, so nobody without access can make Haven parse an upload.
  app.addHook('onRequest', async (request, reply) => {
    if (request.url.startsWith('/assets/')) return;
    const authorization = request.headers.authorization;
    if (isApiRequest(request) && authorization?.startsWith('Bearer ')) {
      request.actor = await services.apiTokens.authenticate(authorization.slice(7).trim());
      if (!request.actor) throw new AppError('UNAUTHENTICATED', 'The API token is not valid or has been revoked');
    } else {
      const session = await services.auth.loadSession(request.cookies[sessionCookie]);
      request.session = session;
      if (session?.stage === 'full') request.actor = session.actor;
    }
    return enforceAccess(request, reply);
  });

  // CSRF needs the parsed form, so it is checked once the body is read (bearer-token API calls carry no cookies).
  app.addHook('preValidation', async (request, reply) => {
    const access = request.routeOptions.config.access;
    if (!request.routeOptions.url || access === undefined) return;
    if (request.actor?.kind === 'token') return;
    return checkCsrf(app, request, reply);
  });

  app.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    let status = 500;
    let code: string = 'INTERNAL';
    let message = 'Sorry, there is a problem with the service. Try again later.';
    if (error instanceof AppError) {
      status = error.statusCode;
      code = error.code;
      message = error.code === 'INTERNAL' && config.env === 'production' ? message : error.message;
    } else if (error.code?.startsWith('FST_CSRF')) {
      status = errorCodes.CSRF;
      code = 'CSRF';
      message = 'Your form session has expired or the form was not sent by Haven. Go back, reload the page and try again.';
    } else if (error.validation) {
      status = 400;
      code = 'VALIDATION';
      message = error.message;
    } else if (error.statusCode && error.statusCode >= 400 && error.statusCode < 500) {
      status = error.statusCode;
      code = (Object.entries(errorCodes).find(([, value]) => value === status)?.[0] as ErrorCode | undefined) ?? 'VALIDATION';
      message = status === 429 ? 'Too many attempts from your network. Wait a minute and try again.' : error.message;
    }
    if (status >= 500) request.log.error({ err: error }, 'request failed');
    reply.code(status);
    if (isApiRequest(request)) return reply.send({ error: { code, message } });
    return reply.render('platform/views/error.njk', { title: headingFor(status), heading: headingFor(status), message, statusCode: status });
  });

  app.setNotFoundHandler((request, reply) => {
    reply.code(404);
    if (isApiRequest(request)) return reply.send({ error: { code: 'NOT_FOUND', message: 'No such API route' } });
    return reply.render('platform/views/error.njk', {
      title: 'Page not found',
      heading: 'Page not found',
      message: 'If you typed the web address, check it is correct.',
      statusCode: 404,
    });
  });

  app.get('/healthz', { config: { access: 'public' } }, async (_request, reply) => {
    try {
      await services.schools.count();
      return { status: 'ok' };
    } catch {
      return reply.code(503).send({ status: 'unavailable', reason: 'database unreachable' });
    }
  });

  registerSetupRoutes(app, services);
  registerAuthRoutes(app, services);
  registerUserRoutes(app, services);
  registerAuditRoutes(app, services);
  registerPeopleRoutes(app, services);
  registerIncidentRoutes(app, services);
  registerAgreementRoutes(app, services);
  registerAccessRegisterRoutes(app, services);
  registerFilteringRoutes(app, services);
  registerMonitoringRoutes(app, services);
  registerConsentRoutes(app, services);
  registerVideoConferenceRoutes(app, services);
  registerNotificationRoutes(app, services);
  registerApiRoutes(app, services);
  return app;
}

/** Every route's declared access, enforced for every request through the one permission module. */
async function enforceAccess(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
  if (!request.routeOptions.url) return undefined; // the 404 handler
  const access = request.routeOptions.config.access;
  if (access === undefined) throw new AppError('INTERNAL', `Route ${request.method} ${request.routeOptions.url} declares no access`);
  if (access === 'public') return undefined;
  const session = request.session;
  if (access === 'signing-in') return session ? undefined : redirect(reply, '/sign-in');
  if (!request.actor) {
    if (isApiRequest(request)) throw new AppError('UNAUTHENTICATED', 'Sign in or send an API token');
    if (session?.stage === 'second-factor') return redirect(reply, '/sign-in/two-factor');
    if (session?.stage === 'enrol') return redirect(reply, '/account/two-factor/setup');
    return redirect(reply, request.method === 'GET' ? `/sign-in?next=${encodeURIComponent(request.url)}` : '/sign-in');
  }
  if (session?.user.passwordExpired && !request.url.startsWith('/account/password') && request.url !== '/sign-out') {
    return redirect(reply, '/account/password?expired=1');
  }
  if (access !== 'signed-in' && !can(request.actor, access)) {
    request.log.info({ route: request.routeOptions.url }, 'permission refused');
    throw new AppError('FORBIDDEN', 'You do not have permission to see this page');
  }
  return undefined;
}

/** Paths that carry a secret (single-use links) are logged without it. */
export function redactPath(url: string): string {
  // Single-use links (invitations, resets, parents' agreement and consent links) never reach the log,
  // and nor does anything shaped like a link token in any path.
  return url
    .replace(/^\/(invitations|password-reset|agree|consent)\/[^/?#]+/, '/$1/[redacted]')
    .replace(/[0-9a-f-]{36}\.[A-Za-z0-9_-]{20,}/g, '[redacted]')
    .replace(/\?.*$/, (query) => (query.length > 1 ? '?[query]' : ''));
}

/** Routes that declare no access: the request hook refuses them, and a test fails on any. */
export function routesWithoutAccess(app: HavenApp): string[] {
  return app.registeredRoutes
    .filter((route) => route.config?.access === undefined)
    .flatMap((route) => (Array.isArray(route.method) ? route.method : [route.method]).map((method) => `${method} ${route.url}`));
}

async function checkCsrf(app: FastifyInstance, request: FastifyRequest, reply: FastifyReply): Promise<void> {
  if (request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS') return;
  await new Promise<void>((resolve, reject) => {
    app.csrfProtection(request, reply, (error?: Error) => (error ? reject(error) : resolve()));
  });
}

function headingFor(status: number): string {
  switch (status) {
    case 404:
      return 'Page not found';
    case 403:
      return 'You cannot do that';
    case 401:
      return 'Sign in to continue';
    case 400:
    case 409:
      return 'There is a problem with what was sent';
    case 413:
      return 'The file is too large';
    case 429:
      return 'Too many attempts';
    default:
      return 'Sorry, there is a problem with the service';
  }
}
