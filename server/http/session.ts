/**
 * Visitors without sign-up: every request carries a session cookie, set by the server on the first response to a
 * request that lacks one (HttpOnly, so page scripts never see it; SameSite=Lax, so other sites' requests do not
 * carry it; Secure over https). The visitor is the SHA-256 of the cookie's value: that is what owns playgrounds
 * and recorded runs, so the database never holds a usable session. A script keeps the cookie as `curl -c/-b`
 * does. Nothing is stored per session: a cookie is simply a long random name only its holder knows.
 *
 * A page embedded in another site's <iframe> gets no SameSite=Lax cookie (a third-party context), so it is its own
 * visitor: it makes up its own session and sends it in a header (X-Playground-Session), and on the WebSocket
 * handshake, where a browser cannot set headers, as a subprotocol ("zpg-session.<session>"). Another site cannot
 * send the header without a CORS preflight this server never answers, and its WebSocket handshakes are refused by
 * their Origin (site-guard.ts); neither knows the frame's session anyway (docs/api.md, Embedding).
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
/** The header an embedded page sends its own session in (lower case, as Node gives headers). */
export const SESSION_HEADER = 'x-playground-session';
/** A WebSocket subprotocol carrying an embedded page's session: this prefix, then the session. */
export const SESSION_PROTOCOL_PREFIX = 'zpg-session.';

/** The session a request brings: its header, its handshake's subprotocol, else its cookie; null if none. */
function givenSession(request: FastifyRequest): string | null {
  const header = request.headers[SESSION_HEADER];
  if (typeof header === 'string') return SESSION_PATTERN.test(header) ? header : null;
  const protocols = request.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    for (const protocol of protocols.split(',')) {
      const candidate = protocol.trim();
      if (
        candidate.startsWith(SESSION_PROTOCOL_PREFIX) &&
        SESSION_PATTERN.test(candidate.slice(SESSION_PROTOCOL_PREFIX.length))
      ) {
        return candidate.slice(SESSION_PROTOCOL_PREFIX.length);
      }
    }
  }
  const cookie = request.cookies[SESSION_COOKIE];
  return cookie !== undefined && SESSION_PATTERN.test(cookie) ? cookie : null;
}

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

/** True when the request brought a session (false: its visitor was made up for this response). */
export function hasSession(request: FastifyRequest): boolean {
  return givenSession(request) !== null;
}

/** Registers the cookie parser and gives every request a visitor. Call on the root instance, before routes. */
export async function installSessions(app: FastifyInstance): Promise<void> {
  await app.register(fastifyCookie);
  app.decorateRequest('visitor', '');
  app.addHook('onRequest', async (request, reply) => {
    const given = givenSession(request);
    if (given !== null) {
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
