/**
 * Experiments: what ZeroMQ (zeromq.js 6.8, libzmq 4.3.5) really does in each pattern of the series, on real
 * sockets over loopback. The engine (graph.ts) and docs/zmq-patterns.md rely on exactly these facts; each test
 * name is quoted there. Nothing here waits for a fixed time where an awaited condition can be had: waits are for
 * monitor events or messages, each bounded. The few "never" claims are checked over a window after the event that
 * would have made them happen, so a slow machine can only make them pass late, never fail.
 */
import { afterEach, describe, expect, it } from 'vitest';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as zmq from 'zeromq';

/** Every socket a test opens, closed after it (linger 0: nothing waits at exit). */
const opened: zmq.Socket[] = [];
let tmpDir: string | null = null;

afterEach(() => {
  for (const socket of opened.splice(0)) if (!socket.closed) socket.close();
  if (tmpDir) fs.rmSync(tmpDir, { recursive: true, force: true });
  tmpDir = null;
});

function open<S extends zmq.Socket>(socket: S): S {
  socket.linger = 0;
  opened.push(socket);
  return socket;
}

function ipcEndpoint(name: string): string {
  tmpDir ??= fs.mkdtempSync(path.join(os.tmpdir(), 'zpg-pat-'));
  return `ipc://${tmpDir}/${name}`;
}

interface Seen {
  type: string;
  address: string;
  error?: string;
}

/** A socket's monitor, recorded, with a way to wait for an event. Attach before bind/connect. */
class MonitorLog {
  readonly events: Seen[] = [];
  #waiters: (() => void)[] = [];

  constructor(socket: zmq.Socket) {
    const types = [
      'bind',
      'accept',
      'connect',
      'connect:delay',
      'connect:retry',
      'handshake',
      'disconnect',
      'close',
      'handshake:error:protocol',
      'handshake:error:auth',
      'handshake:error:other',
      'accept:error',
      'close:error',
    ] as const;
    for (const type of types) {
      socket.events.on(type, (event) => {
        const error =
          'error' in event
            ? `${(event.error as { code?: string }).code ?? ''} ${event.error.message}`.trim()
            : undefined;
        this.events.push({ type: event.type, address: event.address, ...(error ? { error } : {}) });
        for (const wake of this.#waiters.splice(0)) wake();
      });
    }
  }

  count(type: string): number {
    return this.events.filter((event) => event.type === type).length;
  }

  types(): string[] {
    return this.events.map((event) => event.type);
  }

  /** Resolves once `condition()` holds (checked now and after every monitor event); rejects after timeoutMs. */
  async until(condition: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out waiting for ${what}; monitor saw: ${this.types().join(', ')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }
}

/** The next message on a socket within `timeoutMs`, or null (the socket's receiveTimeout does the waiting). */
async function receiveWithin(socket: zmq.Readable & zmq.Socket, timeoutMs: number): Promise<string[] | null> {
  socket.receiveTimeout = timeoutMs;
  try {
    const frames = await socket.receive();
    return frames.map((frame) => frame.toString());
  } catch (error) {
    if ((error as { code?: string }).code === 'EAGAIN') return null;
    throw error;
  } finally {
    if (!socket.closed) socket.receiveTimeout = -1;
  }
}

/** What a promise did: settled with a value or an error code, recorded in `order` when it happened. */
function track(promise: Promise<unknown>, label: string, order: string[]): Promise<string> {
  return promise.then(
    () => {
      order.push(label);
      return 'resolved';
    },
    (error: { code?: string }) => {
      order.push(`${label}:${error.code}`);
      return `rejected ${error.code}`;
    },
  );
}

/**
 * Publishes `probe` until every subscriber has received one: the subscriptions have then reached the publisher,
 * and whatever it publishes next is filtered with them (the zguide's cure for the slow joiner, with the data
 * socket itself as the side channel). Each subscriber must be subscribed to the probe's prefix.
 */
async function syncSubscribers(pub: zmq.Publisher, subs: zmq.Subscriber[], probe = 'hello'): Promise<void> {
  const pending = new Set(subs);
  const deadline = Date.now() + 10_000;
  while (pending.size > 0) {
    if (Date.now() > deadline) throw new Error(`${pending.size} subscriber(s) never received a ${probe}`);
    await pub.send(probe);
    for (const sub of [...pending]) if ((await receiveWithin(sub, 20)) !== null) pending.delete(sub);
  }
  // Probes that reached a subscriber after its first one are read away, so the test sees only its own messages.
  for (const sub of subs) while ((await receiveWithin(sub, 20)) !== null);
}

describe('REQ/REP', () => {
  it('REQ/REP alternate strictly: a second send waits for the reply, and fails EFSM only when it cannot wait', async () => {
    const rep = open(new zmq.Reply());
    await rep.bind('tcp://127.0.0.1:*');
    const req = open(new zmq.Request());
    req.connect(rep.lastEndpoint!);

    await req.send('a');
    // zeromq.js does not even try the second send: the socket is not writable until the reply is in.
    expect(req.writable).toBe(false);
    const order: string[] = [];
    const second = track(req.send('b'), 'second send', order);
    const [request] = await rep.receive();
    expect(request!.toString()).toBe('a');
    // The REP has the request and has not replied: the REQ's second send cannot have gone anywhere.
    expect(order).toEqual([]);
    await rep.send('A');
    const [reply] = await req.receive();
    expect(reply!.toString()).toBe('A');
    // The reply made the REQ writable again, and the waiting send went out as the next request.
    expect(await second).toBe('resolved');
    expect((await rep.receive())[0]!.toString()).toBe('b');

    // With sendTimeout 0 zeromq.js asks libzmq at once, and libzmq's state machine says no: EFSM.
    const impatient = open(new zmq.Request());
    impatient.sendTimeout = 0;
    impatient.connect(rep.lastEndpoint!);
    await impatient.send('c');
    await expect(impatient.send('d')).rejects.toMatchObject({ code: 'EFSM' });
    // Receiving before sending is the same mistake on a REQ; sending before receiving on a REP too.
    const early = open(new zmq.Request());
    early.receiveTimeout = 0;
    await expect(early.receive()).rejects.toMatchObject({ code: 'EFSM' });
    const mute = open(new zmq.Reply());
    mute.sendTimeout = 0;
    await expect(mute.send('x')).rejects.toMatchObject({ code: 'EFSM' });
  });

  it('a REQ whose second send is pending when it closes rejects it with EFSM', async () => {
    const rep = open(new zmq.Reply());
    await rep.bind('tcp://127.0.0.1:*');
    const req = open(new zmq.Request());
    req.connect(rep.lastEndpoint!);
    await req.send('a');
    const second = req.send('b');
    req.close();
    await expect(second).rejects.toMatchObject({ code: 'EFSM' });
  });

  it('one REQ connected to three REP spreads its requests round-robin in connect order', async () => {
    const servers = [open(new zmq.Reply()), open(new zmq.Reply()), open(new zmq.Reply())];
    const endpoints: string[] = [];
    for (const server of servers) {
      await server.bind('tcp://127.0.0.1:*');
      endpoints.push(server.lastEndpoint!);
    }
    const received: string[][] = [[], [], []];
    servers.forEach((server, index) => {
      void (async () => {
        for await (const [message] of server) {
          received[index]!.push(message!.toString());
          await server.send(message!);
        }
      })().catch(() => {});
    });
    const client = open(new zmq.Request());
    for (const endpoint of endpoints) client.connect(endpoint);
    // The series' part 3: 100 rounds of "mensaje i", each waiting for its echo.
    for (let i = 0; i < 100; i++) {
      await client.send(`mensaje ${i}`);
      expect((await client.receive())[0]!.toString()).toBe(`mensaje ${i}`);
    }
    const expected = [0, 1, 2].map((server) =>
      Array.from({ length: 100 }, (_, i) => i)
        .filter((i) => i % 3 === server)
        .map((i) => `mensaje ${i}`),
    );
    expect(received).toEqual(expected);
    expect(received.map((list) => list.length)).toEqual([34, 33, 33]);
  });

  it('a REQ connected to a REP that is not there yet parks its request on that pipe until it binds', async () => {
    const up = open(new zmq.Reply());
    await up.bind('tcp://127.0.0.1:*');
    const later = ipcEndpoint('later');
    const client = open(new zmq.Request());
    client.connect(up.lastEndpoint!);
    client.connect(later);
    await client.send('first');
    expect((await up.receive())[0]!.toString()).toBe('first');
    await up.send('first');
    await client.receive();
    // Second request: round-robin picks the pipe to `later`, which exists from connect() on.
    await client.send('second');
    const down = open(new zmq.Reply());
    await down.bind(later);
    expect((await down.receive())[0]!.toString()).toBe('second');
    await down.send('second');
    expect((await client.receive())[0]!.toString()).toBe('second');
  });
});

describe('PAIR', () => {
  it('PAIR is exclusive: a second peer completes its handshake but is never served, and nothing reports it', async () => {
    const server = open(new zmq.Pair());
    const serverLog = new MonitorLog(server);
    await server.bind('tcp://127.0.0.1:*');
    const endpoint = server.lastEndpoint!;
    const first = open(new zmq.Pair());
    first.connect(endpoint);
    await first.send('one');
    expect(await receiveWithin(server, 10_000)).toEqual(['one']);
    await server.send('one');
    expect((await first.receive())[0]!.toString()).toBe('one');
    await serverLog.until(() => serverLog.count('handshake') === 1, 'the first handshake');

    const second = open(new zmq.Pair());
    const secondLog = new MonitorLog(second);
    second.connect(endpoint);
    // The second peer's send resolves: its own pipe exists from connect() on (immediate is off).
    await second.send('two');
    await serverLog.until(() => serverLog.count('handshake') === 2, 'the second handshake');
    await secondLog.until(() => secondLog.count('handshake') === 1, "the second peer's handshake");
    // libzmq terminates the second pipe on the bound side without a word: no error, no disconnect on either side.
    expect(serverLog.types().filter((type) => type.includes('error') || type === 'disconnect')).toEqual([]);
    expect(secondLog.types().filter((type) => type.includes('error') || type === 'disconnect')).toEqual([]);

    // The first peer leaves; the second is still not served ("stays stuck even after the first peer leaves").
    first.close();
    await serverLog.until(() => serverLog.count('disconnect') === 1, "the first peer's disconnect");
    // A new peer is served, but only once the first one's pipe has finished closing: one that arrives while it
    // is still closing is refused like the second (zeromq.js's doc says so, and a peer connected right after
    // the disconnect event was). So new peers try in turn until one is served; "two", sent long before, never
    // comes through.
    const deadline = Date.now() + 10_000;
    let served: zmq.Pair | null = null;
    let attempts = 0;
    while (!served) {
      if (Date.now() > deadline) throw new Error(`no new peer served after ${attempts} attempts`);
      const candidate = open(new zmq.Pair());
      candidate.connect(endpoint);
      attempts++;
      await candidate.send(`three ${attempts}`);
      const got = await receiveWithin(server, 500);
      if (got) {
        expect(got).toEqual([`three ${attempts}`]);
        served = candidate;
      } else candidate.close();
    }
    expect(await receiveWithin(server, 300)).toBeNull();
    await server.send('three back');
    expect(await receiveWithin(served, 10_000)).toEqual(['three back']);
    expect(await receiveWithin(second, 300)).toBeNull();
  });
});

describe('PUB/SUB', () => {
  it('PUB fans out: one message, one delivery per subscriber', async () => {
    const pub = open(new zmq.Publisher());
    await pub.bind('tcp://127.0.0.1:*');
    const subs = [open(new zmq.Subscriber()), open(new zmq.Subscriber()), open(new zmq.Subscriber())];
    for (const sub of subs) {
      sub.connect(pub.lastEndpoint!);
      sub.subscribe();
    }
    await syncSubscribers(pub, subs);
    for (let i = 0; i < 10; i++) await pub.send(`update ${i}`);
    for (const sub of subs) {
      const got: string[] = [];
      for (let i = 0; i < 10; i++) got.push((await receiveWithin(sub, 10_000))![0]!);
      expect(got).toEqual(Array.from({ length: 10 }, (_, i) => `update ${i}`));
    }
  });

  it('SUB filters by prefix: each subscriber gets exactly the messages starting with one of its prefixes', async () => {
    const pub = open(new zmq.Publisher());
    await pub.bind('tcp://127.0.0.1:*');
    const one = open(new zmq.Subscriber());
    const two = open(new zmq.Subscriber());
    const none = open(new zmq.Subscriber());
    for (const sub of [one, two, none]) sub.connect(pub.lastEndpoint!);
    one.subscribe('argentina', 'venezuela', 'hello');
    two.subscribe('brasil', 'alemania', 'hello');
    none.subscribe('hello'); // a subscriber with no country: it must get none of them
    await syncSubscribers(pub, [one, two, none]);
    const countries = ['holanda', 'brasil', 'alemania', 'portugal', 'argentina', 'italia', 'rusia', 'venezuela'];
    const sent = countries.flatMap((country) => [`${country} gol`, `${country} corner`]);
    for (const message of sent) await pub.send(message);
    await pub.send('hello end'); // every subscriber's last message: the filtered ones were not merely late
    const drain = async (sub: zmq.Subscriber) => {
      const got: string[] = [];
      for (;;) {
        const [message] = (await receiveWithin(sub, 10_000))!;
        if (message === 'hello end') return got;
        got.push(message!);
      }
    };
    expect(await drain(one)).toEqual(sent.filter((m) => m.startsWith('argentina') || m.startsWith('venezuela')));
    expect(await drain(two)).toEqual(sent.filter((m) => m.startsWith('brasil') || m.startsWith('alemania')));
    expect(await drain(none)).toEqual([]);
  });

  it('the subscriber slow joiner: what is published before the subscription reaches the PUB is lost', async () => {
    const pub = open(new zmq.Publisher());
    const pubLog = new MonitorLog(pub);
    await pub.bind('tcp://127.0.0.1:*');
    // Nobody is connected: a PUB drops, it never blocks or queues for a future subscriber.
    await pub.send('0 nobody there');
    const sub = open(new zmq.Subscriber());
    sub.connect(pub.lastEndpoint!);
    // Connected, but not subscribed yet: the PUB has the pipe and filters everything out of it.
    await pubLog.until(() => pubLog.count('handshake') === 1, "the subscriber's handshake");
    await pub.send('1 connected, not subscribed');
    sub.subscribe();
    // Publish numbered messages back to back until the subscriber has one. In one process the subscription
    // often takes effect before the next send (the first message arrives); a subscriber in another process
    // misses more, which is the series' part 4. Either way nothing sent before it is delivered late.
    let published = 1;
    let first: number | null = null;
    const deadline = Date.now() + 10_000;
    while (first === null) {
      if (Date.now() > deadline) throw new Error('the subscriber never received anything');
      published++;
      await pub.send(String(published));
      const got = await receiveWithin(sub, 0).catch(() => null);
      if (got) first = Number(got[0]);
      else await new Promise((resolve) => setImmediate(resolve));
    }
    // Once one arrived, everything after it arrives: a last message closes the run.
    await pub.send(String(++published));
    const received = [first];
    while (received.at(-1) !== published) received.push(Number((await receiveWithin(sub, 10_000))![0]));
    // A contiguous run ending with the last one published; neither message of before the subscription.
    expect(first).toBeGreaterThanOrEqual(2);
    expect(received).toEqual(Array.from({ length: received.length }, (_, i) => first! + i));
  });

  it('a PUB drops for a subscriber at its HWM and never blocks, where a PUSH blocks', async () => {
    // inproc: capacity is exactly the two HWMs added (zmq-facts section 3), no kernel buffers in between.
    const pub = open(new zmq.Publisher());
    pub.sendHighWaterMark = 2;
    await pub.bind('inproc://patterns-pub-hwm');
    const sub = open(new zmq.Subscriber());
    sub.receiveHighWaterMark = 2;
    sub.subscribe();
    sub.connect('inproc://patterns-pub-hwm');
    await syncSubscribers(pub, [sub]);
    // The subscriber reads nothing while 20 messages are published: every send resolves (a PUB never waits).
    for (let i = 0; i < 20; i++) await pub.send(`m${i}`);
    expect(pub.writable).toBe(true);
    const got: string[] = [];
    for (;;) {
      const message = await receiveWithin(sub, 0).catch(() => null);
      if (!message) break;
      got.push(message[0]!);
    }
    // What fitted arrived, in order; the rest was dropped at the publisher.
    expect(got.length).toBeGreaterThan(0);
    expect(got.length).toBeLessThanOrEqual(4);
    expect(got).toEqual(Array.from({ length: got.length }, (_, i) => `m${i}`));

    const push = open(new zmq.Push());
    push.sendHighWaterMark = 2;
    await push.bind('inproc://patterns-push-hwm');
    const pull = open(new zmq.Pull());
    pull.receiveHighWaterMark = 2;
    pull.connect('inproc://patterns-push-hwm');
    push.sendTimeout = 300;
    let accepted = 0;
    let refusal: string | undefined;
    for (let i = 0; i < 20 && refusal === undefined; i++) {
      try {
        await push.send(`m${i}`);
        accepted++;
      } catch (error) {
        refusal = (error as { code?: string }).code;
      }
    }
    // The PUSH took 2 + 2 and then waited (EAGAIN only because of the test's sendTimeout): nothing was dropped.
    expect({ accepted, refusal }).toEqual({ accepted: 4, refusal: 'EAGAIN' });
    const delivered: string[] = [];
    for (let i = 0; i < 4; i++) delivered.push((await receiveWithin(pull, 10_000))![0]!);
    expect(delivered).toEqual(['m0', 'm1', 'm2', 'm3']);
  });

  it('an XPUB receives each subscription as a message: 1 or 0, then the prefix', async () => {
    const xpub = open(new zmq.XPublisher());
    await xpub.bind('tcp://127.0.0.1:*');
    const sub = open(new zmq.Subscriber());
    sub.connect(xpub.lastEndpoint!);
    sub.subscribe('argentina');
    const [subscribe] = await xpub.receive();
    expect([subscribe![0], subscribe!.subarray(1).toString()]).toEqual([1, 'argentina']);
    sub.unsubscribe('argentina');
    const [unsubscribe] = await xpub.receive();
    expect([unsubscribe![0], unsubscribe!.subarray(1).toString()]).toEqual([0, 'argentina']);
  });
});

describe('ROUTER, DEALER and the broker', () => {
  it('ROUTER prepends the identity frame: routingId when the peer set one, else 5 bytes starting with 0', async () => {
    const router = open(new zmq.Router());
    await router.bind('tcp://127.0.0.1:*');
    const dealer = open(new zmq.Dealer());
    dealer.routingId = 'alice';
    dealer.connect(router.lastEndpoint!);
    const req = open(new zmq.Request());
    req.connect(router.lastEndpoint!);

    await dealer.send('from dealer');
    expect((await router.receive()).map(String)).toEqual(['alice', 'from dealer']);
    await req.send('from req');
    const [identity, delimiter, body] = await router.receive();
    // A REQ adds the empty delimiter; its identity was made up by libzmq.
    expect(identity!.length).toBe(5);
    expect(identity![0]).toBe(0);
    expect(delimiter!.length).toBe(0);
    expect(body!.toString()).toBe('from req');
    // Replies are routed by the first frame.
    await router.send([identity!, '', 'reply']);
    expect((await req.receive()).map(String)).toEqual(['reply']);
    await router.send(['alice', 'to alice']);
    expect((await dealer.receive()).map(String)).toEqual(['to alice']);
    // An unknown identity is dropped silently, unless the ROUTER is mandatory.
    await router.send(['nobody', 'lost']);
    router.mandatory = true;
    await expect(router.send(['nobody', 'refused'])).rejects.toMatchObject({ code: 'EHOSTUNREACH' });
  });

  it('a ROUTER/DEALER shared queue (zmq.Proxy) spreads requests from several REQ clients evenly over REP workers', async () => {
    const frontend = open(new zmq.Router());
    await frontend.bind('tcp://127.0.0.1:*');
    const backend = open(new zmq.Dealer());
    const backendLog = new MonitorLog(backend);
    await backend.bind('tcp://127.0.0.1:*');
    const proxy = new zmq.Proxy(frontend, backend);
    const proxied = proxy.run();

    const handled = [0, 0, 0];
    const workers = handled.map((_, index) => {
      const worker = open(new zmq.Reply());
      worker.connect(backend.lastEndpoint!);
      void (async () => {
        for await (const [request] of worker) {
          handled[index]!++;
          await worker.send(`worker ${index}: ${request}`);
        }
      })().catch(() => {});
      return worker;
    });
    // A bound DEALER has a pipe per worker only after its handshake: wait for all three, as for a bound PUSH.
    await backendLog.until(() => backendLog.count('handshake') === workers.length, 'three workers');
    const clients = [open(new zmq.Request()), open(new zmq.Request())];
    const replies: string[] = [];
    await Promise.all(
      clients.map(async (client, c) => {
        client.connect(frontend.lastEndpoint!);
        for (let i = 0; i < 6; i++) {
          await client.send(`client ${c} request ${i}`);
          replies.push((await client.receive())[0]!.toString());
        }
      }),
    );
    // Every reply reached the client that asked (the ROUTER kept the identity), and the DEALER dealt 4 each.
    expect(replies).toHaveLength(12);
    for (const reply of replies) expect(reply).toMatch(/^worker [0-2]: client [01] request [0-5]$/);
    expect(handled).toEqual([4, 4, 4]);
    proxy.terminate();
    await proxied;
  });
});

describe('what ZeroMQ refuses', () => {
  it('incompatible socket types (PUSH to SUB) over tcp never complete a handshake, and the connecting side gives up', async () => {
    const sub = open(new zmq.Subscriber());
    sub.subscribe();
    const subLog = new MonitorLog(sub);
    await sub.bind('tcp://127.0.0.1:*');
    const push = open(new zmq.Push());
    const pushLog = new MonitorLog(push);
    push.connect(sub.lastEndpoint!);
    // The PUSH's pipe exists from connect(): the message is queued there and goes nowhere.
    await push.send('hi');
    await pushLog.until(() => pushLog.count('disconnect') === 1, 'the PUSH to be dropped');
    await subLog.until(() => subLog.count('disconnect') === 1, 'the SUB to drop the PUSH');
    expect(pushLog.count('handshake')).toBe(0);
    expect(subLog.count('handshake')).toBe(0);
    // After a protocol error libzmq does not reconnect: no retry shows up (a retry comes within 100-200 ms).
    expect(await receiveWithin(sub, 600)).toBeNull();
    expect(pushLog.count('connect:retry')).toBe(0);
    expect(pushLog.count('connect')).toBe(1);
  });

  it('incompatible socket types over ipc: the same, and a bound PUSH with no compatible peer blocks', async () => {
    const push = open(new zmq.Push());
    const pushLog = new MonitorLog(push);
    const endpoint = ipcEndpoint('incompatible');
    await push.bind(endpoint);
    const sub = open(new zmq.Subscriber());
    sub.subscribe();
    const subLog = new MonitorLog(sub);
    sub.connect(endpoint);
    await subLog.until(() => subLog.count('disconnect') === 1, 'the SUB to be dropped');
    await pushLog.until(() => pushLog.count('disconnect') === 1, 'the PUSH to drop the SUB');
    expect(pushLog.count('handshake') + subLog.count('handshake')).toBe(0);
    push.sendTimeout = 200;
    await expect(push.send('hi')).rejects.toMatchObject({ code: 'EAGAIN' });
  });

  it('over inproc libzmq does not check socket types at all: a PUSH reaches a SUB', async () => {
    const sub = open(new zmq.Subscriber());
    sub.subscribe();
    await sub.bind('inproc://patterns-incompatible');
    const push = open(new zmq.Push());
    push.connect('inproc://patterns-incompatible');
    await push.send('hi');
    expect(await receiveWithin(sub, 10_000)).toEqual(['hi']);
  });

  it('this build of libzmq has no PGM: epgm is refused with EPROTONOSUPPORT', async () => {
    expect(zmq.version).toBe('4.3.5');
    expect(zmq.capability.pgm).toBe(false);
    const pub = open(new zmq.Publisher());
    await expect(pub.bind('epgm://127.0.0.1;239.192.1.1:5000')).rejects.toMatchObject({ code: 'EPROTONOSUPPORT' });
    expect(() => pub.connect('epgm://127.0.0.1;239.192.1.1:5000')).toThrow(
      expect.objectContaining({ code: 'EPROTONOSUPPORT' }),
    );
  });
});
