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
 *
 * Issued sessions are signed (HMAC-SHA-256 with the server's session key, appended as 22 characters), so that a
 * session this server never issued is not a visitor for the rate limit: made-up tokens were each a new visitor with
 * its own requests a second (issue 9, hostile tester). An unsigned one (made up by an embedded page, or signed
 * with another key: a key made at start dies with the server unless PLAYGROUND_SESSION_KEY gives it) keeps its
 * identity, as before, but is counted by the caller's address until the server has signed it: the next response
 * gives it back signed (the cookie, or the header for an embedded page), for the same visitor.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyCookie from '@fastify/cookie';
import { randomToken } from '../pipeline/access.ts';

export const SESSION_COOKIE = 'zpg_session';
/** A year: a teacher's recorded runs stay theirs across browser restarts. */
export const SESSION_MAX_AGE_S = 365 * 24 * 60 * 60;
/**
 * What the server hands out is 32 random bytes (43 characters) and their signature (22); anything much shorter is
 * not accepted as one.
 */
const SESSION_PATTERN = /^[A-Za-z0-9_-]{22,86}$/;
/** What is signed: 32 random bytes as base64url, as the server and an embedded page make them. */
const ROOT_CHARS = 43;
/** The signature's length: 16 bytes of the HMAC, base64url. */
const SIGNATURE_CHARS = 22;

/**
 * The secret part of a session, which names the visitor: a signed session's first 43 characters whatever key signed
 * it (so a new key, after a restart without PLAYGROUND_SESSION_KEY, keeps every visitor), else the whole session.
 */
export function rootOf(session: string): string {
  return session.length === ROOT_CHARS + SIGNATURE_CHARS ? session.slice(0, ROOT_CHARS) : session;
}
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

/** The visitor id a session cookie value stands for (a signed one: the value without its signature). */
export function visitorOf(session: string): string {
  return createHash('sha256').update(session).digest('base64url');
}

/** Signs and checks sessions with one key (HMAC-SHA-256). */
export class SessionSigner {
  readonly #key: Buffer;

  /** `key`: the operator's (PLAYGROUND_SESSION_KEY, shared by a site's instances); else 32 random bytes. */
  constructor(key?: string | null) {
    this.#key = key ? Buffer.from(key, 'utf8') : randomBytes(32);
  }

  #signatureOf(unsigned: string): string {
    return createHmac('sha256', this.#key).update(unsigned).digest().subarray(0, 16).toString('base64url');
  }

  /** `root` with its signature; null unless it is a root (43 characters). */
  sign(root: string): string | null {
    return root.length === ROOT_CHARS ? root + this.#signatureOf(root) : null;
  }

  /** The session's root when it carries this key's signature; null when not signed by it. */
  verify(session: string): string | null {
    if (session.length !== ROOT_CHARS + SIGNATURE_CHARS) return null;
    const unsigned = session.slice(0, ROOT_CHARS);
    const given = Buffer.from(session.slice(ROOT_CHARS));
    const expected = Buffer.from(this.#signatureOf(unsigned));
    return given.length === expected.length && timingSafeEqual(given, expected) ? unsigned : null;
  }
}

const SIGNED = Symbol('signedSession');
type WithSigned = FastifyRequest & { [SIGNED]?: boolean };

/** True when the request brought a session this server signed (false: none, or one it never issued). */
export function hasSession(request: FastifyRequest): boolean {
  return (request as WithSigned)[SIGNED] === true;
}

/**
 * Registers the cookie parser and gives every request a visitor. Call on the root instance, before routes.
 * `sessionKey`: the key sessions are signed with (see SessionSigner).
 */
export async function installSessions(app: FastifyInstance, sessionKey?: string | null): Promise<void> {
  const signer = new SessionSigner(sessionKey);
  await app.register(fastifyCookie);
  app.decorateRequest('visitor', '');
  app.addHook('onRequest', async (request, reply) => {
    const given = givenSession(request);
    if (given !== null) {
      const unsigned = signer.verify(given);
      if (unsigned !== null) {
        (request as WithSigned)[SIGNED] = true;
        request.visitor = visitorOf(unsigned);
        return;
      }
      // Not signed by this server: the same visitor as before, given back signed (counted by address meanwhile).
      const root = rootOf(given);
      request.visitor = visitorOf(root);
      const signed = signer.sign(root);
      if (signed === null) return;
      if (typeof request.headers[SESSION_HEADER] === 'string') reply.header(SESSION_HEADER, signed);
      else if (request.cookies[SESSION_COOKIE] === given) setSessionCookie(request, reply, signed);
      return;
    }
    const session = randomToken(32);
    request.visitor = visitorOf(session);
    // A WebSocket handshake cannot carry it (the 101 is written by ws): such a visitor simply has no role yet.
    setSessionCookie(request, reply, signer.sign(session)!);
  });
}

function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: string): void {
  reply.setCookie(SESSION_COOKIE, session, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure: isHttps(request),
    maxAge: SESSION_MAX_AGE_S,
  });
}

/** The request came over https, directly or through a proxy the operator trusts (--trust-proxy). */
function isHttps(request: FastifyRequest): boolean {
  return request.protocol === 'https';
}
