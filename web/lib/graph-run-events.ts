/**
 * Every event of one run of a graph playground, read from the server's log (GET /api/graphs/:id/events, pages of
 * at most 5,000, the last 20,000 kept): what the patterns page's lesson panel checks its goal on and its code panel
 * reads the run's bound addresses from. The live stream may sample a busy run; this never does.
 */
import type { PlaygroundEvent } from '../../shared/protocol/index.ts';

type Request = (method: string, path: string, body?: unknown) => Promise<unknown>;

/** Pages read at most (the server keeps 20,000 events, 5,000 a page). */
const MAX_PAGES = 8;

export async function fetchRunEvents(request: Request, playground: string, run: string): Promise<PlaygroundEvent[]> {
  const events: PlaygroundEvent[] = [];
  let since = 0;
  for (let page = 0; page < MAX_PAGES; page++) {
    const answer = (await request(
      'GET',
      `/api/graphs/${encodeURIComponent(playground)}/events?since=${since}&limit=5000`,
    )) as { events: PlaygroundEvent[]; lastSeq: number; more: boolean };
    for (const event of answer.events) if (event.run === run) events.push(event);
    if (!answer.more || answer.events.length === 0) break;
    since = answer.events.at(-1)!.seq;
  }
  return events;
}
