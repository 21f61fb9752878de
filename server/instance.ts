/**
 * Which instance of a course site this server is (issue 13). Several servers run behind one reverse proxy
 * (deploy/haproxy.cfg); a playground lives on exactly one of them, with its sockets and processes, so every
 * playground id says which: `<instance>.pg-<random>` and `<instance>.gr-<random>`. The proxy routes a request
 * that names an id (`/api/playgrounds/<id>/...`, `/api/graphs/<id>/...`, the stream's WebSocket) to the instance
 * the prefix names, without asking anyone.
 *
 * A server started without `--instance` is a standalone one: its ids have no prefix (`pg-<random>`), as before.
 *
 * The name: 1-16 lower-case letters and digits. It goes into ids (which go into ipc paths of at most 107 bytes,
 * inproc names of at most 64 characters, and the protocol's id pattern `[A-Za-z0-9_.:-]`), and into the proxy's
 * configuration: no separator it uses ('.', '-', '_') may appear in it, so that the prefix ends at the first '.'.
 */
export const INSTANCE_NAME_PATTERN = /^[a-z0-9]{1,16}$/;

/** Throws an Error a person can act on when `name` cannot be an instance name. */
export function checkInstanceName(name: string): string {
  if (!INSTANCE_NAME_PATTERN.test(name)) {
    throw new Error(`--instance must be 1-16 lower-case letters or digits (e.g. "a" or "web2"), not "${name}"`);
  }
  return name;
}

/** "pg-Abc..." as instance `a` names it: "a.pg-Abc..."; a standalone server (no instance) keeps it as it is. */
export function idOnInstance(instance: string | null | undefined, id: string): string {
  return instance ? `${instance}.${id}` : id;
}

/** The instance an id names ("a.pg-..." -> "a"), or null for an id without one. */
export function instanceOfId(id: string): string | null {
  const dot = id.indexOf('.');
  if (dot <= 0) return null;
  const name = id.slice(0, dot);
  return INSTANCE_NAME_PATTERN.test(name) ? name : null;
}
