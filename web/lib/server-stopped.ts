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
