import type { FastifyInstance } from 'fastify';
import type { Readable } from 'node:stream';

/** JSON bodies (sessions, Parameters, controls) are small; A020 uploads bypass this limit as streams. */
export const JSON_BODY_LIMIT_BYTES = 1024 * 1024;

/** A body sent as JSON that does not parse: handed on so that e-RS can answer it 422, not 400. */
export class UnparseableJson {
  constructor(readonly reason: string) {}
}

class BodyTooLargeError extends Error {
  readonly statusCode = 413;
  constructor() {
    super(`Request body larger than ${JSON_BODY_LIMIT_BYTES} bytes`);
  }
}

const JSON_TYPE = /^application\/(?:[\w.-]+\+)?json\s*(?:;|$)/i;

/**
 * One parser for every content type: a route marked `streamBody` gets the request stream itself
 * (so an upload is read while it arrives, with no size limit imposed before the handler); any
 * other route gets parsed JSON, an `UnparseableJson`, or the raw bytes.
 */
export function registerBodyParsing(fastify: FastifyInstance): void {
  fastify.removeAllContentTypeParsers();
  fastify.addContentTypeParser('*', (request, payload, done) => {
    if (request.routeOptions.config.ers?.streamBody === true) {
      done(null, payload);
      return;
    }
    readAll(payload, JSON_BODY_LIMIT_BYTES).then(
      (bytes) => done(null, decode(request.headers['content-type'], bytes)),
      (error: unknown) => done(error instanceof Error ? error : new Error(String(error)), undefined),
    );
  });
}

function decode(contentType: string | undefined, bytes: Buffer): unknown {
  if (bytes.length === 0) return undefined;
  if (contentType === undefined || !JSON_TYPE.test(contentType)) return bytes;
  try {
    return JSON.parse(bytes.toString('utf8')) as unknown;
  } catch (error) {
    return new UnparseableJson(error instanceof Error ? error.message : String(error));
  }
}

async function readAll(stream: Readable, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let length = 0;
  // Past the limit the rest is read and dropped, so the 413 reaches a client still sending.
  for await (const chunk of stream) {
    const buffer = Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk));
    length += buffer.length;
    if (length <= limit) chunks.push(buffer);
  }
  if (length > limit) throw new BodyTooLargeError();
  return Buffer.concat(chunks);
}
