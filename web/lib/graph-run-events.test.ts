import { describe, expect, it } from 'vitest';
import { fetchRunEvents } from './graph-run-events.ts';
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';

function event(seq: number, run: string): PlaygroundEvent {
  return { type: 'node:bound', seq, run, t: seq, node: 'server', transport: 'tcp', address: `tcp://127.0.0.1:${seq}` };
}

describe('fetchRunEvents', () => {
  it("pages through the playground's log and keeps only the run asked for", async () => {
    const log = [event(1, 'r1'), event(2, 'r2'), event(3, 'r2'), event(4, 'r2'), event(5, 'r3')];
    const asked: string[] = [];
    const request = async (_method: string, path: string) => {
      asked.push(path);
      const since = Number(/since=(\d+)/.exec(path)![1]);
      const rest = log.filter((e) => e.seq > since);
      return { events: rest.slice(0, 2), lastSeq: 5, more: rest.length > 2 };
    };
    const events = await fetchRunEvents(request, 'gr-1', 'r2');
    expect(events.map((e) => e.seq)).toEqual([2, 3, 4]);
    expect(asked).toEqual([
      '/api/graphs/gr-1/events?since=0&limit=5000',
      '/api/graphs/gr-1/events?since=2&limit=5000',
      '/api/graphs/gr-1/events?since=4&limit=5000',
    ]);
  });
});
