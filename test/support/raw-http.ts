import { connect, type Socket } from 'node:net';

/** An HTTP answer read off a raw socket. */
export interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: string;
}

/**
 * Sends `text` exactly as written (request line, headers, body) on a new TCP connection and reads
 * one answer: what curl's `--request-target` and a hand-written request do, which no HTTP client
 * library will (they normalise the target). The answer's body is read to its Content-Length.
 */
export async function rawRequest(port: number, text: string, timeoutMs = 10_000): Promise<RawAnswer> {
  const socket = await open(port);
  try {
    socket.write(text);
    return await readAnswer(socket, timeoutMs);
  } finally {
    socket.destroy();
  }
}

/**
 * Opens a connection, writes `text` (a request cut short, or nothing at all) and resolves with
 * how long the server took to close it (ms), or rejects when it is still open after `limitMs`.
 * `trickle` writes one more byte every so often, as a slow client would.
 */
export async function closedAfter(port: number, text: string, limitMs: number, trickle?: { everyMs: number; byte: string }): Promise<number> {
  const socket = await open(port);
  const started = performance.now();
  let timer: NodeJS.Timeout | undefined;
  try {
    if (text !== '') socket.write(text);
    if (trickle !== undefined) timer = setInterval(() => socket.write(trickle.byte), trickle.everyMs);
    return await new Promise<number>((resolve, reject) => {
      const limit = setTimeout(() => reject(new Error(`the connection was still open after ${limitMs} ms`)), limitMs);
      socket.resume();
      socket.once('close', () => {
        clearTimeout(limit);
        resolve(performance.now() - started);
      });
    });
  } finally {
    clearInterval(timer);
    socket.destroy();
  }
}

export function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.once('error', reject);
  });
}

function readAnswer(socket: Socket, timeoutMs: number): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let buffer = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no complete answer within ${timeoutMs} ms: ${buffer.toString('latin1')}`)), timeoutMs);
    const done = (answer: RawAnswer): void => {
      clearTimeout(timer);
      socket.removeAllListeners('data');
      resolve(answer);
    };
    const parse = (ended: boolean): void => {
      const headEnd = buffer.indexOf('\r\n\r\n');
      if (headEnd === -1) {
        if (ended) reject(new Error(`the connection closed before an answer: ${buffer.toString('latin1')}`));
        return;
      }
      const [statusLine, ...lines] = buffer.subarray(0, headEnd).toString('latin1').split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const status = Number(statusLine?.split(' ')[1]);
      const length = Number(headers['content-length'] ?? 'NaN');
      const body = buffer.subarray(headEnd + 4);
      if (Number.isFinite(length) && body.length >= length) done({ status, headers, body: body.subarray(0, length).toString('utf8') });
      else if (ended) done({ status, headers, body: body.toString('utf8') });
    };
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      parse(false);
    });
    socket.once('end', () => parse(true));
    socket.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}
