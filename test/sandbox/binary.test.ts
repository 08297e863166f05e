import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { ERS_ASID_HEADER, ERS_SESSION_KEY_HEADER } from '@libs/ers-contract';
import { ASID, TestSandbox } from './support/sandbox-harness';

const FIVE_MIB = 5 * 1024 * 1024;
const sha256 = (data: Buffer): string => createHash('sha256').update(data).digest('hex');

interface BinaryFixtureView {
  id: string;
  ubrn: string;
  fileName: string;
  bytes: number;
  sha256: string;
  contentType: string;
}
interface UploadView {
  id: string;
  fileName: string;
  intendedUbrn: string | null;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  state: string;
}

async function waitFor<T>(probe: () => Promise<T | undefined>, what: string, timeoutMs = 5_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('sandbox attachments (A006) and uploads (A020)', () => {
  let sandbox: TestSandbox;
  let key: string;
  beforeAll(async () => {
    sandbox = await TestSandbox.start();
  });
  afterAll(async () => {
    await sandbox.close();
  });
  beforeEach(async () => {
    await sandbox.control('POST', '/reset');
    key = (await sandbox.session('provider-three-roles', 'SERVICE_PROVIDER_CLINICIAN')).key;
  });

  it('lists the fixture binaries with sizes and sha256', async () => {
    const binaries = await sandbox.control<BinaryFixtureView[]>('GET', '/fixtures/binaries');
    expect(binaries.map((b) => b.id)).toEqual(['att-70000-letter', 'att-70000-results', 'att-70001-scan', 'att-hold', 'att-70003-letter']);
    expect(binaries.find((b) => b.id === 'att-70001-scan')).toMatchObject({ bytes: FIVE_MIB, contentType: 'application/octet-stream' });
    for (const binary of binaries) expect(binary.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('A006: streams the 5 MiB attachment with its length, type, disposition and the right sha256', async () => {
    const fixture = (await sandbox.control<BinaryFixtureView[]>('GET', '/fixtures/binaries')).find((b) => b.id === 'att-70001-scan');
    const answer = await sandbox.ers('GET', '/STU3/v1/Binary/att-70001-scan', { sessionKey: key });
    expect(answer.status).toBe(200);
    expect(answer.headers['content-type']).toBe('application/octet-stream');
    expect(answer.headers['content-length']).toBe(String(FIVE_MIB));
    expect(answer.headers['content-disposition']).toBe('attachment; filename="echocardiogram-scan.bin"');
    expect(answer.body.length).toBe(FIVE_MIB);
    expect(sha256(answer.body)).toBe(fixture?.sha256);
    // Deterministic: a second download is byte-identical.
    const again = await sandbox.ers('GET', '/STU3/v1/Binary/att-70001-scan', { sessionKey: key });
    expect(sha256(again.body)).toBe(sha256(answer.body));
  });

  it('A006: serves the small text and PDF attachments with their own media types', async () => {
    const fixtures = await sandbox.control<BinaryFixtureView[]>('GET', '/fixtures/binaries');
    const letter = await sandbox.ers('GET', '/STU3/v1/Binary/att-70000-letter', { sessionKey: key });
    expect(letter.headers['content-type']).toBe('text/plain');
    expect(letter.text).toContain('Dear colleague');
    expect(sha256(letter.body)).toBe(fixtures.find((b) => b.id === 'att-70000-letter')?.sha256);
    const pdf = await sandbox.ers('GET', '/STU3/v1/Binary/att-70000-results', { sessionKey: key });
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toBe('attachment; filename="blood-results.pdf"');
    expect(pdf.body.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const unknown = await sandbox.ers('GET', '/STU3/v1/Binary/att-nope', { sessionKey: key });
    expect(unknown.status).toBe(404);
  });

  it('A006 att-hold: sends 64 KiB, waits for the release, then the rest', async () => {
    const fixture = (await sandbox.control<BinaryFixtureView[]>('GET', '/fixtures/binaries')).find((b) => b.id === 'att-hold');
    const response = await request(`${sandbox.origin}/ers-api/STU3/v1/Binary/att-hold`, {
      dispatcher: sandbox.agent,
      headers: [ERS_ASID_HEADER, ASID, ERS_SESSION_KEY_HEADER, key],
    });
    expect(response.statusCode).toBe(200);
    const chunks: Buffer[] = [];
    let received = 0;
    const reader = response.body[Symbol.asyncIterator]();
    while (received < 64 * 1024) {
      const next = await reader.next();
      if (next.done === true) throw new Error('ended early');
      const chunk = next.value as Buffer;
      chunks.push(chunk);
      received += chunk.length;
    }
    expect(received).toBe(64 * 1024);
    expect((await sandbox.control<{ waiting: number }>('GET', '/holds')).waiting).toBe(1);
    // Nothing more arrives while held.
    let pendingNext = reader.next();
    const early = await Promise.race([pendingNext, new Promise((resolve) => setTimeout(() => resolve('held'), 300))]);
    expect(early).toBe('held');

    expect(await sandbox.control('POST', '/holds/release')).toEqual({ released: 1 });
    for (;;) {
      const next = await pendingNext;
      pendingNext = reader.next();
      if (next.done === true) break;
      chunks.push(next.value as Buffer);
    }
    const body = Buffer.concat(chunks);
    expect(body.length).toBe(fixture?.bytes);
    expect(sha256(body)).toBe(fixture?.sha256);
  });

  it('A020: stores the upload, answers 201 + Location, records sha256; A006 serves it back', async () => {
    const data = randomBytes(300_000);
    const answer = await sandbox.ers('POST', '/STU3/v1/Binary', {
      sessionKey: key,
      headers: [
        ['Content-Type', 'image/png'],
        ['X-ERS-XAPI-META-FILE_NAME', 'scan.png'],
        ['X-ERS-XAPI-META-INTENDED_UBRN', '000000070000'],
      ],
      body: data,
    });
    expect(answer.status).toBe(201);
    const location = String(answer.headers['location']);
    expect(location).toMatch(new RegExp(`^${sandbox.origin}/ers-api/STU3/v1/Binary/att-[0-9a-f-]{36}$`));
    const id = location.split('/').pop() ?? '';

    const uploads = await sandbox.control<UploadView[]>('GET', '/uploads');
    expect(uploads).toEqual([
      expect.objectContaining({ id, fileName: 'scan.png', intendedUbrn: '000000070000', bytes: data.length, sha256: sha256(data), complete: true }),
    ]);
    const back = await sandbox.ers('GET', `/STU3/v1/Binary/${id}`, { sessionKey: key });
    expect(back.headers['content-type']).toBe('image/png');
    expect(sha256(back.body)).toBe(sha256(data));
  });

  it('A020: accepts exactly 5 MiB and answers 5 MiB + 1 byte 422 FILE_SIZE_ERROR (the A020 page)', async () => {
    const exact = randomBytes(FIVE_MIB);
    const accepted = await sandbox.ers('POST', '/STU3/v1/Binary', {
      sessionKey: key,
      headers: [['Content-Type', 'application/octet-stream'], ['X-ERS-XAPI-META-FILE_NAME', 'exact.bin']],
      body: exact,
    });
    expect(accepted.status).toBe(201);

    const over = Buffer.concat([exact, Buffer.from([7])]);
    const refused = await sandbox.ers('POST', '/STU3/v1/Binary', {
      sessionKey: key,
      headers: [['Content-Type', 'application/octet-stream'], ['X-ERS-XAPI-META-FILE_NAME', 'over.bin']],
      body: over,
    });
    expect(refused.status).toBe(422);
    expect(refused.json<{ resourceType: string; issue: { code: string }[] }>()).toMatchObject({
      resourceType: 'OperationOutcome',
      issue: [{ code: 'too-long', details: { coding: [{ code: 'FILE_SIZE_ERROR' }] } }],
    });
    const uploads = await sandbox.control<UploadView[]>('GET', '/uploads');
    expect(uploads.map((u) => [u.fileName, u.bytes, u.complete, u.state])).toEqual([
      ['exact.bin', FIVE_MIB, true, 'complete'],
      ['over.bin', FIVE_MIB + 1, false, 'rejected'],
    ]);
    expect(uploads[1]?.sha256).toBe(sha256(over));
  });

  it('A020: shows an upload’s progress while the client is still sending', async () => {
    let releaseRest: () => void = () => undefined;
    const rest = new Promise<void>((resolve) => {
      releaseRest = resolve;
    });
    const first = randomBytes(1024 * 1024);
    const second = randomBytes(512 * 1024);
    async function* slowBody(): AsyncGenerator<Buffer> {
      yield first;
      await rest;
      yield second;
    }
    const pending = sandbox.ers('POST', '/STU3/v1/Binary', {
      sessionKey: key,
      headers: [
        ['Content-Type', 'application/octet-stream'],
        ['Content-Length', String(first.length + second.length)],
        ['X-ERS-XAPI-META-FILE_NAME', 'slow.bin'],
      ],
      body: Readable.from(slowBody()),
    });
    const inProgress = await waitFor(async () => {
      const [upload] = await sandbox.control<UploadView[]>('GET', '/uploads');
      return upload !== undefined && upload.bytes >= first.length ? upload : undefined;
    }, 'the first MiB to arrive');
    expect(inProgress).toMatchObject({ bytes: first.length, complete: false, state: 'receiving', sha256: null });

    releaseRest();
    const answer = await pending;
    expect(answer.status).toBe(201);
    const [done] = await sandbox.control<UploadView[]>('GET', '/uploads');
    expect(done).toMatchObject({ bytes: first.length + second.length, complete: true, sha256: sha256(Buffer.concat([first, second])) });
  });

  it('A020: requires X-ERS-XAPI-META-FILE_NAME (422) and a role that may upload', async () => {
    const missing = await sandbox.ers('POST', '/STU3/v1/Binary', {
      sessionKey: key,
      headers: [['Content-Type', 'text/plain']],
      body: 'hello',
    });
    expect(missing.status).toBe(422);
    expect(missing.json<{ resourceType: string }>().resourceType).toBe('OperationOutcome');
    expect(missing.text).toContain('"code":"MISSING_VALUE"');
    expect(await sandbox.control<UploadView[]>('GET', '/uploads')).toEqual([]);
  });
});

describe('sandbox uploads refused before they are read', () => {
  let sandbox: TestSandbox;
  beforeAll(async () => {
    sandbox = await TestSandbox.start();
  });
  afterAll(async () => {
    await sandbox.close();
  });

  it('answers an A020 with a dead key with a bare 403, drains the body and keeps serving', async () => {
    const data = randomBytes(FIVE_MIB);
    for (let i = 0; i < 3; i += 1) {
      const answer = await sandbox.ers('POST', '/STU3/v1/Binary', {
        sessionKey: 'pro-xapi-session_dead',
        headers: [['Content-Type', 'application/octet-stream'], ['X-ERS-XAPI-META-FILE_NAME', 'x.bin']],
        body: data,
      });
      expect(answer.status).toBe(403);
      expect(answer.text).toBe('');
    }
    // The body is drained (and still counted) after the answer, while the client finishes sending.
    const recorded = await waitFor(async () => {
      const [last] = await sandbox.control<{ bodyBytes: number; bodySha256: string | null }[]>('GET', '/requests?limit=1');
      return last?.bodySha256 === null ? undefined : last;
    }, 'the refused body to be drained');
    expect(recorded).toMatchObject({ bodyBytes: FIVE_MIB, bodySha256: sha256(data) });
    expect((await sandbox.control<unknown[]>('GET', '/uploads'))).toEqual([]);
    expect((await sandbox.call('GET', '/_sandbox/cards')).status).toBe(200);
  });
});
