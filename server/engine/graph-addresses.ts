/**
 * Where a graph run binds: the address each binding side requests, checked like the pipeline's endpoints
 * (endpoints.ts), inproc names and ipc paths kept inside this playground's own namespace, ipc paths claimed so that
 * no two playgrounds bind one. And the error for a graph that cannot run.
 */
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import type { GraphProblem } from '../../shared/scenarios/graph.ts';
import type { GraphLink, Transport } from '../../shared/protocol/index.ts';
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
  { policy, owner, claims }: { policy: EndpointPolicy; owner: string; claims: IpcClaims },
  claimed: string[],
): Promise<string> {
  const transport: Transport = link.transport;
  if (transport === 'inproc') {
    // One context for every playground: names are prefixed with the playground's id, so no two collide.
    const wanted = link.address ? link.address.replace(/^inproc:\/\//, '') : `n${nodeIndex}`;
    const address = `inproc://${owner}-${wanted}`;
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
  const candidates = link.address
    ? [link.address]
    : [
        `ipc://${policy.runtimeDir}/${owner}-n${nodeIndex}.ipc`,
        `ipc://${policy.runtimeDir}/${owner}-n${nodeIndex}-${randomBytes(4).toString('hex')}.ipc`,
      ];
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
