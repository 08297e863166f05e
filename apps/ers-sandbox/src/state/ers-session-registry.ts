import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ErsPermission } from '@libs/ers-contract';
import type { TestCard } from '../fixtures/cards';

export type ErsSessionState = 'awaiting-role' | 'active' | 'deleted' | 'expired';
export const LIVE_SESSION_STATES: readonly ErsSessionState[] = ['awaiting-role', 'active'];

/** One e-RS Professional Session as the sandbox holds it. */
export interface ErsSession {
  key: string;
  card: TestCard;
  role: ErsPermission | null;
  state: ErsSessionState;
  createdAt: Date;
  endedAt: Date | null;
  a002Count: number;
  /** e-RS requests that named any of this session's keys in `HTTP_X_SESSION_KEY`. */
  callCount: number;
  /** Calls on this session being answered right now. */
  callsInFlight: number;
  /**
   * A003s that arrived while another call on the session was still being answered: e-RS says a
   * client must not do that. The gateway's tests require this to stay 0.
   */
  a003WhileCallsInFlight: number;
  /** Business calls on it answered 403: a client may check such a session with one A002 each. */
  forbiddenCount: number;
}

/** Sessions, the A003 attempts per key, and which cards are out of their readers. */
@Injectable()
export class ErsSessionRegistry {
  private readonly sessions: ErsSession[] = [];
  /** Every key ever issued, to its session. */
  private readonly byKey = new Map<string, ErsSession>();
  /** A003 requests per key in the path, whatever they were answered (unknown keys too). */
  private readonly a003Attempts = new Map<string, number>();
  private readonly removedTokens = new Set<string>();

  create(card: TestCard): ErsSession {
    const session: ErsSession = {
      key: `pro-xapi-session_${randomUUID()}`,
      card,
      role: null,
      state: 'awaiting-role',
      createdAt: new Date(),
      endedAt: null,
      a002Count: 0,
      callCount: 0,
      callsInFlight: 0,
      a003WhileCallsInFlight: 0,
      forbiddenCount: 0,
    };
    this.sessions.push(session);
    this.byKey.set(session.key, session);
    return session;
  }

  /** The live session with this key; ended sessions give nothing. */
  findLive(key: string): ErsSession | undefined {
    const session = this.byKey.get(key);
    return session !== undefined && isLive(session) ? session : undefined;
  }

  /** The session that ever had this key, live or not. */
  find(key: string): ErsSession | undefined {
    return this.byKey.get(key);
  }

  end(session: ErsSession, state: 'deleted' | 'expired'): void {
    if (!isLive(session)) return;
    session.state = state;
    session.endedAt = new Date();
  }

  noteCall(key: string): void {
    const session = this.byKey.get(key);
    if (session !== undefined) session.callCount += 1;
  }

  noteA003Attempt(key: string): void {
    this.a003Attempts.set(key, (this.a003Attempts.get(key) ?? 0) + 1);
    const session = this.byKey.get(key);
    if (session !== undefined && session.callsInFlight > 0) session.a003WhileCallsInFlight += 1;
  }

  noteForbidden(key: string): void {
    const session = this.byKey.get(key);
    if (session !== undefined) session.forbiddenCount += 1;
  }

  /** A call (other than A003) on this key started being answered; `callEnded` when it is done. */
  callStarted(key: string): void {
    const session = this.byKey.get(key);
    if (session !== undefined) session.callsInFlight += 1;
  }

  callEnded(key: string): void {
    const session = this.byKey.get(key);
    if (session !== undefined && session.callsInFlight > 0) session.callsInFlight -= 1;
  }

  /** A003 attempts that named this session's key. */
  a003Count(session: ErsSession): number {
    return this.a003Attempts.get(session.key) ?? 0;
  }

  list(): readonly ErsSession[] {
    return this.sessions;
  }

  /** Card removal: Spine destroys the token, so every session opened with it dies silently. */
  removeCard(card: TestCard): number {
    this.removedTokens.add(card.token);
    const live = this.sessions.filter((session) => session.card.token === card.token && isLive(session));
    for (const session of live) this.end(session, 'expired');
    return live.length;
  }

  insertCard(card: TestCard): void {
    this.removedTokens.delete(card.token);
  }

  isCardRemoved(card: TestCard): boolean {
    return this.removedTokens.has(card.token);
  }

  reset(): void {
    this.sessions.length = 0;
    this.byKey.clear();
    this.a003Attempts.clear();
    this.removedTokens.clear();
  }
}

export function isLive(session: ErsSession): boolean {
  return LIVE_SESSION_STATES.includes(session.state);
}
