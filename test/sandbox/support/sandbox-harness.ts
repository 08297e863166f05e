import { Agent, request } from 'undici';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Dispatcher } from 'undici';
import { ERS_ASID_HEADER, ERS_SESSION_KEY_HEADER, PROFESSIONAL_SESSION_TYPE_INFO, type ProfessionalSession } from '@libs/ers-contract';
import { createSandboxApp, type RunningSandbox } from '../../../apps/ers-sandbox/src/bootstrap';
import { SANDBOX_DEFAULTS, type SandboxConfig } from '../../../apps/ers-sandbox/src/config/sandbox-config';
import type { TestCard } from '../../../apps/ers-sandbox/src/fixtures/cards';

export const ASID = SANDBOX_DEFAULTS.asid;

/** Header list with names sent exactly as written (undici keeps the case of the names given). */
export type HeaderList = [string, string][];

export interface HttpAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json<T = unknown>(): T;
}

export interface CallOptions {
  headers?: HeaderList;
  body?: string | Buffer | NodeJS.ReadableStream | Dispatcher.DispatchOptions['body'];
  signal?: AbortSignal;
}

/**
 * The sandbox of the enclosing `describe`: started before its tests, reset before each one, closed
 * after them. What it returns stands for that sandbox once it has started.
 */
export function useTestSandbox(): TestSandbox {
  let started: TestSandbox | undefined;
  beforeAll(async () => {
    started = await TestSandbox.start();
  });
  afterAll(async () => {
    await started?.close();
  });
  beforeEach(async () => {
    await current().control('POST', '/reset');
  });
  const current = (): TestSandbox => {
    if (started === undefined) throw new Error('the sandbox is used before it has started');
    return started;
  };
  return new Proxy({} as TestSandbox, {
    get(_target, property) {
      const sandbox = current();
      const value: unknown = Reflect.get(sandbox, property, sandbox);
      return typeof value === 'function' ? value.bind(sandbox) : value;
    },
  });
}

/** A sandbox booted in-process with the production bootstrap, on 127.0.0.1 and a free port. */
export class TestSandbox {
  readonly agent = new Agent({ keepAliveTimeout: 1_000, connections: 16 });

  private constructor(readonly running: RunningSandbox) {}

  static async start(overrides: Partial<SandboxConfig> = {}): Promise<TestSandbox> {
    const running = await createSandboxApp({
      ...SANDBOX_DEFAULTS,
      host: '127.0.0.1',
      port: 0,
      logLevel: 'silent',
      a016DelayMs: 0,
      ...overrides,
    });
    return new TestSandbox(running);
  }

  get origin(): string {
    return this.running.origin;
  }

  async close(): Promise<void> {
    await this.agent.close();
    await this.running.close();
  }

  /** Any HTTP call; headers go on the wire with exactly the names given. */
  async call(method: Dispatcher.HttpMethod, path: string, options: CallOptions = {}): Promise<HttpAnswer> {
    const response = await request(`${this.origin}${path}`, {
      method,
      dispatcher: this.agent,
      headers: (options.headers ?? []).flat(),
      body: options.body as Dispatcher.DispatchOptions['body'],
      signal: options.signal,
    });
    const body = Buffer.from(await response.body.arrayBuffer());
    const text = body.toString('utf8');
    return {
      status: response.statusCode,
      headers: response.headers,
      body,
      text,
      json: <T>() => JSON.parse(text) as T,
    };
  }

  /** An e-RS call with the ASID header (and the session key, when given). */
  ers(method: Dispatcher.HttpMethod, path: string, options: CallOptions & { sessionKey?: string; json?: unknown } = {}): Promise<HttpAnswer> {
    const headers: HeaderList = [[ERS_ASID_HEADER, ASID]];
    if (options.sessionKey !== undefined) headers.push([ERS_SESSION_KEY_HEADER, options.sessionKey]);
    if (options.json !== undefined) headers.push(['Content-Type', 'application/json']);
    headers.push(...(options.headers ?? []));
    return this.call(method, `/ers-api${path}`, {
      ...options,
      headers,
      body: options.json === undefined ? options.body : JSON.stringify(options.json),
    });
  }

  async control<T = unknown>(method: Dispatcher.HttpMethod, path: string, json?: unknown): Promise<T> {
    const answer = await this.call(method, `/_sandbox${path}`, {
      headers: json === undefined ? [] : [['Content-Type', 'application/json']],
      body: json === undefined ? undefined : JSON.stringify(json),
    });
    if (answer.status >= 300) throw new Error(`${method} /_sandbox${path}: ${answer.status} ${answer.text}`);
    return (answer.text === '' ? undefined : answer.json()) as T;
  }

  async cards(): Promise<TestCard[]> {
    return this.control<TestCard[]>('GET', '/cards');
  }

  async card(label: string): Promise<TestCard> {
    const card = (await this.cards()).find((candidate) => candidate.label === label);
    if (card === undefined) throw new Error(`no card ${label}`);
    return card;
  }

  /** A001 with the card's token; returns the answer. */
  a001(token: string): Promise<HttpAnswer> {
    return this.ers('POST', '/v1/ProfessionalSession', {
      json: { typeInfo: PROFESSIONAL_SESSION_TYPE_INFO, token },
    });
  }

  a002(key: string, token: string, permission: { businessFunction: string; orgIdentifier: string }): Promise<HttpAnswer> {
    return this.ers('PUT', `/v1/ProfessionalSession/${encodeURIComponent(key)}`, {
      sessionKey: key,
      json: { typeInfo: PROFESSIONAL_SESSION_TYPE_INFO, token, permission },
    });
  }

  a003(key: string): Promise<HttpAnswer> {
    return this.ers('DELETE', `/v1/ProfessionalSession/${encodeURIComponent(key)}`, { sessionKey: key });
  }

  /** A001 + A002: a live session with the given role; returns the key to use. */
  async session(cardLabel: string, businessFunction: string, orgIdentifier?: string): Promise<{ key: string; card: TestCard }> {
    const card = await this.card(cardLabel);
    const created = await this.a001(card.token);
    if (created.status !== 201) throw new Error(`A001 answered ${created.status}`);
    const permission = card.permissions.find(
      (p) => p.businessFunction === businessFunction && (orgIdentifier === undefined || p.orgIdentifier === orgIdentifier),
    );
    if (permission === undefined) throw new Error(`${cardLabel} has no ${businessFunction}`);
    const selected = await this.a002(created.json<ProfessionalSession>().id, card.token, permission);
    if (selected.status !== 200) throw new Error(`A002 answered ${selected.status}`);
    return { key: selected.json<ProfessionalSession>().id, card };
  }
}
