import { EventEmitter } from 'node:events';
import { type IncomingMessage, type Server, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ErsTimeoutError, ErsUnavailableError } from '../errors';
import { AnswerAbandonedError, type AnswerWriter, ErsForwarder, type ForwardedHead } from './ers-forwarder';
import { passedBackResponseHeaders } from './forwarding-headers';

const raw = (...pairs: string[]): Buffer[] => pairs.map((text) => Buffer.from(text, 'latin1'));

describe('passedBackResponseHeaders', () => {
  it('keeps only the allowed headers, under their canonical names, never Set-Cookie', () => {
    const headers = passedBackResponseHeaders(
      raw(
        'content-type', 'application/fhir+json',
        'Set-Cookie', 'a=b',
        'CONTENT-LENGTH', '12',
        'Server', 'nginx',
        'x_ers_transaction_id', 'tx-1',
        'etag', 'W/"3"',
        'Location', '/ers-api/STU3/v1/ReferralRequest/1',
        'retry-after', '5',
        'Content-Disposition', 'attachment; filename="a.pdf"',
        'Date', 'Fri, 27 Nov 2026 01:00:00 GMT',
      ),
    );
    expect(headers).toEqual({
      'Content-Type': 'application/fhir+json',
      'Content-Length': '12',
      X_ERS_TRANSACTION_ID: 'tx-1',
      ETag: 'W/"3"',
      Location: '/ers-api/STU3/v1/ReferralRequest/1',
      'Retry-After': '5',
      'Content-Disposition': 'attachment; filename="a.pdf"',
    });
  });

  it('passes bytes above 0x7f through unchanged (latin1 both ways, as node:http writes them)', () => {
    const value = Buffer.from([0x61, 0x74, 0x74, 0x61, 0x63, 0x68, 0x3b, 0x20, 0xc3, 0xa9]);
    const headers = passedBackResponseHeaders([Buffer.from('Content-Disposition'), value]);
    expect(Buffer.from(headers['Content-Disposition']!, 'latin1')).toEqual(value);
  });

  it('drops a header e-RS sends twice (or three times), and keeps the others', () => {
    const headers = passedBackResponseHeaders(
      raw('Content-Length', '1', 'Content-Type', 'text/plain', 'content-length', '2', 'Content-Length', '3'),
    );
    expect(headers).toEqual({ 'Content-Type': 'text/plain' });
  });
});

/** A stand-in for the browser's response: records what it is given; `slow` answers `false` and drains later. */
class FakeWriter extends EventEmitter implements AnswerWriter {
  destroyed = false;
  ended = false;
  destroyError: Error | undefined;
  readonly chunks: Buffer[] = [];

  constructor(private readonly slow = false) {
    super();
  }

  write(chunk: Buffer): boolean {
    if (this.destroyed) return false;
    this.chunks.push(chunk);
    if (!this.slow) return true;
    setImmediate(() => this.emit('drain'));
    return false;
  }

  end(): void {
    this.ended = true;
    setImmediate(() => this.close());
  }

  destroy(error?: Error): void {
    this.destroyError = error;
    this.close();
  }

  close(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.emit('close');
  }

  body(): Buffer {
    return Buffer.concat(this.chunks);
  }
}

class Sink {
  heads: ForwardedHead[] = [];
  constructor(readonly writer: AnswerWriter) {}
  open(head: ForwardedHead): AnswerWriter {
    this.heads.push(head);
    return this.writer;
  }
}

describe('ErsForwarder', () => {
  let server: Server;
  let port: number;
  let handle: (request: IncomingMessage, response: ServerResponse) => void = () => undefined;
  /** Whether each upstream request's connection closed before its answer finished. */
  const upstreamClosedEarly: Promise<boolean>[] = [];
  const sockets = new Set<Socket>();
  let forwarder: ErsForwarder;

  beforeAll(async () => {
    server = createServer((request, response) => {
      upstreamClosedEarly.push(
        new Promise((resolve) => response.on('close', () => resolve(!response.writableFinished))),
      );
      handle(request, response);
    });
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    forwarder = new ErsForwarder({ baseUrl: `http://127.0.0.1:${port}/ers-api`, asid: '200000000220', timeoutMs: 1500, maxConnections: 4 });
  });

  afterEach(() => {
    upstreamClosedEarly.length = 0;
  });

  afterAll(async () => {
    await forwarder.close();
    for (const socket of sockets) socket.destroy();
    await new Promise((resolve) => server.close(resolve));
  });

  const call = (sink: Sink, path = 'STU3/v1/Thing/1'): Promise<void> =>
    forwarder.forwardTo({ method: 'GET', path, headers: { accept: 'application/json' }, body: null, sessionKey: 'key', correlationId: 'c-1' }, sink);

  it('gives the sink the status, the passed-back headers and the transaction id, then the body, and settles after the end', async () => {
    handle = (request, response) => {
      const body = `{"path":"${request.url}"}`;
      response.writeHead(201, { 'content-type': 'application/fhir+json', 'content-length': body.length, x_ers_transaction_id: 'tx-9', 'set-cookie': 'x=y', 'x-other': '1' });
      response.end(body);
    };
    const writer = new FakeWriter();
    const sink = new Sink(writer);
    await call(sink);
    expect(sink.heads).toEqual([
      { status: 201, headers: { 'Content-Type': 'application/fhir+json', 'Content-Length': '35', X_ERS_TRANSACTION_ID: 'tx-9' }, transactionId: 'tx-9' },
    ]);
    expect(writer.body().toString()).toBe('{"path":"/ers-api/STU3/v1/Thing/1"}');
    expect(writer.ended).toBe(true);
    expect(writer.destroyError).toBeUndefined();
  });

  it('waits for drain when the browser is slower than e-RS, and delivers every byte in order', async () => {
    const body = Buffer.alloc(3 * 1024 * 1024);
    for (let index = 0; index < body.length; index++) body[index] = index % 251;
    handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': body.length });
      response.end(body);
    };
    const writer = new FakeWriter(true);
    await call(new Sink(writer));
    expect(writer.chunks.length).toBeGreaterThan(1);
    expect(writer.body().equals(body)).toBe(true);
    expect(await upstreamClosedEarly[0]).toBe(false);
  });

  it('a browser that goes away mid-answer cuts the e-RS call off at once (not at the timeout)', async () => {
    handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.write(Buffer.alloc(1024));
      // ... and holds the rest.
    };
    const writer = new FakeWriter();
    writer.write = function (this: FakeWriter, chunk: Buffer): boolean {
      this.chunks.push(chunk);
      setImmediate(() => this.close());
      return true;
    };
    const started = Date.now();
    await expect(call(new Sink(writer))).rejects.toBeInstanceOf(AnswerAbandonedError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await upstreamClosedEarly[0]).toBe(true);
  });

  it('a browser already gone when e-RS answers: the call is cut off at once', async () => {
    handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream' });
      response.write(Buffer.alloc(1024));
    };
    const writer = new FakeWriter();
    writer.close();
    const started = Date.now();
    await expect(call(new Sink(writer))).rejects.toBeInstanceOf(AnswerAbandonedError);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(await upstreamClosedEarly[0]).toBe(true);
  });

  it('e-RS dropping the connection mid-answer destroys the writer and rejects with ErsUnavailableError', async () => {
    handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 4096 });
      response.write(Buffer.alloc(1024), () => response.socket?.destroy());
    };
    const writer = new FakeWriter();
    await expect(call(new Sink(writer))).rejects.toBeInstanceOf(ErsUnavailableError);
    expect(writer.destroyed).toBe(true);
    expect(writer.destroyError).toBeInstanceOf(Error);
    expect(writer.ended).toBe(false);
  });

  it('e-RS stalling mid-answer: the writer is destroyed and the call rejects with ErsTimeoutError', async () => {
    handle = (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': 4096 });
      response.write(Buffer.alloc(1024));
    };
    const writer = new FakeWriter();
    await expect(call(new Sink(writer))).rejects.toBeInstanceOf(ErsTimeoutError);
    expect(writer.destroyed).toBe(true);
  });

  it('a writer that refuses a chunk (throws) fails the call with its error and cuts e-RS off', async () => {
    handle = (_request, response) => {
      response.writeHead(403, { 'content-type': 'application/fhir+json' });
      response.write(Buffer.alloc(2048));
    };
    const writer = new FakeWriter();
    writer.write = (): boolean => {
      throw new Error('403 body too large');
    };
    await expect(call(new Sink(writer))).rejects.toThrow('403 body too large');
    expect(await upstreamClosedEarly[0]).toBe(true);
  });

  it('e-RS not listening: ErsUnavailableError, and the sink is never opened', async () => {
    const closed = new ErsForwarder({ baseUrl: 'http://127.0.0.1:9/ers-api', asid: '1', timeoutMs: 1000, maxConnections: 1 });
    const sink = new Sink(new FakeWriter());
    await expect(
      closed.forwardTo({ method: 'GET', path: 'v1/x', headers: {}, body: null, sessionKey: 'k', correlationId: 'c' }, sink),
    ).rejects.toBeInstanceOf(ErsUnavailableError);
    expect(sink.heads).toEqual([]);
    await closed.close();
  });
});
