/**
 * The sandbox's /_sandbox controls (another origin, open CORS): the simulated smartcard Identity
 * Agent and the record of what e-RS received. A real deployment has neither: the Identity Agent
 * runs on the user's machine and nobody can see e-RS's side.
 */
import { type Permission, ProblemError, unreachable } from './gateway';

export interface Card {
  label: string;
  token: string;
  valid: boolean;
  user: { identifier: string; firstName: string; lastName: string; middleName: string | null };
  permissions: Permission[];
}

export interface RecordedRequest {
  seq: number;
  at: string;
  method: string;
  path: string;
  rawHeaderNames: string[];
  headers: [string, string][];
  status: number | null;
  operation: string | null;
}

export interface DemoConfig {
  sandboxUrl: string;
}

/** Written by `npm start` (scripts/demo.mjs) next to index.html before the gateway starts. */
export async function loadConfig(): Promise<DemoConfig> {
  let response: Response;
  try {
    response = await fetch('demo-config.json', { cache: 'no-store' });
  } catch {
    throw new ProblemError(unreachable('The demo configuration'));
  }
  const body: unknown = response.ok ? await response.json().catch(() => null) : null;
  const sandboxUrl = typeof body === 'object' && body !== null && 'sandboxUrl' in body ? body.sandboxUrl : null;
  if (typeof sandboxUrl !== 'string' || !/^https?:\/\//.test(sandboxUrl)) {
    throw new ProblemError({
      title: 'The demo is not configured',
      detail: 'demo-config.json is missing or has no sandboxUrl. Start the demo with npm start.',
      status: response.status,
      code: null,
      correlationId: null,
    });
  }
  return { sandboxUrl: sandboxUrl.replace(/\/+$/, '') };
}

export class Sandbox {
  constructor(readonly url: string) {}

  private async send<T>(method: string, path: string, body?: unknown): Promise<T> {
    let response: Response;
    try {
      response = await fetch(`${this.url}/_sandbox${path}`, {
        method,
        cache: 'no-store',
        ...(body === undefined ? {} : { headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) }),
      });
    } catch {
      throw new ProblemError(unreachable('The e-RS sandbox'));
    }
    const parsed: unknown = await response.json().catch(() => null);
    if (!response.ok) {
      const message = typeof parsed === 'object' && parsed !== null && 'message' in parsed ? String(parsed.message) : '';
      throw new ProblemError({
        title: `The e-RS sandbox answered ${response.status}`,
        detail: message === '' ? 'No further details.' : message,
        status: response.status,
        code: null,
        correlationId: null,
      });
    }
    return parsed as T;
  }

  cards(): Promise<Card[]> {
    return this.send('GET', '/cards');
  }

  /** The Identity Agent reads the card and hands back its SSO token. */
  insert(label: string): Promise<{ label: string; token: string }> {
    return this.send('POST', '/identity-agent/insert', { label });
  }

  /** Card removal: e-RS ends every session opened with the card's token at once. */
  remove(card: { token: string } | { label: string }): Promise<{ label: string; endedSessions: number }> {
    return this.send('POST', '/identity-agent/remove', card);
  }

  requests(limit: number): Promise<RecordedRequest[]> {
    return this.send('GET', `/requests?limit=${limit}`);
  }
}
