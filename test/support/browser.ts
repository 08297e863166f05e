import { Agent, type Dispatcher } from 'undici';
import { type Card } from './sandbox-control';

/** One agent for every test browser; paths are sent exactly as written (no URL normalising). */
const agent: Dispatcher = new Agent({ keepAliveTimeout: 1000 });

/** A parsed JSON body; the tests' assertions check its shape. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- read by assertions, which check the shape
export type JsonBody = any;

export interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
  json: JsonBody;
}

export interface CallOptions {
  body?: string | Buffer | NodeJS.ReadableStream;
  json?: unknown;
  headers?: Record<string, string>;
  /** Leave out the X-CSRF header. */
  noCsrf?: boolean;
  /** Leave out the cookie. */
  noCookie?: boolean;
}

/**
 * A browser as the gateway sees it: a cookie jar for the session cookie and `X-CSRF: 1` on
 * every /api call. Uses undici directly so tests control every header byte.
 */
export class Browser {
  cookie: string | null = null;
  readonly setCookies: string[] = [];

  constructor(
    readonly baseUrl: string,
    readonly cookieName = 'ers-session',
  ) {}

  async call(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    const headers: Record<string, string> = { ...options.headers };
    if (!options.noCsrf) headers['x-csrf'] ??= '1';
    if (!options.noCookie && this.cookie !== null) headers.cookie ??= `${this.cookieName}=${this.cookie}`;
    let body = options.body;
    if (options.json !== undefined) {
      body = JSON.stringify(options.json);
      headers['content-type'] ??= 'application/json';
    }
    const response = await agent.request({ origin: this.baseUrl, path, method: method, headers, body: body as never });
    const buffer = Buffer.from(await response.body.arrayBuffer());
    this.remember(response.headers['set-cookie']);
    const text = buffer.toString('utf8');
    let json: unknown;
    try {
      json = text === '' ? undefined : JSON.parse(text);
    } catch {
      json = undefined;
    }
    return { status: response.statusCode, headers: response.headers, body: buffer, text, json };
  }

  remember(setCookie: string | string[] | undefined): void {
    for (const line of [setCookie ?? []].flat()) {
      this.setCookies.push(line);
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      if (pair!.slice(0, eq) !== this.cookieName) continue;
      const value = pair!.slice(eq + 1);
      this.cookie = /max-age=0/i.test(line) || value === '' ? null : value;
    }
  }

  login(token: string): Promise<Answer> {
    return this.call('POST', '/api/session', { json: { token } });
  }

  session(): Promise<Answer> {
    return this.call('GET', '/api/session');
  }

  chooseRole(businessFunction: string, orgIdentifier: string): Promise<Answer> {
    return this.call('PUT', '/api/session/role', { json: { businessFunction, orgIdentifier } });
  }

  logout(): Promise<Answer> {
    return this.call('DELETE', '/api/session');
  }

  ers(method: string, path: string, options: CallOptions = {}): Promise<Answer> {
    return this.call(method, `/api/ers/${path}`, options);
  }
}

/** A browser signed in with `card` and (unless `withRole` is false) its first role chosen. */
export async function signedInBrowser(baseUrl: string, card: Card, withRole = true): Promise<Browser> {
  const user = new Browser(baseUrl);
  const login = await user.login(card.token);
  if (login.status !== 201) throw new Error(`sign-in answered ${login.status}, not 201`);
  if (withRole) {
    const role = card.permissions[0];
    if (role === undefined) throw new Error('the card has no role to choose');
    const chosen = await user.chooseRole(role.businessFunction, role.orgIdentifier);
    if (chosen.status !== 200) throw new Error(`the role choice answered ${chosen.status}, not 200`);
  }
  return user;
}
