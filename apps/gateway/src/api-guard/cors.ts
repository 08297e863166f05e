import type { FastifyInstance } from 'fastify';
import { CORRELATION_ID_HEADER, ERS_TRANSACTION_ID_HEADER } from '@libs/ers-contract';

const ALLOWED_REQUEST_HEADERS =
  'Accept, Content-Type, If-Match, If-None-Match, X-CSRF, X-Correlation-ID, ' +
  'X-ERS-XAPI-COMM-RULE-ORG, X-ERS-XAPI-META-FILE_NAME, X-ERS-XAPI-META-INTENDED_UBRN';
const EXPOSED_HEADERS = [
  'Content-Disposition',
  'ETag',
  'Location',
  'Retry-After',
  ERS_TRANSACTION_ID_HEADER,
  CORRELATION_ID_HEADER,
].join(', ');

/**
 * CORS for the origins listed in ALLOWED_ORIGINS only (an SPA served from another origin).
 * Same-origin calls need none of it. A preflight from any other origin gets no CORS headers, so
 * the browser never sends the real request.
 */
export function registerCors(fastify: FastifyInstance, allowedOrigins: readonly string[]): void {
  if (allowedOrigins.length === 0) return;
  const allowed = new Set(allowedOrigins);
  fastify.addHook('onRequest', (request, reply, done) => {
    const origin = request.headers.origin;
    if (origin === undefined || !allowed.has(origin) || !request.url.startsWith('/api/')) {
      done();
      return;
    }
    reply.header('access-control-allow-origin', origin);
    reply.header('access-control-allow-credentials', 'true');
    reply.header('vary', 'Origin');
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      reply
        .code(204)
        .header('access-control-allow-methods', 'GET, HEAD, POST, PUT, PATCH, DELETE')
        .header('access-control-allow-headers', ALLOWED_REQUEST_HEADERS)
        .header('access-control-max-age', '600')
        .send();
      return;
    }
    reply.header('access-control-expose-headers', EXPOSED_HEADERS);
    done();
  });
}
