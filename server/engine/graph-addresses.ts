/**
 * Where a graph run binds: the address each binding side requests, checked like the pipeline's endpoints
 * (endpoints.ts), inproc names and ipc paths kept inside this playground's own namespace, ipc paths claimed so that
 * no two playgrounds bind one. And the error for a graph that cannot run.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { GraphProblem } from '../../shared/scenarios/graph.ts';
import type { GraphLink, GraphSpec, Transport } from '../../shared/protocol/index.ts';
import {
  checkEndpoint,
  ensureRuntimeDir,
  type EndpointPolicy,
  type IpcClaims,
  type IpcRefusal,
} from '../pipeline/endpoints.ts';
import { text } from '../../shared/protocol/server-text.ts';
import { CodedError } from '../errors.ts';

/** A graph that cannot run: a CodedError (PG_ERR_VALIDATION, graph.invalid) that also lists its problems. */
export class GraphError extends CodedError {
  constructor(readonly problems: GraphProblem[]) {
    const listed = problems.map((p) => `${p.where}: ${p.problem}`).join('; ');
    super('PG_ERR_VALIDATION', text('graph.invalid', { problems: listed }), { message: listed });
  }
}

/** The address one binding side requests; an ipc path claimed for it is added to `claimed` (the run releases them). */
export async function requestedAddress(
  link: Pick<GraphLink, 'from' | 'to' | 'transport' | 'address'>,
  nodeIndex: number,
  {
    policy,
    owner,
    claims,
    graph,
  }: { policy: EndpointPolicy; owner: string; claims: IpcClaims; graph?: Pick<GraphSpec, 'nodes' | 'links'> },
  claimed: string[],
): Promise<string> {
  const transport: Transport = link.transport;
  if (transport === 'inproc') {
    // One ZeroMQ context for every playground (and every visitor): each name starts with the playground's id, and
    // ids of one kind have one length (graph "gr-" + 20, pipeline "pg-" + 22), so no two playgrounds' names meet.
    // Inside it, a name the graph gives goes after a '-' and one the server chooses after a '.': a visitor's
    // "inproc://n2" is never the server's choice for a node (EADDRINUSE at the run's start, or at a live add, before).
    const address = link.address
      ? `inproc://${owner}-${link.address.replace(/^inproc:\/\//, '')}`
      : `inproc://${owner}.n${nodeIndex}`;
    checkEndpoint(address, policy);
    return address;
  }
  if (transport === 'tcp') {
    const address = link.address ?? 'tcp://127.0.0.1:*';
    const parsed = checkEndpoint(address, policy);
    if (parsed.transport !== 'tcp')
      throw new GraphError([{ where: `${link.from} - ${link.to}`, problem: `${address} is not a tcp endpoint` }]);
    return address;
  }
  ensureRuntimeDir(policy);
  // A path the server chooses is never one the graph gives (a visitor may name <id>-n2.ipc for another node: the
  // server's choice claiming it first would refuse the visitor's own path as another playground's).
  const given = new Set(
    graph ? [...graph.links, ...graph.nodes.flatMap((node) => node.listen ?? [])].map((other) => other.address) : [],
  );
  const candidates = link.address
    ? [link.address]
    : [
        `ipc://${policy.runtimeDir}/${owner}-n${nodeIndex}.ipc`,
        `ipc://${policy.runtimeDir}/${owner}-n${nodeIndex}-${randomBytes(4).toString('hex')}.ipc`,
      ].filter((candidate) => !given.has(candidate));
  for (const address of candidates) {
    const parsed = checkEndpoint(address, policy);
    if (parsed.transport !== 'ipc')
      throw new GraphError([{ where: `${link.from} - ${link.to}`, problem: `${address} is not an ipc endpoint` }]);
    // Only this playground's own names: no path another playground (or the tutorial's configured one) uses.
    if (path.dirname(parsed.path) !== policy.runtimeDir || !path.basename(parsed.path).startsWith(`${owner}-`)) {
      throw new CodedError(
        'PG_ERR_ENDPOINT',
        text('graph.ipcName', { path: parsed.path, folder: policy.runtimeDir, prefix: `${owner}-` }),
      );
    }
    const refusal = await claims.claim(parsed.path, owner);
    if (refusal === null) {
      claimed.push(parsed.path);
      return address;
    }
    if (link.address) throw new CodedError('PG_ERR_ENDPOINT', ipcRefusalText(refusal, parsed.path));
  }
  throw new GraphError([{ where: `${link.from} - ${link.to}`, problem: 'no free ipc path in the runtime folder' }]);
}

/**
 * ZeroMQ's refusal of an endpoint the run asked for (an address the visitor gave twice, a tcp port something else
 * holds: EADDRINUSE...): the graph's problem, said with the endpoint and the error as a 400 to act on, not an
 * internal error. Anything else (a coded error already, a closed socket) is returned as it is.
 */
export function endpointRefusal(
  error: unknown,
  link: Pick<GraphLink, 'from' | 'to' | 'transport'>,
  requested: string | null,
): unknown {
  const code = (error as { code?: unknown } | null)?.code;
  if (error instanceof CodedError || typeof code !== 'string' || code.startsWith('PG_ERR')) return error;
  return new CodedError(
    'PG_ERR_VALIDATION',
    text('graph.invalid', {
      problems: `${link.from} - ${link.to}: ${requested ?? link.transport}: ${(error as Error).message} (${code})`,
    }),
  );
}

export function ipcRefusalText(refusal: IpcRefusal, path: string) {
  switch (refusal) {
    case 'other-playground':
      return text('endpoint.ipcOtherPlayground', { path });
    case 'not-a-socket':
      return text('endpoint.notSocket', { path });
    case 'live-socket':
      return text('note.ipcInUse', { path, file: '-' });
    case 'unknown':
      return text('endpoint.ipcUnknown', { path });
  }
}
