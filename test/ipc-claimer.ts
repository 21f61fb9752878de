/**
 * A second process that claims ipc paths, for server/pipeline/ipc-lock.test.ts: another server's IpcClaims, on
 * the same machine. Reads commands from stdin, one a line, and answers each on stdout:
 *   `claim <path>`   -> `claimed <path> <null or the refusal>`
 *   `release <path>` -> `released <path>`
 *   `listen <port>`  -> `listening <port>` (a tcp listener on 127.0.0.1, as another program holding the port)
 * It prints `ready <its pid>` first (tsx runs it as a child of its launcher, so that is not the spawned pid), and exits when stdin ends (its locks are then released, as a server's are on close).
 */
import net from 'node:net';
import readline from 'node:readline';
import { IpcClaims } from '../server/pipeline/endpoints.ts';

const OWNER = 'claimer';
const claims = new IpcClaims();
claims.register(OWNER);

const lines = readline.createInterface({ input: process.stdin });
lines.on('line', (line) => {
  const [command, file = ''] = line.trim().split(' ');
  if (command === 'claim') {
    void claims.claim(file, OWNER).then((refusal) => console.log(`claimed ${file} ${refusal ?? 'null'}`));
  } else if (command === 'listen') {
    const server = net.createServer().listen(Number(file), '127.0.0.1', () => console.log(`listening ${file}`));
    server.on('error', (error) => console.log(`error ${String(error)}`));
  } else if (command === 'release') {
    claims.release(file, OWNER);
    console.log(`released ${file}`);
  }
});
lines.on('close', () => {
  claims.forget(OWNER);
  process.exit(0);
});
console.log(`ready ${process.pid}`);
