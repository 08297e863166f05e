// The sandbox's own wire types (type-only: tests reach the sandbox over HTTP, as the gateway does).
import type { BinaryFixtureView, SessionView, UploadView } from '../../apps/ers-sandbox/src/control/control.service';
import type { TestCard } from '../../apps/ers-sandbox/src/fixtures/cards';
import type { RecordedRequest as SandboxRecordedRequest } from '../../apps/ers-sandbox/src/state/request-log';

export type Card = TestCard;
export type SandboxSession = SessionView;
/** As it arrives over HTTP: the same fields, the outcome as a string. */
export type RecordedRequest = SandboxRecordedRequest;

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
  /** Puts a removed card back: its token signs in again. */
  insertCard(label: string): Promise<void> {
    return this.send('POST', '/identity-agent/insert', { label });
  }
  /** Withdraws a role from the session's user (its selected one unless named); the session lives on. */
  revokeRole(body: { sessionKey?: string; token?: string; businessFunction?: string; orgIdentifier?: string }): Promise<void> {
    return this.send('POST', '/roles/revoke', body);
  }
  restoreRole(body: { sessionKey?: string; token?: string; businessFunction?: string; orgIdentifier?: string }): Promise<void> {
    return this.send('POST', '/roles/restore', body);
  }
  releaseHolds(): Promise<void> {
    return this.send('POST', '/holds/release');
  }
  uploads(): Promise<UploadView[]> {
    return this.send('GET', '/uploads');
  }
  binaries(): Promise<BinaryFixtureView[]> {
    return this.send('GET', '/fixtures/binaries');
  }
}
