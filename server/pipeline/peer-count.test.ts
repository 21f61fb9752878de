/**
 * [E5] The external-peer count never shows a peer that is not there, whatever order the ventilator's and the
 * workers' monitors report in. (The same rule is exercised on real sockets by interop.test.ts and the topology
 * tests; here each ordering is played out exactly.)
 */
import { describe, expect, it } from 'vitest';
import { PeerCount, type PeerSide } from './peer-count.ts';

function setup() {
  const workers: PeerSide[] = [];
  const reports: string[] = [];
  const count = new PeerCount(
    () => workers,
    (endpoint, external, builtIn) => reports.push(`${endpoint} ${external}/${builtIn}`),
  );
  const worker = (endpoint: string, connections = 1): PeerSide => {
    const side: PeerSide = {
      open: true,
      linkedPipes: 0,
      info: { endpoint, transport: endpoint === 'inproc' ? 'inproc' : 'tcp', connections },
    };
    workers.push(side);
    return side;
  };
  return { count, reports, worker };
}

/** The tutorial's tcp endpoint, as the ventilator's monitor names it. */
const TCP = 'tcp://127.0.0.1:12345';

describe('PeerCount [E5]', () => {
  it('counts our worker as ours from connect(), even when the ventilator sees its handshake first', () => {
    const { count, reports, worker } = setup();
    count.endpointBound(TCP, 'tcp');
    const w = worker('tcp');
    count.ventilatorHandshake(TCP); // the ventilator's monitor is faster than the worker's
    expect(count.external).toBe(0);
    w.linkedPipes = 1;
    count.report('tcp');
    expect(reports).toEqual(['tcp 0/0', 'tcp 0/1']);
  });

  it('keeps a closed worker’s pipe as ours until the ventilator has seen it leave', () => {
    const { count, reports, worker } = setup();
    count.endpointBound(TCP, 'tcp');
    const w = worker('tcp');
    w.linkedPipes = 1;
    count.ventilatorHandshake(TCP);
    count.pipesClosed('tcp', w.linkedPipes);
    w.open = false;
    w.linkedPipes = 0;
    count.report('tcp');
    expect(count.external).toBe(0); // the ventilator still counts the pipe, but it is ours, on its way out
    count.ventilatorDisconnect(TCP);
    expect(count.external).toBe(0);
    // A real external peer now shows at once.
    count.ventilatorHandshake(TCP);
    expect(count.external).toBe(1);
    expect(count.externalMax).toBe(1);
    count.ventilatorDisconnect(TCP);
    expect(count.external).toBe(0);
    expect(count.externalMax).toBe(1);
    expect(reports).toEqual(['tcp 0/1', 'tcp 0/0', 'tcp 1/0', 'tcp 0/0']);
  });

  it('counts a worker connected twice as two of ours, and inproc pipes (never reported by a monitor) as the ventilator’s', () => {
    const { count, worker } = setup();
    count.endpointBound(TCP, 'tcp');
    const twice = worker('tcp', 2);
    count.ventilatorHandshake(TCP);
    count.ventilatorHandshake(TCP);
    count.ventilatorHandshake(TCP);
    expect(count.external).toBe(1); // three handshakes, two of them ours
    const inproc = worker('inproc');
    inproc.linkedPipes = 1;
    twice.linkedPipes = 2;
    expect(count.ventilatorPipes()).toBe(4);
  });

  // Issue 10.4: the tutorial's tcp client, started before Run, shook hands before the bind returned (the log had
  // accept and handshake at 96 ms) and was never counted: "tcp: no peer connected" while it received 1, 2, 3 ... x.
  it('counts an external peer whose handshake the monitor reports before the bind returns', () => {
    const { count, reports } = setup();
    count.ventilatorHandshake(TCP); // monitor: accepted, handshake (the client was already retrying)
    expect(count.external).toBe(0); // which endpoint this is, nobody knows yet
    expect(reports).toEqual([]);
    count.endpointBound(TCP, 'tcp'); // the bind's promise resolves
    expect(count.external).toBe(1);
    expect(count.externalMax).toBe(1);
    expect(count.ventilatorPipes()).toBe(1);
    count.ventilatorDisconnect(TCP); // the client got its "x" and left
    expect(count.external).toBe(0);
    expect(reports).toEqual(['tcp 1/0', 'tcp 0/0']);
  });

  it('keeps the held news in order, per address, and forgets none when several endpoints bind late', () => {
    const { count, reports, worker } = setup();
    const IPC = 'ipc:///tmp/zmqdemo';
    const w = worker('tcp');
    count.ventilatorHandshake(TCP); // our worker
    count.ventilatorHandshake(TCP); // an external peer that came and went before the bind returned
    count.ventilatorDisconnect(TCP);
    count.ventilatorHandshake(IPC); // an external peer on ipc, bound later
    count.endpointBound(TCP, 'tcp');
    expect(count.external).toBe(0); // one pipe left on tcp, and it is our worker's
    w.linkedPipes = 1;
    count.report('tcp');
    count.endpointBound(IPC, 'ipc');
    expect(count.external).toBe(1);
    count.ventilatorHandshake(IPC); // after the bind, news counts at once
    expect(count.external).toBe(2);
    expect(count.externalMax).toBe(2);
    // The peer that came and went is shown as it was: it took part, if briefly.
    expect(reports).toEqual(['tcp 0/0', 'tcp 1/0', 'tcp 0/0', 'tcp 0/1', 'ipc 1/0', 'ipc 2/0']);
  });
});
