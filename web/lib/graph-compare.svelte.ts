/**
 * Two recorded graph runs side by side on the patterns page (`?graph=<scenario>&compare=<a>,<b>`, issue 11): each
 * run's detail and its books at its end, folded by the server from its recorded events (GET /api/runs/:id/graph-state,
 * so an incomplete run, or one imported, compares as well as one that ended), then per node what it sent, received,
 * dropped and missed in each run, and the difference. Any two graph runs compare: of one scenario (the same nodes)
 * or of two (a node only one run had shows a dash on the other side).
 */
import { nodeBooks, type GraphNodeBooks } from '../../shared/protocol/graph-run-state.ts';
import type { RecordedGraphRunDetail } from '../../shared/protocol/index.ts';
import { toErrorInfo } from './api.ts';
import { getGraphStateAt, type Send } from './history-api.ts';

/** What a comparison shows per node, in this order. */
export const COMPARED_MEASURES = ['sent', 'received', 'dropped', 'missed'] as const;
export type ComparedMeasure = (typeof COMPARED_MEASURES)[number];

export interface ComparedRun {
  detail: RecordedGraphRunDetail;
  nodes: Record<string, GraphNodeBooks>;
  totals: { sent: number; received: number; dropped: number; refusals: number; events: number };
}

export interface CompareRow {
  node: string;
  measure: ComparedMeasure;
  a: number | null;
  b: number | null;
}

/** `?compare=a,b`: the two run ids, or null when the address does not name two. */
export function compareIdsOf(search: string): [string, string] | null {
  const ids = (new URLSearchParams(search).get('compare') ?? '').split(',').filter((id) => id !== '');
  return ids.length === 2 ? [ids[0]!, ids[1]!] : null;
}

/** The comparison's permalink on the patterns page. */
export function comparePermalink(scenario: string, a: string, b: string): string {
  return `?graph=${encodeURIComponent(scenario)}&compare=${encodeURIComponent(a)},${encodeURIComponent(b)}`;
}

/**
 * The rows: every node of either run (A's graph order, then B's, then any other the events named), each measure
 * that is not zero in both runs; sent and received always.
 */
export function compareRows(a: ComparedRun, b: ComparedRun): CompareRow[] {
  const order = [
    ...a.detail.graph.nodes.map((node) => node.id),
    ...b.detail.graph.nodes.map((node) => node.id),
    ...Object.keys(a.nodes),
    ...Object.keys(b.nodes),
  ];
  const rows: CompareRow[] = [];
  for (const node of new Set(order)) {
    const left = a.nodes[node] ?? null;
    const right = b.nodes[node] ?? null;
    for (const measure of COMPARED_MEASURES) {
      const x = left ? left[measure] : null;
      const y = right ? right[measure] : null;
      if ((measure === 'dropped' || measure === 'missed') && !x && !y) continue;
      rows.push({ node, measure, a: x, b: y });
    }
  }
  return rows;
}

export class GraphCompare {
  a = $state.raw<ComparedRun | null>(null);
  b = $state.raw<ComparedRun | null>(null);
  loading = $state(true);
  error = $state<ReturnType<typeof toErrorInfo> | null>(null);

  readonly #send: Send;

  constructor(send: Send) {
    this.#send = send;
  }

  get rows(): CompareRow[] {
    return this.a && this.b ? compareRows(this.a, this.b) : [];
  }

  async open(a: string, b: string): Promise<void> {
    try {
      const [left, right] = await Promise.all([this.#load(a), this.#load(b)]);
      this.a = left;
      this.b = right;
    } catch (error) {
      this.error = toErrorInfo(error);
    } finally {
      this.loading = false;
    }
  }

  async #load(id: string): Promise<ComparedRun> {
    const detail = (await this.#send('GET', `/api/runs/${encodeURIComponent(id)}`)) as RecordedGraphRunDetail;
    if (detail.kind !== 'graph') throw new Error(`run ${id} is not a graph run: compare it on the pipeline page`);
    const state = await getGraphStateAt(id, null, this.#send);
    const { counters } = state;
    return {
      detail,
      nodes: nodeBooks(counters),
      totals: {
        sent: counters.sent,
        received: counters.received,
        dropped: counters.dropped,
        refusals: counters.refusals,
        events: state.count,
      },
    };
  }
}
