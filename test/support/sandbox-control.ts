export interface Card {
  label: string;
  token: string;
  valid: boolean;
  user: { identifier: string; firstName: string; lastName: string; middleName: string | null };
  permissions: { businessFunction: string; orgIdentifier: string; orgName: string }[];
}

export interface SandboxSession {
  sessionKey: string;
  previousKeys: string[];
  userIdentifier: string;
  role: { businessFunction: string; orgIdentifier: string } | null;
  state: 'awaiting-role' | 'active' | 'deleted' | 'expired';
  a002Count: number;
  a003Count: number;
  callCount: number;
  cardLabel: string;
  callsInFlight: number;
  a003WhileCallsInFlight: number;
}

export interface RecordedRequest {
  seq: number;
  /** When the request arrived (ISO). */
  at: string;
  /** How long the sandbox took to answer; null while unanswered, dropped or hung. */
  durationMs: number | null;
  method: string;
  path: string;
  rawHeaderNames: string[];
  headers: [string, string][];
  sessionKey: string | null;
  asid: string | null;
  status: number | null;
  operation: string | null;
  bodyBytes: number;
  bodySha256: string | null;
}

/** The sandbox's `/_sandbox` controls, over HTTP. */
export class SandboxControl {
  constructor(readonly url: string) {}

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    const response = await fetch(`${this.url}/_sandbox${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`sandbox ${method} ${path}: ${response.status} ${text}`);
    return (text === '' ? undefined : JSON.parse(text)) as T;
  }

  cards(): Promise<Card[]> {
    return this.send('GET', '/cards');
  }
  async card(predicate: (card: Card) => boolean): Promise<Card> {
    const card = (await this.cards()).find(predicate);
    if (card === undefined) throw new Error('no such test card');
    return card;
  }
  sessions(): Promise<SandboxSession[]> {
    return this.send('GET', '/sessions');
  }
  requests(limit = 1000): Promise<RecordedRequest[]> {
    return this.send('GET', `/requests?limit=${limit}`);
  }
  clearRequests(): Promise<void> {
    return this.send('DELETE', '/requests');
  }
  reset(): Promise<void> {
    return this.send('POST', '/reset');
  }
  switches(body: Record<string, unknown>): Promise<void> {
    return this.send('PUT', '/switches', body);
  }
  expire(sessionKey: string): Promise<void> {
    return this.send('POST', `/sessions/${encodeURIComponent(sessionKey)}/expire`);
  }
  removeCard(token: string): Promise<void> {
    return this.send('POST', '/identity-agent/remove', { token });
  }
  releaseHolds(): Promise<void> {
    return this.send('POST', '/holds/release');
  }
  uploads(): Promise<{ id: string; fileName: string; bytes: number; sha256: string; complete: boolean }[]> {
    return this.send('GET', '/uploads');
  }
  binaries(): Promise<{ id: string; bytes: number; sha256: string; contentType: string }[]> {
    return this.send('GET', '/fixtures/binaries');
  }
}
