/** The store's two kinds of failure: one a client caused or can act on, one that keeps the server from starting. */
import { english, type ServerText } from '../../../shared/protocol/server-text.ts';
import type { ErrorCode } from '../../../shared/protocol/index.ts';

/** A failure a client caused or can act on (not found, run still recording, bad cursor); carries an HTTP code. */
export class RecordError extends Error {
  readonly text: ServerText;

  /** `message` defaults to the English of `reason`; an import's may say more (every problem TypeBox found). */
  constructor(
    readonly code: ErrorCode,
    reason: ServerText,
    message = english(reason),
  ) {
    super(message);
    this.text = reason;
  }
}

/** The database cannot be used by this server (newer schema, unreadable file). Thrown at open. */
export class StoreOpenError extends Error {}
