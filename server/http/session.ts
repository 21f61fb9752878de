/**
 * Visitors without sign-up: every request carries a session cookie, set by the server on the first response to a
 * request that lacks one (HttpOnly, so page scripts never see it; SameSite=Lax, so other sites' requests do not
 * carry it; Secure over https). The visitor is the SHA-256 of the cookie's value: that is what owns playgrounds
 * and recorded runs, so the database never holds a usable session. A script keeps the cookie as `curl -c/-b`
 * does. Nothing is stored per session: a cookie is simply a long random name only its holder knows.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { randomToken } from '../pipeline/access.ts';

export const SESSION_COOKIE = 'zpg_session';
/** A year: a teacher's recorded runs stay theirs across browser restarts. */
export const SESSION_MAX_AGE_S = 365 * 24 * 60 * 60;
/** What the server hands out is 32 random bytes (43 characters); anything much shorter is not accepted as one. */
const SESSION_PATTERN = /^[A-Za-z0-9_-]{22,86}$/;

declare module 'fastify' {
  interface FastifyRequest {
    /** The caller's visitor id (see access.ts), from its session cookie or the one set on this response. */
    visitor: string;
  }
}

/** The visitor id a session cookie value stands for. */
export function visitorOf(session: string): string {
  return createHash('sha256').update(session).digest('base64url');
}

/** True when the request brought a session cookie (false: its visitor was made up for this response). */
export function hasSession(request: FastifyRequest): boolean {
  const given = request.cookies[SESSION_COOKIE];
  return given !== undefined && SESSION_PATTERN.test(given);
}

/** Registers the cookie parser and gives every request a visitor. Call on the root instance, before routes. */
export async function installSessions(app: FastifyInstance): Promise<void> {
  await app.register(fastifyCookie);
  app.decorateRequest('visitor', '');
  app.addHook('onRequest', async (request, reply) => {
    const given = request.cookies[SESSION_COOKIE];
    if (given !== undefined && SESSION_PATTERN.test(given)) {
      request.visitor = visitorOf(given);
      return;
    }
    const session = randomToken(32);
    request.visitor = visitorOf(session);
    // A WebSocket handshake cannot carry it (the 101 is written by ws): such a visitor simply has no role yet.
    reply.setCookie(SESSION_COOKIE, session, {
      path: '/',
      httpOnly: true,
      sameSite: 'lax',
      secure: isHttps(request),
      maxAge: SESSION_MAX_AGE_S,
    });
  });
}

/** The request came over https, directly or through a proxy the operator trusts (--trust-proxy). */
function isHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}
