import { Injectable } from '@nestjs/common';
import { randomUUID } from 'node:crypto';
import type { ErsPermission } from '@libs/ers-contract';
import type { TestCard } from '../fixtures/cards';
import { Switches } from './switches';

export type ErsSessionState = 'awaiting-role' | 'active' | 'deleted' | 'expired';
export const LIVE_SESSION_STATES: readonly ErsSessionState[] = ['awaiting-role', 'active'];

/** One e-RS Professional Session as the sandbox holds it. */
export interface ErsSession {
  key: string;
  card: TestCard;
  role: ErsPermission | null;
  state: ErsSessionState;
  createdAt: Date;
  /** When a call last named one of its keys (A001 to begin with): Spine's idle time runs from here. */
  lastCallAt: Date;
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
  /**
   * Business calls naming one of its keys answered 403, whatever the cause (role, ASID, interaction,
   * dead session) and whether bare or with an OperationOutcome: a client may check the session
   * with one A002 per such answer. A001-A003 403s are not counted.
   */
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
  /** Roles taken away from users (RBAC changed at Spine) while their sessions live on. */
  private readonly withdrawnRoles = new Set<string>();

  constructor(private readonly switches: Switches) {}

  create(card: TestCard): ErsSession {
    const now = new Date();
    const session: ErsSession = {
      key: `pro-xapi-session_${randomUUID()}`,
      card,
      role: null,
      state: 'awaiting-role',
      createdAt: now,
      lastCallAt: now,
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

  /**
   * The live session with this key; ended sessions give nothing, and neither does a session whose
   * Spine lifetime ran out (it ends here, as e-RS would find it).
   */
  findLive(key: string): ErsSession | undefined {
    const session = this.find(key);
    return session !== undefined && isLive(session) ? session : undefined;
  }

  /** The session that ever had this key, live or not (ended if its Spine lifetime ran out). */
  find(key: string): ErsSession | undefined {
    const session = this.byKey.get(key);
    if (session !== undefined) this.endIfSpineExpired(session);
    return session;
  }

  end(session: ErsSession, state: 'deleted' | 'expired'): void {
    if (!isLive(session)) return;
    session.state = state;
    session.endedAt = new Date();
  }

  /** A call named this key: it counts, and (unless the session already died) restarts Spine's idle time. */
  noteCall(key: string): void {
    const session = this.find(key);
    if (session === undefined) return;
    session.callCount += 1;
    if (isLive(session)) session.lastCallAt = new Date();
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
    for (const session of this.sessions) this.endIfSpineExpired(session);
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

  /**
   * The Spine SSO session behind an e-RS session times out (idle, or in total); e-RS then finds
   * the session dead at its next use. It ended when the first limit was reached, not when noticed.
   */
  private endIfSpineExpired(session: ErsSession): void {
    if (!isLive(session)) return;
    const deadlines = [
      lifetimeEnd(session.lastCallAt, this.switches.spineIdleMs),
      lifetimeEnd(session.createdAt, this.switches.spineMaxMs),
    ].filter((deadline): deadline is number => deadline !== null);
    const endedAt = Math.min(...deadlines);
    if (endedAt > Date.now()) return;
    this.end(session, 'expired');
    session.endedAt = new Date(endedAt);
  }

  /** The user loses this role: e-RS refuses business calls made in it, and A002 will not select it. */
  withdrawRole(card: TestCard, role: RoleRef): void {
    this.withdrawnRoles.add(roleId(card, role));
  }

  restoreRole(card: TestCard, role: RoleRef): void {
    this.withdrawnRoles.delete(roleId(card, role));
  }

  isRoleWithdrawn(card: TestCard, role: RoleRef): boolean {
    return this.withdrawnRoles.has(roleId(card, role));
  }

  /** Live sessions of this card's user working in this role. */
  liveSessionsInRole(card: TestCard, role: RoleRef): number {
    return this.list().filter(
      (session) => isLive(session) && session.role !== null && roleId(session.card, session.role) === roleId(card, role),
    ).length;
  }

  reset(): void {
    this.withdrawnRoles.clear();
    this.sessions.length = 0;
    this.byKey.clear();
    this.a003Attempts.clear();
    this.removedTokens.clear();
  }
}

/** A role as a user holds it: business function at an organisation. */
export type RoleRef = Pick<ErsPermission, 'businessFunction' | 'orgIdentifier'>;

/** Roles belong to the user (SDS), not to the card or the session. */
function roleId(card: TestCard, role: RoleRef): string {
  return JSON.stringify([card.user.identifier, role.businessFunction, role.orgIdentifier]);
}

/** When a lifetime of `ms` from `from` ends; null when the lifetime is off (null or 0). */
function lifetimeEnd(from: Date, ms: number | null): number | null {
  return ms === null || ms === 0 ? null : from.getTime() + ms;
}

export function isLive(session: ErsSession): boolean {
  return LIVE_SESSION_STATES.includes(session.state);
}
