import { Injectable } from '@nestjs/common';

/** How a request ended: answered, client gone mid-way, or a fault switch took it. */
export type RequestOutcome = 'pending' | 'answered' | 'aborted' | 'dropped' | 'hung';

/** One e-RS request as received: raw header names and values, exactly as they arrived. */
export interface RecordedRequest {
  seq: number;
  at: string;
  method: string;
  /** Path with query, as sent. */
  path: string;
  rawHeaderNames: string[];
  headers: [string, string][];
  /** From the exact `HTTP_X_SESSION_KEY` header, or null. */
  sessionKey: string | null;
  /** From the exact `XAPI_ASID` header, or null. */
  asid: string | null;
  /** null until answered, and for dropped or hung requests. */
  status: number | null;
  operation: string | null;
  bodyBytes: number;
  /** sha256 (hex) of the request body, null when there was none. */
  bodySha256: string | null;
  outcome: RequestOutcome;
  durationMs: number | null;
}

export const REQUEST_LOG_CAPACITY = 1000;

/** Ring buffer of the last e-RS requests, newest last. */
@Injectable()
export class RequestLog {
  private readonly entries: RecordedRequest[] = [];
  private nextSeq = 1;

  open(entry: Omit<RecordedRequest, 'seq'>): RecordedRequest {
    const recorded: RecordedRequest = { seq: this.nextSeq++, ...entry };
    this.entries.push(recorded);
    if (this.entries.length > REQUEST_LOG_CAPACITY) this.entries.shift();
    return recorded;
  }

  recent(limit: number = REQUEST_LOG_CAPACITY): readonly RecordedRequest[] {
    return limit <= 0 ? [] : this.entries.slice(-limit);
  }

  /** Forgets the entries; sequence numbers keep rising so that old and new never mix up. */
  clear(): void {
    this.entries.length = 0;
  }
}
