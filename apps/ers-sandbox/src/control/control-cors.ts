import type { FastifyInstance } from 'fastify';

const ALLOW_METHODS = 'GET, POST, PUT, DELETE, OPTIONS';

/**
 * The demo SPA runs on another origin and calls `/_sandbox` directly: open CORS, no
 * credentials. e-RS itself (`/ers-api`) answers no CORS at all, like the real service.
 */
export function registerControlCors(fastify: FastifyInstance): void {
  fastify.addHook('onRequest', async (request, reply) => {
    if (!(request.raw.url ?? '').startsWith('/_sandbox')) return undefined;
    reply.header('Access-Control-Allow-Origin', '*');
    if (request.method !== 'OPTIONS' || request.headers['access-control-request-method'] === undefined) return undefined;
    const requested = request.headers['access-control-request-headers'];
    return reply
      .code(204)
      .header('Access-Control-Allow-Methods', ALLOW_METHODS)
      .header('Access-Control-Allow-Headers', typeof requested === 'string' ? requested : 'Content-Type')
      .header('Access-Control-Max-Age', '600')
      .send();
  });
}
