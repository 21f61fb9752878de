/**
 * Who may do what with one playground. A visitor is the hash of a session cookie (server/http/session.ts); the
 * playground's owner is the visitor that created it. Others gain a role only by presenting one of the
 * playground's two tokens: the watch token makes a watcher (read and subscribe), the invite token a driver
 * (everything the owner may do but delete the playground and see its links). Roles live as long as the
 * playground; nothing here knows HTTP.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export type Role = 'owner' | 'driver' | 'watcher';

const RANK: Record<Role, number> = { watcher: 1, driver: 2, owner: 3 };

/** A random, URL-safe string of `bytes` random bytes (16 bytes = 128 bits = 22 characters). */
export function randomToken(bytes = 16): string {
  return randomBytes(bytes).toString('base64url');
}

/** Whether `role` allows what `needed` allows. */
export function allows(role: Role | null, needed: Role): boolean {
  return role !== null && RANK[role] >= RANK[needed];
}

function sameToken(given: string, expected: string): boolean {
  const a = Buffer.from(given);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}

export class PlaygroundAccess {
  /** The visitor that created the playground; null for one made without a visitor (tests, headless use). */
  readonly owner: string | null;
  readonly watchToken = randomToken(24);
  readonly inviteToken = randomToken(24);
  readonly #members = new Map<string, Exclude<Role, 'owner'>>();

  constructor(owner: string | null) {
    this.owner = owner;
  }

  roleOf(visitor: string | null | undefined): Role | null {
    if (!visitor) return null;
    if (visitor === this.owner) return 'owner';
    return this.#members.get(visitor) ?? null;
  }

  /**
   * Gives `visitor` the role a token grants (never lowers a role it already has). Returns the visitor's role
   * afterwards, or null when the token is neither of this playground's.
   */
  join(visitor: string, token: string): Role | null {
    const granted = sameToken(token, this.inviteToken)
      ? 'driver'
      : sameToken(token, this.watchToken)
        ? 'watcher'
        : null;
    if (!granted) return null;
    const current = this.roleOf(visitor);
    if (!allows(current, granted)) this.#members.set(visitor, granted);
    return this.roleOf(visitor);
  }
}
