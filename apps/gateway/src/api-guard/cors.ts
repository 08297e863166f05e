import type { OutgoingHttpHeaders } from 'node:http';
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
    if (request.method === 'OPTIONS' && request.headers['access-control-request-method']) {
      reply
        .code(204)
        .header('access-control-allow-origin', origin)
        .header('access-control-allow-credentials', 'true')
        .header('vary', 'Origin')
        .header('access-control-allow-methods', 'GET, HEAD, POST, PUT, PATCH, DELETE')
        .header('access-control-allow-headers', ALLOWED_REQUEST_HEADERS)
        .header('access-control-max-age', '600')
        .send();
      return;
    }
    reply.headers(corsAnswerHeaders(origin, {}));
    done();
  });
}

/** The CORS headers of an answer (not a preflight) to a listed origin, added to `headers`. */
export function corsAnswerHeaders(origin: string, headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  headers['access-control-allow-origin'] = origin;
  headers['access-control-allow-credentials'] = 'true';
  headers.vary = 'Origin';
  headers['access-control-expose-headers'] = EXPOSED_HEADERS;
  return headers;
}
