/**
 * The class of the `watchers` bench case (bench/run.ts), in a worker thread of the bench's process: many watchers
 * of one playground, each a visitor of its own (its session cookie) that joined through the watch link and holds
 * a real WebSocket on loopback. They read every frame (ws takes it off the socket, checks its UTF-8 and hands it
 * over) but do not parse the JSON: a browser elsewhere would, on its own machine. Running them in a thread keeps
 * their reading off the server's event loop, which is what the case measures.
 *
 * Messages from the bench: {connect: {base, playground, token, count}} answers {ready: count} once every watcher
 * has its hello and has subscribed; {close: true} closes them and answers {stats: {frames, bytes, closedEarly}}.
 */
import { randomBytes } from 'node:crypto';
import { parentPort } from 'node:worker_threads';
import WebSocket from 'ws';

interface ConnectOrder {
  base: string;
  playground: string;
  token: string;
  count: number;
}

const port = parentPort!;
let sockets: WebSocket[] = [];
let frames = 0;
let bytes = 0;
let closedEarly = 0;

async function watcher({ base, playground, token }: ConnectOrder): Promise<WebSocket> {
  const cookie = `zpg_session=${randomBytes(32).toString('base64url')}`;
  const joined = await fetch(`${base}/api/playgrounds/${playground}/join`, {
    method: 'POST',
    headers: { cookie, 'content-type': 'application/json' },
    body: JSON.stringify({ token }),
  });
  if (joined.status !== 200) throw new Error(`join answered ${joined.status}: ${await joined.text()}`);
  const socket = new WebSocket(`${base.replace('http', 'ws')}/api/playgrounds/${playground}/stream`, {
    headers: { cookie },
    skipUTF8Validation: true,
  });
  let closing = false;
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.on('message', (data: Buffer) => {
      frames++;
      bytes += data.length;
      if (!closing) {
        // The first message is hello: subscribe as the page does.
        closing = true;
        socket.send(JSON.stringify({ type: 'subscribe' }));
        resolve();
      }
    });
  });
  socket.on('close', () => {
    if (sockets.includes(socket)) closedEarly++;
  });
  return socket;
}

port.on('message', async (order: { connect?: ConnectOrder; close?: true }) => {
  try {
    if (order.connect) {
      frames = 0;
      bytes = 0;
      closedEarly = 0;
      // A few at a time: the server's HTTP and handshake path is not what is measured.
      const made: WebSocket[] = [];
      for (let i = 0; i < order.connect.count; i += 20) {
        const batch = Array.from({ length: Math.min(20, order.connect.count - i) }, () => watcher(order.connect!));
        made.push(...(await Promise.all(batch)));
      }
      sockets = made;
      port.postMessage({ ready: made.length });
    } else if (order.close) {
      const closing = sockets;
      sockets = [];
      await Promise.all(
        closing.map(
          (socket) =>
            new Promise<void>((resolve) => {
              if (socket.readyState === WebSocket.CLOSED) return resolve();
              socket.once('close', () => resolve());
              socket.close();
              setTimeout(() => {
                socket.terminate();
                resolve();
              }, 2000).unref();
            }),
        ),
      );
      port.postMessage({ stats: { frames, bytes, closedEarly } });
    }
  } catch (error) {
    port.postMessage({ error: String(error) });
  }
});
