import { type CanActivate, type ExecutionContext, Injectable } from '@nestjs/common';
import type { FastifyRequest } from 'fastify';
import { GatewayError } from '../problem/gateway-error';

/** Session bodies are a token or a role choice: a few KiB at most. */
const MAX_SESSION_BODY_BYTES = 16 * 1024;
const JSON_MEDIA_TYPE = /^application\/json\s*(;|$)/i;

/**
 * Reads and parses the JSON body of a `/api/session*` request. It runs as a guard, after the
 * anti-forgery guard and before the authentication strategies, so that a forged or malformed
 * request is refused before any body is read or any upstream call is made. Fastify's own body
 * parsers are off for the whole app: proxied bodies are streams and must never be parsed.
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
  if (!JSON_MEDIA_TYPE.test(request.headers['content-type'] ?? '')) {
    throw new GatewayError('unsupported-media-type', 'Send the body as application/json.');
  }
  const declared = Number(request.headers['content-length'] ?? '0');
  if (declared > MAX_SESSION_BODY_BYTES) {
    throw new GatewayError('payload-too-large', `Session bodies are at most ${MAX_SESSION_BODY_BYTES} bytes.`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request.raw) {
    const buffer = chunk as Buffer;
    size += buffer.length;
    if (size > MAX_SESSION_BODY_BYTES) {
      throw new GatewayError('payload-too-large', `Session bodies are at most ${MAX_SESSION_BODY_BYTES} bytes.`);
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
