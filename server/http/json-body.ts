/**
 * JSON request bodies, parsed as Fastify does, after their nesting depth is checked on the raw text. Body
 * validation and error messages recurse once per level: a body of a few thousand brackets would otherwise
 * overflow the stack and answer 500 (json-depth.ts). A route scope that registers its own parser (the import)
 * checks its input itself.
 */
import type { FastifyInstance } from 'fastify';
import { MAX_JSON_DEPTH, jsonDepthExceeds, text } from '../../shared/protocol/index.ts';
import { CodedError } from '../errors.ts';

/** Replaces the application/json parser of `app` (and the scopes registered after this call). */
export function parseJsonWithDepthLimit(app: FastifyInstance, maxDepth = MAX_JSON_DEPTH): void {
  // Fastify's own parser, with its defaults: a body carrying __proto__ or constructor.prototype is refused.
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
    if (jsonDepthExceeds(body as string, maxDepth)) {
      done(new CodedError('PG_ERR_BAD_MESSAGE', text('message.tooDeep', { limit: maxDepth })), undefined);
      return;
    }
    parseJson(request, body as string, done);
  });
}
