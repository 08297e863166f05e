import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { MAX_SESSION_BODY_BYTES } from '../front-door/api-routes';
import { GatewayError } from '../problem/gateway-error';

/**
 * Reads and parses the JSON body of a `/api/session*` request, before the authentication
 * strategies (the login strategy needs the token). The front door has already admitted it:
 * anti-forgery, origin, method, the declared size and the media type were checked there, once for
 * every route. What only reading can tell is checked here: a chunked body that grows past the
 * limit, and JSON that does not parse. Fastify's own body parsers are off for the whole app.
 */
@Injectable()
export class JsonBodyGuard implements CanActivate {
  async canActivate(context: ExecutionContext): Promise<boolean> {
    const request = context.switchToHttp().getRequest<FastifyRequest>();
    request.body = await readJsonBody(request);
    return true;
  }
}

function hasBody(request: FastifyRequest): boolean {
  const length = request.headers['content-length'];
  return (length !== undefined && length !== '0') || request.headers['transfer-encoding'] !== undefined;
}

async function readJsonBody(request: FastifyRequest): Promise<unknown> {
  if (!hasBody(request)) return undefined;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_SESSION_BODY_BYTES) {
      throw new GatewayError('payload-too-large', `Request bodies here are at most ${MAX_SESSION_BODY_BYTES} bytes.`);
    }
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new GatewayError('invalid-request', 'The request body is not valid JSON.');
  }
}
