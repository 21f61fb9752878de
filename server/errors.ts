/**
 * CodedError: the one error type for a failure a client caused or can act on, anywhere in the server. It carries a
 * stable PG_ERR_* code, the reason as a ServerText (a page says it in its own language) and, rarely, an HTTP status
 * more precise than the code's own. server/http/errors.ts turns it into the answer, for HTTP and the stream alike;
 * anything else thrown is an internal error there, and says nothing about the server.
 */
import { english, type ErrorCode, type ServerText } from '../shared/protocol/index.ts';

export interface CodedErrorOptions {
  /** The English message, when it says more than `reason` (an import names every problem found). */
  message?: string;
  /** An HTTP status (4xx) more precise than the code's (415 for a body that is not JSON). */
  status?: number;
}

export class CodedError extends Error {
  readonly text: ServerText;
  readonly status: number | undefined;

  constructor(
    readonly code: ErrorCode,
    reason: ServerText,
    options: CodedErrorOptions = {},
  ) {
    super(options.message ?? english(reason));
    this.text = reason;
    this.status = options.status;
  }
}
