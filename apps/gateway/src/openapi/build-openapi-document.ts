import type { INestApplication } from '@nestjs/common';
import { DocumentBuilder, type OpenAPIObject, SwaggerModule } from '@nestjs/swagger';
import { PROBLEMS, PROBLEM_CODES, PROBLEM_TYPE_BASE } from '../problem/problem-codes';

const problemRef = { $ref: '#/components/schemas/Problem' };
const problemResponse = (codes: string[]): { description: string; content: Record<string, { schema: typeof problemRef }> } => ({
  description: `problem+json with code ${codes.map((code) => `\`${code}\``).join(', ')}`,
  content: { 'application/problem+json': { schema: problemRef } },
});

/**
 * The OpenAPI 3 document of the browser API, generated from the controllers and DTOs, plus what
 * decorators cannot say: the problem schema with every code, the cookie and CSRF header
 * security, and the proxied `/api/ers/{path}` route.
 */
export function buildOpenApiDocument(app: INestApplication, cookieName: string): OpenAPIObject {
  const config = new DocumentBuilder()
    .setTitle('e-RS session gateway: browser API')
    .setDescription(
      'Smartcard sign-in, role choice and proxied e-RS calls for a browser SPA. Every /api call ' +
        'needs the header `X-CSRF: 1`; the session travels in an HttpOnly cookie. Errors are ' +
        '`application/problem+json` with a stable `code`.',
    )
    .setVersion('1')
    .addCookieAuth(cookieName, { type: 'apiKey', in: 'cookie', name: cookieName }, 'session')
    .addApiKey({ type: 'apiKey', in: 'header', name: 'X-CSRF', description: 'must be 1' }, 'csrf')
    .build();
  const document = SwaggerModule.createDocument(app, config);
  document.components ??= {};
  document.components.schemas ??= {};
  document.components.schemas.Problem = {
    type: 'object',
    required: ['type', 'title', 'status', 'detail', 'code', 'correlationId'],
    properties: {
      type: { type: 'string', format: 'uri', example: `${PROBLEM_TYPE_BASE}no-session` },
      title: { type: 'string' },
      status: { type: 'integer' },
      detail: { type: 'string' },
      code: { type: 'string', enum: PROBLEM_CODES },
      correlationId: { type: 'string' },
    },
  };
  (document as OpenAPIObject & Record<string, unknown>)['x-problem-codes'] = Object.fromEntries(
    PROBLEM_CODES.map((code) => [code, { status: PROBLEMS[code].status, title: PROBLEMS[code].title }]),
  );
  const proxied = {
    summary: 'Proxy to e-RS at ERS_BASE_URL/{path}?{query} (business endpoints under STU3/ or v1/)',
    description:
      'The gateway adds XAPI_ASID and HTTP_X_SESSION_KEY and streams both bodies. e-RS answers ' +
      '(including a 403 OperationOutcome) pass through unchanged, except a 403 on an e-RS session ' +
      'that one A002 check finds dead: the session ends and the answer is 401 session-expired.',
    tags: ['e-RS'],
    parameters: [{ name: 'path', in: 'path' as const, required: true, schema: { type: 'string' } }],
    responses: {
      default: { description: "e-RS's answer, streamed" },
      '400': problemResponse(['invalid-request', 'invalid-path']),
      '401': problemResponse(['no-session', 'session-expired']),
      '403': problemResponse(['csrf', 'origin', 'role-not-selected', 'forbidden-path']),
      '405': problemResponse(['method-not-allowed']),
      '413': problemResponse(['payload-too-large']),
      '429': problemResponse(['too-many-calls']),
      '502': problemResponse(['upstream-unavailable']),
      '503': problemResponse(['store-unavailable']),
      '504': problemResponse(['upstream-timeout']),
    },
  };
  document.paths['/api/ers/{path}'] = {
    get: { ...proxied, operationId: 'ersGet' },
    post: { ...proxied, operationId: 'ersPost' },
    put: { ...proxied, operationId: 'ersPut' },
    patch: { ...proxied, operationId: 'ersPatch' },
    delete: { ...proxied, operationId: 'ersDelete' },
  };
  return document;
}
