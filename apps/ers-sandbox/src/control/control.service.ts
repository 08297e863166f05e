import { Injectable } from '@nestjs/common';
import type { ErsPermission } from '@libs/ers-contract';
import { TEST_CARDS, type TestCard } from '../fixtures/cards';
import { binaryByteLength, binarySha256, BINARY_FIXTURES } from '../fixtures/binaries';
import { ErsSessionRegistry, isLive, type ErsSession, type ErsSessionState } from '../state/ers-session-registry';
import { HoldGate } from '../state/hold-gate';
import { RequestLog, type RecordedRequest } from '../state/request-log';
import { type FaultSwitch, Switches, type SwitchesUpdate, type SwitchesView } from '../state/switches';
import { UploadRegistry, type UploadState } from '../state/upload-registry';
import { ControlError } from './control-errors';
import type { FaultSwitchDto, SwitchesDto } from './dto/switches.dto';

/** A session as the controls show it: never its token (a bearer credential), only the card label. */
export interface SessionView {
  sessionKey: string;
  userIdentifier: string;
  cardLabel: string;
  role: ErsPermission | null;
  state: ErsSessionState;
  createdAt: string;
  endedAt: string | null;
  a002Count: number;
  a003Count: number;
  callCount: number;
  /** Calls on it being answered now. */
  callsInFlight: number;
  /** A003s that arrived while a call on it was in flight (an e-RS rule broken: must stay 0). */
  a003WhileCallsInFlight: number;
  /** Business calls on it answered 403 (each may be followed by one A002 checking the session). */
  forbiddenCount: number;
}

export interface UploadView {
  id: string;
  fileName: string;
  intendedUbrn: string | null;
  contentType: string;
  bytes: number;
  sha256: string | null;
  complete: boolean;
  state: UploadState;
  startedAt: string;
}

export interface BinaryFixtureView {
  id: string;
  ubrn: string;
  fileName: string;
  contentType: string;
  bytes: number;
  sha256: string;
  held: boolean;
}

@Injectable()
export class ControlService {
  constructor(
    private readonly sessions: ErsSessionRegistry,
    private readonly requests: RequestLog,
    private readonly uploads: UploadRegistry,
    private readonly switches: Switches,
    private readonly holds: HoldGate,
  ) {}

  cards(): readonly TestCard[] {
    return TEST_CARDS;
  }

  listSessions(state: string | undefined): SessionView[] {
    const filter = parseStateFilter(state);
    return this.sessions
      .list()
      .filter((session) => filter === 'all' || (filter === 'live' ? isLive(session) : session.state === filter))
      .map((session) => this.sessionView(session));
  }

  session(key: string): SessionView {
    return this.sessionView(this.findSession(key));
  }

  /** The e-RS session dies silently, as when its Spine SSO session ends. */
  expire(key: string): SessionView {
    const session = this.findSession(key);
    this.sessions.end(session, 'expired');
    return this.sessionView(session);
  }

  recentRequests(limit: string | undefined, operation: string | undefined): readonly RecordedRequest[] {
    const count = limit === undefined ? undefined : Number(limit);
    if (count !== undefined && (!Number.isInteger(count) || count < 0)) {
      throw ControlError.invalid('limit must be a non-negative integer');
    }
    const recent = this.requests.recent();
    const matching = operation === undefined ? recent : recent.filter((request) => request.operation === operation);
    return count === undefined ? matching : count === 0 ? [] : matching.slice(-count);
  }

  clearRequests(): void {
    this.requests.clear();
  }

  listUploads(): UploadView[] {
    return this.uploads.list().map((upload) => ({
      id: upload.id,
      fileName: upload.fileName,
      intendedUbrn: upload.intendedUbrn,
      contentType: upload.contentType,
      bytes: upload.bytes,
      sha256: upload.sha256,
      complete: upload.state === 'complete',
      state: upload.state,
      startedAt: upload.startedAt.toISOString(),
    }));
  }

  binaryFixtures(): BinaryFixtureView[] {
    return BINARY_FIXTURES.map((fixture) => ({
      id: fixture.id,
      ubrn: fixture.ubrn,
      fileName: fixture.fileName,
      contentType: fixture.contentType,
      bytes: binaryByteLength(fixture),
      sha256: binarySha256(fixture),
      held: fixture.holdAfterBytes !== undefined,
    }));
  }

  viewSwitches(): SwitchesView {
    return this.switches.view();
  }

  updateSwitches(dto: SwitchesDto): SwitchesView {
    const fault = (value: FaultSwitchDto | null | undefined): FaultSwitch | null | undefined =>
      value === undefined || value === null ? value : { count: value.count, path: value.path ?? null, method: value.method ?? null };
    const update: SwitchesUpdate = {
      latencyMs: dto.latencyMs,
      a016DelayMs: dto.a016DelayMs,
      error:
        dto.error === undefined || dto.error === null
          ? dto.error
          : { status: dto.error.status, count: dto.error.count, path: dto.error.path ?? null, method: dto.error.method ?? null },
      drop: fault(dto.drop),
      hang: fault(dto.hang),
    };
    return this.switches.update(update);
  }

  releaseHolds(): { released: number } {
    return { released: this.holds.release() };
  }

  holdsWaiting(): { waiting: number } {
    return { waiting: this.holds.waiting };
  }

  /** A fresh sandbox for the next test: sessions, requests, uploads, switches, removed cards, holds. */
  reset(): void {
    this.sessions.reset();
    this.requests.clear();
    this.uploads.reset();
    this.switches.reset();
    this.holds.release();
  }

  private findSession(key: string): ErsSession {
    const session = this.sessions.find(key);
    if (session === undefined) throw ControlError.notFound(`No e-RS session has had the key ${key}`);
    return session;
  }

  private sessionView(session: ErsSession): SessionView {
    return {
      sessionKey: session.key,
      userIdentifier: session.card.user.identifier,
      cardLabel: session.card.label,
      role: session.role === null ? null : { ...session.role },
      state: session.state,
      createdAt: session.createdAt.toISOString(),
      endedAt: session.endedAt?.toISOString() ?? null,
      a002Count: session.a002Count,
      a003Count: this.sessions.a003Count(session),
      callCount: session.callCount,
      callsInFlight: session.callsInFlight,
      a003WhileCallsInFlight: session.a003WhileCallsInFlight,
      forbiddenCount: session.forbiddenCount,
    };
  }
}

const STATE_FILTERS = ['all', 'live', 'awaiting-role', 'active', 'deleted', 'expired'] as const;

function parseStateFilter(state: string | undefined): (typeof STATE_FILTERS)[number] {
  if (state === undefined) return 'all';
  const filter = STATE_FILTERS.find((candidate) => candidate === state);
  if (filter === undefined) throw ControlError.invalid(`state must be one of ${STATE_FILTERS.join(', ')}`);
  return filter;
}
