import { Test, type TestingModule } from '@nestjs/testing';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ErsClientModule } from './ers-client.module';
import { ErsClientOptions } from './ers-client.options';
import { ErsSessionClient } from './ers-session-client.port';
import {
  ErsBusyError,
  ErsClientError,
  ErsRejectedError,
  ErsRoleAlreadySelectedError,
  ErsRoleRejectedError,
  ErsTimeoutError,
  ErsTokenRejectedError,
  ErsUnavailableError,
  ErsUnexpectedResponseError,
} from './errors';

const ASID = '200000000220';
const TOKEN = 'AQIC5wM2LY4Sfcyw62EbAOsRpdfbGYUOyvkfZ4M6U7W52lM=@AAJTSQACMDE=#';
const SESSION_KEY = 'pro-api-session:6f1c1b9e-0d7a-4d3e-9a55-2f1f0c2b7a11';
const NEW_SESSION_KEY = 'pro-api-session:0b7e8e02-5c7e-4b8e-9a0d-3b2f3c4d5e6f';
const TIMEOUT_MS = 800;
const ROLE = { businessFunction: 'REFERRING_CLINICIAN', orgIdentifier: 'R01' };
const PERMISSION = { ...ROLE, orgName: '  ROYAL TEST HOSPITAL' };

interface Received {
  method: string;
  url: string;
  rawHeaders: string[];
  body: string;
}

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

/** e-RS stand-in on port 0: records what arrived, answers with the current handler. */
class StubErs {
  received: Received[] = [];
  handler: Handler = (_req, res) => res.writeHead(500).end();
  private server!: Server;

  async start(): Promise<string> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (chunk: Buffer) => chunks.push(chunk));
      req.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        this.received.push({ method: req.method ?? '', url: req.url ?? '', rawHeaders: req.rawHeaders, body });
        this.handler(req, res, body);
      });
    });
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/ers-api`;
  }

  answer(status: number, body?: unknown): void {
    this.handler = (_req, res) => {
      if (body === undefined) {
        res.writeHead(status).end();
      } else {
        const text = typeof body === 'string' ? body : JSON.stringify(body);
        res.writeHead(status, { 'Content-Type': 'application/json' }).end(text);
      }
    };
  }

  last(): Received {
    const last = this.received.at(-1);
    if (last === undefined) throw new Error('nothing received');
    return last;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

/** Header names exactly as they came over the wire (rawHeaders alternates name, value). */
function rawHeaderNames(received: Received): string[] {
  return received.rawHeaders.filter((_, index) => index % 2 === 0);
}
function rawHeader(received: Received, name: string): string | undefined {
  const index = received.rawHeaders.findIndex((value, i) => i % 2 === 0 && value === name);
  return index === -1 ? undefined : received.rawHeaders[index + 1];
}

function professionalSession(id: string, permission: typeof PERMISSION | null): Record<string, unknown> {
  return {
    typeInfo: 'uk.nhs.ers.xapi.dto.v1.session.ProfessionalSession',
    id,
    token: TOKEN, // e-RS echoes the token back
    user: {
      identifier: '555020964101',
      firstName: 'Ada',
      lastName: 'Lovelace',
      middleName: null,
      permissions: [PERMISSION, { businessFunction: 'SERVICE_PROVIDER_ADMIN', orgIdentifier: 'R02', orgName: 'Other' }],
    },
    permission,
  };
}

async function clientFor(baseUrl: string, timeoutMs = TIMEOUT_MS): Promise<{ client: ErsSessionClient; module: TestingModule }> {
  const module = await Test.createTestingModule({
    imports: [ErsClientModule.forRoot({ baseUrl, asid: ASID, timeoutMs })],
  }).compile();
  return { client: module.get<ErsSessionClient>(ErsSessionClient), module };
}

async function caught(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

const stub = new StubErs();
let client: ErsSessionClient;
let module: TestingModule;
let baseUrl: string;
/** Every error the client threw in this file, checked for secrets at the end. */
const errors: unknown[] = [];

async function failure(promise: Promise<unknown>): Promise<unknown> {
  const error = await caught(promise);
  errors.push(error);
  return error;
}

beforeAll(async () => {
  baseUrl = await stub.start();
  ({ client, module } = await clientFor(baseUrl));
});
afterAll(async () => {
  await module.close();
  await stub.stop();
});
afterEach(() => {
  stub.received = [];
});

describe('ProfessionalSessionClient A001 createSession', () => {
  it('posts typeInfo and token with XAPI_ASID and JSON headers, spelled exactly', async () => {
    stub.answer(201, professionalSession(SESSION_KEY, null));
    await client.createSession(TOKEN);
    const request = stub.last();
    expect(request.method).toBe('POST');
    expect(request.url).toBe('/ers-api/v1/ProfessionalSession');
    expect(JSON.parse(request.body)).toEqual({
      typeInfo: 'uk.nhs.ers.xapi.dto.v1.session.ProfessionalSession',
      token: TOKEN,
    });
    expect(rawHeaderNames(request)).toContain('XAPI_ASID');
    expect(rawHeader(request, 'XAPI_ASID')).toBe(ASID);
    expect(rawHeader(request, 'Content-Type')).toBe('application/json');
    expect(rawHeader(request, 'Accept')).toBe('application/json');
    expect(rawHeaderNames(request).map((name) => name.toLowerCase())).not.toContain('http_x_session_key');
  });

  it('answers 201 with the session key, the user and the permissions (not the token)', async () => {
    stub.answer(201, professionalSession(SESSION_KEY, null));
    const opened = await client.createSession(TOKEN);
    expect(opened).toEqual({
      sessionKey: SESSION_KEY,
      user: { identifier: '555020964101', firstName: 'Ada', lastName: 'Lovelace', middleName: null },
      permissions: [PERMISSION, { businessFunction: 'SERVICE_PROVIDER_ADMIN', orgIdentifier: 'R02', orgName: 'Other' }],
    });
    expect(JSON.stringify(opened)).not.toContain(TOKEN);
  });

  it('accepts a user without permissions (the gateway decides what that means)', async () => {
    const body = professionalSession(SESSION_KEY, null);
    (body['user'] as { permissions: unknown[] }).permissions = [];
    stub.answer(201, body);
    expect((await client.createSession(TOKEN)).permissions).toEqual([]);
  });

  it('maps 403 to ErsTokenRejectedError', async () => {
    stub.answer(403);
    const error = await failure(client.createSession(TOKEN));
    expect(error).toBeInstanceOf(ErsTokenRejectedError);
    expect(error).toMatchObject({ operation: 'A001', status: 403 });
  });

  it('maps 422 to ErsRejectedError(A001, 422)', async () => {
    stub.answer(422, { resourceType: 'OperationOutcome', issue: [] });
    const error = await failure(client.createSession(TOKEN));
    expect(error).toBeInstanceOf(ErsRejectedError);
    expect(error).not.toBeInstanceOf(ErsTokenRejectedError);
    expect(error).toMatchObject({ operation: 'A001', status: 422 });
  });

  it.each([500, 502, 401, 404, 302])('maps %i to ErsUnexpectedResponseError with the status', async (status) => {
    stub.handler = (_req, res) => res.writeHead(status, { Location: 'https://elsewhere.example/' }).end();
    const error = await failure(client.createSession(TOKEN));
    expect(error).toBeInstanceOf(ErsUnexpectedResponseError);
    expect(error).toMatchObject({ operation: 'A001', status });
    expect(stub.received).toHaveLength(1); // no retry, no redirect followed
  });

  const malformed: [string, unknown][] = [
    ['not JSON', '{"id": '],
    ['an array', []],
    ['no id', { ...professionalSession(SESSION_KEY, null), id: undefined }],
    ['an empty id', professionalSession('', null)],
    ['an id with a newline', professionalSession('pro-api-session:1\r\nX: y', null)],
    ['a numeric id', { ...professionalSession(SESSION_KEY, null), id: 42 }],
    ['no user', { ...professionalSession(SESSION_KEY, null), user: null }],
    ['no permissions', { ...professionalSession(SESSION_KEY, null), user: { identifier: '1', firstName: 'a', lastName: 'b', middleName: null } }],
    ['permissions not an array', { ...professionalSession(SESSION_KEY, null), user: { identifier: '1', firstName: 'a', lastName: 'b', middleName: null, permissions: {} } }],
    ['a permission without orgIdentifier', { ...professionalSession(SESSION_KEY, null), user: { identifier: '1', firstName: 'a', lastName: 'b', middleName: null, permissions: [{ businessFunction: 'X', orgName: 'n' }] } }],
    ['a numeric middleName', { ...professionalSession(SESSION_KEY, null), user: { identifier: '1', firstName: 'a', lastName: 'b', middleName: 3, permissions: [] } }],
    ['an empty body', ''],
  ];
  it.each(malformed)('maps a 201 with %s to ErsUnexpectedResponseError', async (_name, body) => {
    stub.answer(201, body);
    const error = await failure(client.createSession(TOKEN));
    expect(error).toBeInstanceOf(ErsUnexpectedResponseError);
    expect(error).toMatchObject({ operation: 'A001', status: 201 });
    expect((error as Error).message).toMatch(/^e-RS answered A001 with 201 but .+ is missing or malformed$/);
  });
});

describe('ProfessionalSessionClient A002 selectRole', () => {
  it('puts typeInfo, token and permission to the encoded path with both headers', async () => {
    stub.answer(200, professionalSession(SESSION_KEY, PERMISSION));
    await client.selectRole(SESSION_KEY, TOKEN, ROLE);
    const request = stub.last();
    expect(request.method).toBe('PUT');
    expect(request.url).toBe(`/ers-api/v1/ProfessionalSession/${encodeURIComponent(SESSION_KEY)}`);
    expect(request.url).toContain('pro-api-session%3A');
    expect(JSON.parse(request.body)).toEqual({
      typeInfo: 'uk.nhs.ers.xapi.dto.v1.session.ProfessionalSession',
      token: TOKEN,
      permission: ROLE,
    });
    expect(rawHeader(request, 'XAPI_ASID')).toBe(ASID);
    expect(rawHeader(request, 'HTTP_X_SESSION_KEY')).toBe(SESSION_KEY);
    expect(rawHeader(request, 'Content-Type')).toBe('application/json');
    expect(rawHeader(request, 'Accept')).toBe('application/json');
  });

  it('returns the id of the A002 answer and the selected permission as sent', async () => {
    stub.answer(200, professionalSession(NEW_SESSION_KEY, PERMISSION));
    expect(await client.selectRole(SESSION_KEY, TOKEN, ROLE)).toEqual({
      sessionKey: NEW_SESSION_KEY,
      permission: PERMISSION,
    });
  });

  it('keeps the old key when the answer has no id', async () => {
    stub.answer(200, { ...professionalSession(SESSION_KEY, PERMISSION), id: undefined });
    expect((await client.selectRole(SESSION_KEY, TOKEN, ROLE)).sessionKey).toBe(SESSION_KEY);
  });

  it('maps 403 to ErsRoleRejectedError and 400 to ErsRoleAlreadySelectedError', async () => {
    stub.answer(403);
    const rejected = await failure(client.selectRole(SESSION_KEY, TOKEN, ROLE));
    expect(rejected).toBeInstanceOf(ErsRoleRejectedError);
    expect(rejected).toMatchObject({ operation: 'A002', status: 403 });
    stub.answer(400);
    const already = await failure(client.selectRole(SESSION_KEY, TOKEN, ROLE));
    expect(already).toBeInstanceOf(ErsRoleAlreadySelectedError);
    expect(already).toMatchObject({ operation: 'A002', status: 400 });
  });

  it.each([
    ['a 200 without permission', professionalSession(SESSION_KEY, null)],
    ['a 200 that is not JSON', 'OK'],
  ])('reads %s as the role asked for, on the same key (the 200 is what matters)', async (_name, body) => {
    stub.answer(200, body);
    const selected = await client.selectRole(SESSION_KEY, TOKEN, ROLE);
    expect(selected).toEqual({ sessionKey: SESSION_KEY, permission: { ...ROLE, orgName: '' } });
  });

  it.each([
    ['500', 500, undefined],
    ['a 200 with another role', 200, professionalSession(SESSION_KEY, { ...PERMISSION, orgIdentifier: 'R99' })],
    ['a 200 with an empty id', 200, professionalSession('', PERMISSION)],
  ])('maps %s to ErsUnexpectedResponseError', async (_name, status, body) => {
    stub.answer(status, body);
    const error = await failure(client.selectRole(SESSION_KEY, TOKEN, ROLE));
    expect(error).toBeInstanceOf(ErsUnexpectedResponseError);
    expect(error).toMatchObject({ operation: 'A002', status });
    expect(stub.received).toHaveLength(1);
  });
});

describe('ProfessionalSessionClient checkSession (is the e-RS session alive?)', () => {
  it('sends the A002 of the role already selected, exactly as a role selection is sent', async () => {
    stub.answer(400);
    await client.checkSession(SESSION_KEY, TOKEN, ROLE);
    const request = stub.last();
    expect(request.method).toBe('PUT');
    expect(request.url).toBe(`/ers-api/v1/ProfessionalSession/${encodeURIComponent(SESSION_KEY)}`);
    expect(JSON.parse(request.body)).toEqual({ typeInfo: 'uk.nhs.ers.xapi.dto.v1.session.ProfessionalSession', token: TOKEN, permission: ROLE });
    expect(rawHeader(request, 'XAPI_ASID')).toBe(ASID);
    expect(rawHeader(request, 'HTTP_X_SESSION_KEY')).toBe(SESSION_KEY);
  });

  it.each([
    [400, undefined, 'live'],
    [200, professionalSession(SESSION_KEY, PERMISSION), 'live'],
    [403, undefined, 'dead'],
  ] as const)('reads %i as %s', async (status, body, liveness) => {
    stub.answer(status, body);
    expect(await client.checkSession(SESSION_KEY, TOKEN, ROLE)).toBe(liveness);
    expect(stub.received).toHaveLength(1);
  });

  it.each([500, 401, 404])('cannot tell from %i: ErsUnexpectedResponseError, never retried', async (status) => {
    stub.answer(status);
    const error = await failure(client.checkSession(SESSION_KEY, TOKEN, ROLE));
    expect(error).toBeInstanceOf(ErsUnexpectedResponseError);
    expect(error).toMatchObject({ operation: 'A002', status });
    expect(stub.received).toHaveLength(1);
  });

  it('has a lane of its own: checks go through while sign-ins fill theirs, and a burst of checks never takes a sign-in\'s slot', async () => {
    const slow = new StubErs();
    const held: ServerResponse[] = [];
    slow.handler = (req, res) => {
      if (req.method === 'PUT') res.writeHead(400).end();
      else held.push(res);
    };
    const module = await Test.createTestingModule({
      imports: [ErsClientModule.forRoot({ baseUrl: await slow.start(), asid: ASID, timeoutMs: 5000, loginConcurrency: 1, checkConcurrency: 1 })],
    }).compile();
    const lanes = module.get<ErsSessionClient>(ErsSessionClient);
    try {
      const signIns = [0, 1, 2, 3, 4].map(() => caught(lanes.createSession(TOKEN)));
      await vi.waitFor(() => expect(held).toHaveLength(1));
      // The sign-ins' lane is full (one running, four waiting): a sixth sign-in is refused…
      expect(await caught(lanes.createSession(TOKEN))).toBeInstanceOf(ErsBusyError);
      // …and a liveness check still goes out and is answered.
      expect(await lanes.checkSession(SESSION_KEY, TOKEN, ROLE)).toBe('live');
      for (const res of held.splice(0)) res.writeHead(403).end();
      await vi.waitFor(() => {
        for (const res of held.splice(0)) res.writeHead(403).end();
        expect(slow.received.filter((r) => r.method === 'POST')).toHaveLength(5);
      });
      await Promise.all(signIns);
    } finally {
      await module.close();
      await slow.stop();
    }
  });
});

describe('ProfessionalSessionClient A003 deleteSession', () => {
  it('deletes the encoded path with both headers and no body', async () => {
    stub.answer(204);
    expect(await client.deleteSession(SESSION_KEY)).toBe('deleted');
    const request = stub.last();
    expect(request.method).toBe('DELETE');
    expect(request.url).toBe('/ers-api/v1/ProfessionalSession/pro-api-session%3A6f1c1b9e-0d7a-4d3e-9a55-2f1f0c2b7a11');
    expect(rawHeader(request, 'XAPI_ASID')).toBe(ASID);
    expect(rawHeader(request, 'HTTP_X_SESSION_KEY')).toBe(SESSION_KEY);
    expect(rawHeader(request, 'Accept')).toBe('application/json');
    expect(request.body).toBe('');
  });

  it('treats 200 as deleted and 403 as already ended', async () => {
    stub.answer(200, {});
    expect(await client.deleteSession(SESSION_KEY)).toBe('deleted');
    stub.answer(403);
    expect(await client.deleteSession(SESSION_KEY)).toBe('already-ended');
  });

  it.each([404, 410])('treats %i (not found) as already ended, without retrying', async (status) => {
    stub.answer(status);
    expect(await client.deleteSession(SESSION_KEY)).toBe('already-ended');
    expect(stub.received).toHaveLength(1);
  });

  it.each([500, 401])('maps %i to ErsUnexpectedResponseError without retrying', async (status) => {
    stub.answer(status);
    const error = await failure(client.deleteSession(SESSION_KEY));
    expect(error).toBeInstanceOf(ErsUnexpectedResponseError);
    expect(error).toMatchObject({ operation: 'A003', status });
    expect(stub.received).toHaveLength(1);
  });
});

describe('ProfessionalSessionClient transport failures', () => {
  it('times out with ErsTimeoutError within the timeout and a small margin', async () => {
    stub.handler = () => {
      /* never answers */
    };
    const started = performance.now();
    const error = await failure(client.createSession(TOKEN));
    const elapsed = performance.now() - started;
    expect(error).toBeInstanceOf(ErsTimeoutError);
    expect(error).toMatchObject({ operation: 'A001', timeoutMs: TIMEOUT_MS });
    expect(elapsed).toBeGreaterThanOrEqual(TIMEOUT_MS - 50);
    expect(elapsed).toBeLessThan(TIMEOUT_MS + 400);
  });

  it('times out on an answer that trickles in slower than the deadline', async () => {
    stub.handler = (_req, res) => {
      res.writeHead(201, { 'Content-Type': 'application/json' });
      // A byte every 200 ms keeps the socket busy: only the whole-call deadline stops this.
      const timer = setInterval(() => res.write(' '), 200);
      res.on('close', () => clearInterval(timer));
    };
    const started = performance.now();
    const error = await failure(client.selectRole(SESSION_KEY, TOKEN, ROLE));
    expect(error).toBeInstanceOf(ErsTimeoutError);
    expect(performance.now() - started).toBeLessThan(TIMEOUT_MS + 400);
  });

  it('maps a reset connection (the server destroys the socket) to ErsUnavailableError', async () => {
    stub.handler = (req) => req.socket.destroy();
    const error = await failure(client.selectRole(SESSION_KEY, TOKEN, ROLE));
    expect(error).toBeInstanceOf(ErsUnavailableError);
    expect(error).toMatchObject({ operation: 'A002', cause: { code: 'ECONNRESET' } });
    expect(stub.received).toHaveLength(1); // not retried
  });

  it('maps a refused connection to ErsUnavailableError', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const refused = await clientFor(`http://127.0.0.1:${port}/ers-api`);
    try {
      const error = await failure(refused.client.deleteSession(SESSION_KEY));
      expect(error).toBeInstanceOf(ErsUnavailableError);
      expect(error).toMatchObject({ operation: 'A003', cause: { code: 'ECONNREFUSED' } });
    } finally {
      await refused.module.close();
    }
  });

  it('refuses an answer bigger than a session answer can be', async () => {
    stub.answer(201, JSON.stringify({ pad: 'x'.repeat(2 * 1024 * 1024) }));
    const error = await failure(client.createSession(TOKEN));
    expect(error).toBeInstanceOf(ErsUnexpectedResponseError);
    expect(error).toMatchObject({ operation: 'A001' });
  });
});

describe('ProfessionalSessionClient module wiring', () => {
  it('provides the options under their own token', () => {
    expect(module.get<ErsClientOptions>(ErsClientOptions)).toMatchObject({ asid: ASID, timeoutMs: TIMEOUT_MS });
  });
});

// Last: every error collected above (timeouts, resets, refusals, bad answers) is free of secrets.
describe('ProfessionalSessionClient errors carry no secrets', () => {
  it('has collected errors of every kind', () => {
    const kinds = new Set(errors.map((error) => (error as Error).name));
    for (const kind of [
      'ErsTokenRejectedError',
      'ErsRejectedError',
      'ErsRoleRejectedError',
      'ErsRoleAlreadySelectedError',
      'ErsUnexpectedResponseError',
      'ErsTimeoutError',
      'ErsUnavailableError',
    ]) {
      expect(kinds).toContain(kind);
    }
  });

  it('never shows the token or the session key in message, cause, JSON or inspect output', () => {
    const secrets = [TOKEN, SESSION_KEY, encodeURIComponent(SESSION_KEY), NEW_SESSION_KEY, '6f1c1b9e-0d7a'];
    for (const error of errors) {
      expect(error).toBeInstanceOf(ErsClientError);
      const e = error as Error & { cause?: unknown };
      const texts = [
        e.message,
        String(e.stack),
        JSON.stringify(e),
        JSON.stringify(e.cause ?? null),
        inspect(e, { depth: 10, showHidden: true }),
      ];
      for (const text of texts) {
        for (const secret of secrets) expect(text).not.toContain(secret);
      }
      // Never axios's error (its config holds the headers and the body).
      expect(inspect(e, { depth: 10, showHidden: true })).not.toMatch(/AxiosError|XAPI_ASID|"config"/);
    }
  });
});
