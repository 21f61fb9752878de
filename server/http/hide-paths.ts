/**
 * Server paths stay out of what visitors see (issue 9.12): where the sources, the data folder and the run database
 * are is the operator's business (the log has them), not a visitor's. Paths under those folders are shown relative
 * to them. The runtime folder is not hidden: visitors' ipc endpoints live there, and the page shows them.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ErrorBody, ServerText } from '../../shared/protocol/index.ts';

/** The project's folder, from the sources (server/http) and from the bundle (dist/server) alike. */
const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

const hidden = new Set<string>([PROJECT_ROOT]);

/** Hides paths under `folder` too (the app adds the run database's folder). */
export function hidePathsUnder(folder: string): void {
  if (path.isAbsolute(folder) && folder !== '/') hidden.add(path.resolve(folder));
}

/** `text` with every hidden folder taken off the paths in it ("/srv/app/server/x.ts" -> "server/x.ts"). */
export function hideServerPaths(text: string): string {
  let result = text;
  for (const folder of [...hidden].sort((a, b) => b.length - a.length)) {
    result = result.replaceAll(`${folder}${path.sep}`, '').replaceAll(folder, '.');
  }
  return result;
}

function hideInText(value: ServerText): ServerText {
  if (!value.params) return value;
  const params: NonNullable<ServerText['params']> = {};
  for (const [name, param] of Object.entries(value.params)) {
    params[name] =
      typeof param === 'string' ? hideServerPaths(param) : typeof param === 'number' ? param : hideInText(param);
  }
  return { ...value, params };
}

/** An error body as a visitor may see it. */
export function hidePathsInBody(body: ErrorBody): ErrorBody {
  const hiddenBody: ErrorBody = { ...body, message: hideServerPaths(body.message) };
  if (body.text) hiddenBody.text = hideInText(body.text as ServerText);
  return hiddenBody;
}
