/**
 * Issue 9, embedding (docs/api.md, Embedding): which parent pages may frame the server (frame-ancestors, and
 * X-Frame-Options when none is allowed), and the session an embedded page sends itself, in a header and in the
 * WebSocket handshake's subprotocols, because a cross-site frame never gets the SameSite=Lax cookie.
 */
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import WebSocket from 'ws';
import { afterEach, describe, expect, it } from 'vitest';
import { buildApp } from '../app.ts';
import { SESSION_HEADER, SESSION_PROTOCOL_PREFIX } from './session.ts';
import { frameAncestorOrigin } from './framing.ts';
import type { PlaygroundInfo } from '../../shared/protocol/index.ts';
import { StreamProbe, Visitor, freePort, testPolicy } from '../../test/helpers.ts';

const apps: FastifyInstance[] = [];
const cleanups: (() => void)[] = [];
const sockets: WebSocket[] = [];

async function appWith(frameAncestors?: string[]): Promise<FastifyInstance> {
  const policy = testPolicy();
  cleanups.push(() => policy.cleanup());
  const app = await buildApp({
    policy,
    staticDir: null,
    store: ':memory:',
    frameAncestors,
    registry: {
      endpointOverrides: { tcp: `tcp://127.0.0.1:${await freePort()}`, ipc: `ipc://${policy.runtimeDir}/demo` },
    },
  });
  apps.push(app);
  return app;
}

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.terminate();
  for (const app of apps.splice(0)) await app.close();
  for (const cleanup of cleanups.splice(0)) cleanup();
});

/** A session as an embedded page makes one: 32 random bytes, base64url. */
const madeUpSession = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64url');

describe('who may frame the page', () => {
  it("by default only the server's own pages: frame-ancestors 'self' and X-Frame-Options SAMEORIGIN, on every answer", async () => {
    const app = await appWith();
    for (const url of ['/api/health', '/api/no-such-route']) {
      const response = await app.inject(url);
      expect(response.headers['content-security-policy'], url).toBe("frame-ancestors 'self'");
      expect(response.headers['x-frame-options'], url).toBe('SAMEORIGIN');
    }
    // A refused request too (a foreign Host): what is framed can never be a page without the policy.
    const refused = await app.inject({ url: '/api/health', headers: { host: 'evil.example' } });
    expect(refused.statusCode).toBe(403);
    expect(refused.headers['content-security-policy']).toBe("frame-ancestors 'self'");
  });

  it('with origins allowed: they are listed, and X-Frame-Options (which cannot name them) is left out', async () => {
    const app = await appWith(['https://Course.Example.org', 'http://127.0.0.2:8000']);
    const response = await app.inject('/api/health');
    expect(response.headers['content-security-policy']).toBe(
      "frame-ancestors 'self' https://course.example.org http://127.0.0.2:8000",
    );
    expect(response.headers['x-frame-options']).toBeUndefined();
  });

  it('an origin that is not scheme://host[:port] is refused at start (it would change the policy)', async () => {
    for (const bad of [
      "https://a.org; script-src 'unsafe-inline'",
      'https://a.org/course',
      '*',
      'ftp://a.org',
      "'none'",
      'https://a.org https://b.org',
    ]) {
      expect(frameAncestorOrigin(bad), bad).toBeNull();
      await expect(appWith([bad]), bad).rejects.toThrow(/frame ancestor/);
    }
    expect(frameAncestorOrigin('https://a.org:443')).toBe('https://a.org');
  });
});

describe("an embedded page's own session", () => {
  it('in a header: no cookie needed nor set, the header wins over a cookie, and a stranger still sees nothing', async () => {
    const app = await appWith();
    const session = madeUpSession();
    const created = await app.inject({
      method: 'POST',
      url: '/api/playgrounds',
      headers: { [SESSION_HEADER]: session, origin: 'http://localhost' },
      payload: { lesson: 'tutorial' },
    });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.headers['set-cookie']).toBeUndefined();
    const { id } = created.json<PlaygroundInfo>();

    expect(
      (await app.inject({ url: `/api/playgrounds/${id}`, headers: { [SESSION_HEADER]: session } })).statusCode,
    ).toBe(200);
    // The same browser's cookie (a visitor of its own) does not replace the header's visitor, nor is it one.
    const cookieVisitor = new Visitor(app);
    await cookieVisitor.session();
    expect(
      (await cookieVisitor.inject({ url: `/api/playgrounds/${id}`, headers: { [SESSION_HEADER]: session } }))
        .statusCode,
    ).toBe(200);
    expect((await cookieVisitor.inject(`/api/playgrounds/${id}`)).statusCode).toBe(404);
    expect(
      (await app.inject({ url: `/api/playgrounds/${id}`, headers: { [SESSION_HEADER]: madeUpSession() } })).statusCode,
    ).toBe(404);
    // A header that is not a session is no session: the request is a new visitor (with a cookie to keep).
    const malformed = await app.inject({ url: `/api/playgrounds/${id}`, headers: { [SESSION_HEADER]: 'short' } });
    expect(malformed.statusCode).toBe(404);
    expect(malformed.headers['set-cookie']).toBeDefined();
  });

  it('in the WebSocket subprotocols: the stream opens for its owner, and the server answers with the other protocol, never the session', async () => {
    const app = await appWith();
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.server.address() as AddressInfo;
    const session = madeUpSession();
    const created = await fetch(`${address}/api/playgrounds`, {
      method: 'POST',
      headers: { [SESSION_HEADER]: session, 'content-type': 'application/json' },
      body: JSON.stringify({ scenario: 'tutorial' }),
    });
    expect(created.status).toBe(201);
    const { id } = (await created.json()) as PlaygroundInfo;
    const open = (protocols: string[]) =>
      new Promise<{ socket: WebSocket; probe: StreamProbe; closed: Promise<number> }>((resolve, reject) => {
        const socket = new WebSocket(`ws://127.0.0.1:${port}/api/playgrounds/${id}/stream`, protocols, {
          origin: address,
        });
        sockets.push(socket);
        const probe = new StreamProbe();
        probe.attach(socket);
        const closed = new Promise<number>((done) => socket.once('close', (code) => done(code)));
        socket.once('open', () => resolve({ socket, probe, closed }));
        socket.once('error', reject);
      });

    const own = await open(['zpg', `${SESSION_PROTOCOL_PREFIX}${session}`]);
    expect(own.socket.protocol).toBe('zpg');
    const hello = await own.probe.waitFor((message) => message.type === 'hello');
    expect(hello.type === 'hello' && hello.playground.id).toBe(id);

    // Another made-up session is a stranger: told the playground does not exist.
    const stranger = await open(['zpg', `${SESSION_PROTOCOL_PREFIX}${madeUpSession()}`]);
    expect(await stranger.closed).toBe(4404);
  });
});
