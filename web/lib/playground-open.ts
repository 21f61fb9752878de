/**
 * Which playground a page opens: the one its address names (its own, or a shared link's, which gives this
 * visitor a role in it), else a fresh one for the lesson or scenario the address asks for.
 */
import type { PlaygroundInfo } from '../../shared/protocol/index.ts';
import * as api from './api.ts';
import { ApiError, type Role } from './api.ts';
import type { BootRequest } from './page-address.ts';

function isNotFound(error: unknown): boolean {
  return error instanceof ApiError && error.code === 'PG_ERR_NOT_FOUND';
}

/** The playground to show and this visitor's role in it. */
export async function openRequested(request: BootRequest): Promise<{ info: PlaygroundInfo; role: Role }> {
  const { playground, token, lesson, scenario } = request;
  if (playground) {
    try {
      if (token) {
        const joined = await api.joinPlayground(playground, token);
        return { info: joined.playground, role: joined.role };
      }
      const [info, role] = await Promise.all([api.getPlayground(playground), api.getRole(playground)]);
      return { info, role };
    } catch (error) {
      // Not ours and no valid link (or closed since): this tab gets a playground of its own.
      if (!isNotFound(error)) throw error;
    }
  }
  if (lesson) {
    try {
      return { info: await api.createPlayground({ lesson }), role: 'owner' };
    } catch (error) {
      // An unknown lesson in a shared link opens the scenario instead.
      if (!isNotFound(error)) throw error;
    }
  }
  return { info: await api.createPlayground({ scenario }), role: 'owner' };
}
