/**
 * What a browser on another site must not be able to make this server do, checked on every request before any
 * route runs:
 * - Host: only names this server answers as. A DNS-rebinding page (evil.example resolving to 127.0.0.1) sends
 *   its own name; IP literals and `localhost` cannot be rebound, other names must be configured (--host,
 *   --expose, --allowed-host).
 * - Origin, on every state-changing request and on the WebSocket handshake: the server's own origin (the Host
 *   the request came to) or one the operator allowed (--allowed-origin). `Sec-Fetch-Site: cross-site` without an
 *   allowed Origin is refused too. Scripts (curl) send no Origin and pass.
 * - Content type of state-changing bodies: JSON only (and raw bytes for an import). text/plain, form and
 *   multipart bodies are what another site can send without a CORS preflight, so they are refused (415).
 */
import net from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { text } from '../../shared/protocol/server-text.ts';
import { CodedError } from '../errors.ts';

export interface SiteOptions {
  /**
   * Host names (optionally "name:port") requests may be addressed to, besides IP literals and localhost:
   * the names the server listens and is published as (a reverse proxy's public name).
   */
  allowedHosts?: readonly string[];
  /** Origins (scheme://host[:port]) of other sites allowed to send commands, e.g. a course page that embeds it. */
  allowedOrigins?: readonly string[];
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
const JSON_TYPE = 'application/json';
/** An import may also be sent as raw bytes (not sendable cross-site without a preflight either). */
const IMPORT_TYPES = new Set([JSON_TYPE, 'application/octet-stream']);

/** "Example.org:8080" -> { name: "example.org", port: "8080" }; "[::1]:80" -> { name: "[::1]", port: "80" }. */
export function splitHost(host: string): { name: string; port: string | null } {
  const lower = host.trim().toLowerCase();
  const close = lower.startsWith('[') ? lower.indexOf(']') : -1;
  const colon = close >= 0 ? lower.indexOf(':', close) : lower.lastIndexOf(':');
  if (colon < 0 || (close < 0 && lower.indexOf(':') !== colon)) return { name: lower.replace(/\.$/, ''), port: null };
  return { name: lower.slice(0, colon).replace(/\.$/, ''), port: lower.slice(colon + 1) };
}

function isIpLiteral(name: string): boolean {
  return net.isIP(name.startsWith('[') && name.endsWith(']') ? name.slice(1, -1) : name) !== 0;
}

/** The host part of an origin as `URL.host` gives it (default ports dropped). */
function withoutDefaultPort(host: string): string {
  const { name, port } = splitHost(host);
  return port === null || port === '' || port === '80' || port === '443' ? name : `${name}:${port}`;
}

function normalizeOrigin(origin: string): string | null {
  try {
    const url = new URL(origin);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') return null;
    return url.origin.toLowerCase();
  } catch {
    return null;
  }
}

export class SiteGuard {
  readonly #names = new Set<string>();
  readonly #hostsWithPort = new Set<string>();
  readonly #origins = new Set<string>();

  constructor(options: SiteOptions = {}) {
    for (const entry of options.allowedHosts ?? []) {
      const { name, port } = splitHost(entry);
      if (!name) continue;
      if (port) this.#hostsWithPort.add(`${name}:${port}`);
      else this.#names.add(name);
    }
    for (const origin of options.allowedOrigins ?? []) {
      const normalized = normalizeOrigin(origin);
      if (normalized) this.#origins.add(normalized);
    }
  }

  /** Whether a Host header names this server. */
  hostAllowed(host: string | undefined): boolean {
    if (!host) return false;
    const { name, port } = splitHost(host);
    if (name === '' || /[^a-z0-9.\-[\]:]/.test(name)) return false;
    if (isIpLiteral(name) || name === 'localhost' || name.endsWith('.localhost')) return true;
    return this.#names.has(name) || (port !== null && this.#hostsWithPort.has(`${name}:${port}`));
  }

  /** Whether a request with this Origin (and Sec-Fetch-Site) may change state on a server reached as `host`. */
  originAllowed(origin: string | undefined, host: string, fetchSite: string | undefined): boolean {
    if (origin === undefined) return fetchSite !== 'cross-site';
    const normalized = normalizeOrigin(origin);
    if (normalized === null) return false; // "null" (sandboxed frames, files) and anything unparseable
    if (this.#origins.has(normalized)) return true;
    return new URL(normalized).host === withoutDefaultPort(host);
  }

  /** Throws a CodedError (with its HTTP status) for a request another site could have made (see the file comment). */
  check(request: FastifyRequest): void {
    const host = request.host;
    if (!this.hostAllowed(host)) {
      throw new CodedError('PG_ERR_FORBIDDEN', text('request.foreignHost', { host: String(host ?? '').slice(0, 100) }));
    }
    const changesState = !SAFE_METHODS.has(request.method);
    if (!changesState && !isUpgrade(request)) return;
    const origin = request.headers.origin;
    const fetchSite = request.headers['sec-fetch-site'];
    if (!this.originAllowed(origin, host, typeof fetchSite === 'string' ? fetchSite : undefined)) {
      throw new CodedError(
        'PG_ERR_FORBIDDEN',
        text('request.foreignOrigin', { origin: String(origin ?? fetchSite).slice(0, 100) }),
      );
    }
    if (changesState && hasBody(request)) {
      const type = String(request.headers['content-type'] ?? '')
        .split(';', 1)[0]!
        .trim()
        .toLowerCase();
      const accepted = request.url.startsWith('/api/runs/import') ? IMPORT_TYPES.has(type) : type === JSON_TYPE;
      if (!accepted) {
        throw new CodedError('PG_ERR_BAD_MESSAGE', text('request.mediaType', { type: type.slice(0, 60) || 'none' }), {
          status: 415,
        });
      }
    }
  }
}

function isUpgrade(request: FastifyRequest): boolean {
  return String(request.headers.upgrade ?? '').toLowerCase() === 'websocket';
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

/** Adds the guard to every route of `app` (call on the root instance, before routes). */
export function installSiteGuard(app: FastifyInstance, options: SiteOptions = {}): SiteGuard {
  const guard = new SiteGuard(options);
  app.addHook('onRequest', async (request, reply) => {
    try {
      guard.check(request);
    } catch (error) {
      // A refused WebSocket handshake gets its 403 on the raw socket, which nothing else would ever close.
      if (isUpgrade(request)) reply.raw.once('finish', () => request.raw.socket?.destroy());
      throw error;
    }
  });
  return guard;
}
