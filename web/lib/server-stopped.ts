/**
 * Whether an API failure says that the server holding a playground has stopped (issue 13: a course site's
 * instance behind the proxy is down). HAProxy answers PG_ERR_INSTANCE_DOWN (deploy/haproxy.cfg); another proxy
 * (nginx) may give a bare 502, 503 or 504. Without a proxy a stopped server is a network error: the whole site is
 * down, and the pages keep reconnecting.
 */
import { ApiError } from './api.ts';

export function isServerStopped(error: unknown): boolean {
  return (
    error instanceof ApiError &&
    (error.code === 'PG_ERR_INSTANCE_DOWN' || (error.code === 'PG_ERR_HTTP' && [502, 503, 504].includes(error.status)))
  );
}

/**
 * How long the pages wait for the answer to "is the playground still there?" (ms). A request to a server that
 * accepted it and never answers (a process being torn down) is held by the proxy for its own timeout (a minute);
 * the pages ask one question at a time, so an unbounded one would stop them asking again, and the page would stay
 * on "reconnecting" for good.
 */
export const SERVER_CHECK_TIMEOUT_MS = 10_000;

/** `request`, or a network failure (PG_ERR_NETWORK: no answer, ask again later) when it is not settled in time. */
export function withinCheckTime<T>(request: Promise<T>, timeoutMs = SERVER_CHECK_TIMEOUT_MS): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new ApiError('PG_ERR_NETWORK', `No answer from the server within ${timeoutMs / 1000} s.`)),
      timeoutMs,
    );
  });
  return Promise.race([request, late]).finally(() => clearTimeout(timer));
}
