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
    const side: PeerSide = { open: true, linkedPipes: 0, info: { endpoint, transport: endpoint === 'inproc' ? 'inproc' : 'tcp', connections } };
    workers.push(side);
    return side;
  };
  return { count, reports, worker };
}

describe('PeerCount [E5]', () => {
  it('counts our worker as ours from connect(), even when the ventilator sees its handshake first', () => {
    const { count, reports, worker } = setup();
    const w = worker('tcp');
    count.ventilatorHandshake('tcp'); // the ventilator's monitor is faster than the worker's
    expect(count.external).toBe(0);
    w.linkedPipes = 1;
    count.report('tcp');
    expect(reports).toEqual(['tcp 0/0', 'tcp 0/1']);
  });

  it('keeps a closed worker’s pipe as ours until the ventilator has seen it leave', () => {
    const { count, reports, worker } = setup();
    const w = worker('tcp');
    w.linkedPipes = 1;
    count.ventilatorHandshake('tcp');
    count.pipesClosed('tcp', w.linkedPipes);
    w.open = false;
    w.linkedPipes = 0;
    count.report('tcp');
    expect(count.external).toBe(0); // the ventilator still counts the pipe, but it is ours, on its way out
    count.ventilatorDisconnect('tcp');
    expect(count.external).toBe(0);
    // A real external peer now shows at once.
    count.ventilatorHandshake('tcp');
    expect(count.external).toBe(1);
    expect(count.externalMax).toBe(1);
    count.ventilatorDisconnect('tcp');
    expect(count.external).toBe(0);
    expect(count.externalMax).toBe(1);
    expect(reports).toEqual(['tcp 0/1', 'tcp 0/0', 'tcp 1/0', 'tcp 0/0']);
  });

  it('counts a worker connected twice as two of ours, and inproc pipes (never reported by a monitor) as the ventilator’s', () => {
    const { count, worker } = setup();
    const twice = worker('tcp', 2);
    count.ventilatorHandshake('tcp');
    count.ventilatorHandshake('tcp');
    count.ventilatorHandshake('tcp');
    expect(count.external).toBe(1); // three handshakes, two of them ours
    const inproc = worker('inproc');
    inproc.linkedPipes = 1;
    twice.linkedPipes = 2;
    expect(count.ventilatorPipes()).toBe(4);
  });
});
