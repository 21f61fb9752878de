/**
 * Which pages may show this server in an <iframe> (a course page embedding a lesson or a watch link: docs/api.md,
 * Embedding). The operator lists the parent origins (--frame-ancestors); every response then says
 * `Content-Security-Policy: frame-ancestors 'self' <origins>`, which browsers enforce on the framed document. With
 * no origin listed, only this server's own pages may frame it, and `X-Frame-Options: SAMEORIGIN` says the same to
 * browsers that predate frame-ancestors. (X-Frame-Options cannot name another origin, so it is left out when the
 * operator allows some: a browser that knows both would let X-Frame-Options win over the allowed parents.)
 */
import type { FastifyInstance } from 'fastify';

/**
 * The origin a parent page is named by in frame-ancestors: scheme://host[:port] with http or https, lower case,
 * default port dropped; null for anything else (a path, a wildcard, a quote or `;` that would change the policy).
 */
export function frameAncestorOrigin(value: string): string | null {
  if (!/^https?:\/\/[A-Za-z0-9.\-[\]:]+$/.test(value.trim())) return null;
  try {
    const url = new URL(value.trim());
    return url.origin === 'null' ? null : url.origin.toLowerCase();
  } catch {
    return null;
  }
}

/** The headers every response carries for `origins` (already checked with frameAncestorOrigin). */
export function framingHeaders(origins: readonly string[]): Record<string, string> {
  const ancestors = ["'self'", ...new Set(origins)].join(' ');
  const headers: Record<string, string> = { 'content-security-policy': `frame-ancestors ${ancestors}` };
  if (origins.length === 0) headers['x-frame-options'] = 'SAMEORIGIN';
  return headers;
}

/** Adds the framing policy to every response of `app`. Throws on an origin that frameAncestorOrigin refuses. */
export function installFramePolicy(app: FastifyInstance, origins: readonly string[] = []): void {
  const checked = origins.map((origin) => {
    const normalized = frameAncestorOrigin(origin);
    if (normalized === null) throw new Error(`A frame ancestor must look like https://example.org, not "${origin}"`);
    return normalized;
  });
  const headers = framingHeaders(checked);
  app.addHook('onSend', async (_request, reply, payload) => {
    for (const [name, value] of Object.entries(headers)) {
      const current = reply.getHeader(name);
      // Another policy set on this response keeps its own directives; frame-ancestors is added to it.
      if (name === 'content-security-policy' && typeof current === 'string' && current !== '') {
        if (!/(^|;)\s*frame-ancestors\s/i.test(current)) reply.header(name, `${current}; ${value}`);
      } else if (current === undefined) {
        reply.header(name, value);
      }
    }
    return payload;
  });
}
