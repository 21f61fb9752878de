/**
 * The page embedded in a course page (`?embed=1`, with `&lesson=<id>` or a watch or invite link's `&p=…&watch=…`):
 * a compact layout (EmbedApp.svelte), and a visitor of its own. Inside another site's <iframe> the browser does
 * not send the session cookie (SameSite=Lax, a third-party context), so an embedded page makes up its own
 * session, keeps it for the tab (sessionStorage, which Chromium partitions by the parent site), and sends it in a
 * header on every request and as a subprotocol on the WebSocket handshake (server/http/session.ts). Outside embed
 * mode nothing here changes a request: the cookie is the visitor.
 */

/** The header and the subprotocol prefix server/http/session.ts reads. */
export const SESSION_HEADER = 'X-Playground-Session';
const SESSION_PROTOCOL_PREFIX = 'zpg-session.';
/** The subprotocol the server picks (the first offered), so the session is never echoed back. */
const STREAM_PROTOCOL = 'zpg';
const STORAGE_KEY = 'zpg-embed-session';
const SESSION_PATTERN = /^[A-Za-z0-9_-]{22,86}$/;

/** Whether this page was opened to be embedded (`?embed=1`). Read once: the flag stays in the address. */
export const isEmbedded: boolean =
  typeof location !== 'undefined' && new URL(location.href).searchParams.get('embed') === '1';

/** 32 random bytes as base64url (43 characters), as the server makes its cookies. */
function newSession(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(32));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

function tabStore(): Storage | null {
  try {
    return window.sessionStorage;
  } catch {
    return null; // storage refused in this frame: the session lives as long as the page
  }
}

let session: string | null = null;

/** The embedded page's own session (made up once per tab); null outside embed mode. */
export function embedSession(): string | null {
  if (!isEmbedded) return null;
  if (session) return session;
  const store = tabStore();
  let kept: string | null;
  try {
    kept = store?.getItem(STORAGE_KEY) ?? null;
  } catch {
    kept = null;
  }
  session = kept && SESSION_PATTERN.test(kept) ? kept : newSession();
  try {
    store?.setItem(STORAGE_KEY, session);
  } catch {
    // full or refused: kept in memory only
  }
  return session;
}

/**
 * The server gives a session it did not sign back signed (an answer's X-Playground-Session header: the same first
 * 43 characters, then its signature): kept from then on, so that the server counts this page as a visitor of its
 * own, not by its network address (server/http/session.ts).
 */
export function adoptSignedSession(signed: string | null): void {
  if (!isEmbedded || signed === null || !SESSION_PATTERN.test(signed)) return;
  const own = embedSession();
  if (own === null || signed === own || signed.slice(0, 43) !== own.slice(0, 43)) return;
  session = signed;
  try {
    tabStore()?.setItem(STORAGE_KEY, signed);
  } catch {
    // kept in memory only
  }
}

/** Headers that name the visitor on an API request: the embedded page's session; none otherwise. */
export function sessionHeaders(): Record<string, string> {
  const own = embedSession();
  return own ? { [SESSION_HEADER]: own } : {};
}

/** The subprotocols to offer on the stream's handshake: the embedded page's session; none otherwise. */
export function streamProtocols(): string[] {
  const own = embedSession();
  return own ? [STREAM_PROTOCOL, `${SESSION_PROTOCOL_PREFIX}${own}`] : [];
}
