import { HttpService } from '@nestjs/axios';
import { Inject, Injectable } from '@nestjs/common';
import {
  ERS_ASID_HEADER,
  ERS_SESSION_KEY_HEADER,
  PROFESSIONAL_SESSION_PATH,
  PROFESSIONAL_SESSION_TYPE_INFO,
  professionalSessionPath,
  type CreateProfessionalSessionRequest,
  type SelectRoleRequest,
} from '@libs/ers-contract';
import { firstValueFrom } from 'rxjs';
import { ErsClientOptions, InjectErsClientOptions } from './ers-client.options';
import type { ErsSessionClient, OpenedUpstreamSession, RoleSelected, SessionLiveness } from './ers-session-client.port';
import {
  ErsBusyError,
  ErsRejectedError,
  ErsRoleAlreadySelectedError,
  ErsRoleRejectedError,
  ErsTimeoutError,
  ErsTokenRejectedError,
  ErsUnexpectedResponseError,
  type ErsOperation,
} from './errors';
import { MalformedAnswer, readOpenedSession, readRoleSelected } from './professional-session.answers';
import { ERS_SESSION_LANES, type ErsSessionLanes } from './session-lanes';
import { toClientError } from './transport-errors';

/** A session answer is a small JSON document; anything bigger is not one. */
const MAX_ANSWER_BYTES = 1024 * 1024;

interface ErsAnswer {
  status: number;
  body: string;
}

interface SessionCall {
  method: 'POST' | 'PUT' | 'DELETE';
  path: string;
  sessionKey?: string;
  body?: CreateProfessionalSessionRequest | SelectRoleRequest;
  /** Values that must never reach an error: the token and the session key of this call. */
  secrets: string[];
  /** A001/A002 go on `logins`, A003 on `closes`, liveness checks on `checks`. */
  lane: keyof ErsSessionLanes;
}

/**
 * The e-RS Professional Session endpoints (A001, A002, A003) behind the `ErsSessionClient` port.
 * It owns the headers, the deadline and the translation of every answer into a domain value or a
 * named error. None of these calls is retried here: A001 and A002 are not idempotent, and A003 is
 * retried by the caller's close queue, which knows whether calls are still in flight.
 */
@Injectable()
export class ProfessionalSessionClient implements ErsSessionClient {
  constructor(
    private readonly http: HttpService,
    @InjectErsClientOptions() private readonly options: ErsClientOptions,
    @Inject(ERS_SESSION_LANES) private readonly lanes: ErsSessionLanes,
  ) {}

  async createSession(ssoToken: string): Promise<OpenedUpstreamSession> {
    const answer = await this.send('A001', {
      method: 'POST',
      path: PROFESSIONAL_SESSION_PATH,
      body: { typeInfo: PROFESSIONAL_SESSION_TYPE_INFO, token: ssoToken },
      secrets: [ssoToken],
      lane: 'logins',
    });
    switch (answer.status) {
      case 201:
        return readAnswer('A001', answer, readOpenedSession);
      case 403:
        throw new ErsTokenRejectedError();
      case 422:
        throw new ErsRejectedError('A001', 422);
      default:
        throw new ErsUnexpectedResponseError('A001', answer.status);
    }
  }

  async selectRole(
    sessionKey: string,
    ssoToken: string,
    role: { businessFunction: string; orgIdentifier: string },
  ): Promise<RoleSelected> {
    const answer = await this.send('A002', this.selectRoleCall(sessionKey, ssoToken, role, 'logins'));
    switch (answer.status) {
      case 200:
        return readAnswer('A002', answer, (body) => readRoleSelected(body, sessionKey, role));
      // e-RS says 403 both for a role the user lacks and for a dead session (card removed).
      case 403:
        throw new ErsRoleRejectedError();
      // e-RS allows one A002 per session; a role switch is A003 + A001 + A002.
      case 400:
        throw new ErsRoleAlreadySelectedError();
      default:
        throw new ErsUnexpectedResponseError('A002', answer.status);
    }
  }

  async checkSession(
    sessionKey: string,
    ssoToken: string,
    role: { businessFunction: string; orgIdentifier: string },
  ): Promise<SessionLiveness> {
    const answer = await this.send('A002', this.selectRoleCall(sessionKey, ssoToken, role, 'checks'));
    switch (answer.status) {
      // A live session refuses a second role (SCAL A002-03); one that took it again is live too.
      case 400:
      case 200:
        return 'live';
      // A001-A003 still answer a dead or unknown session with a bare 403 (unchanged in 2024).
      case 403:
        return 'dead';
      default:
        throw new ErsUnexpectedResponseError('A002', answer.status);
    }
  }

  async deleteSession(sessionKey: string): Promise<'deleted' | 'already-ended'> {
    const answer = await this.send('A003', {
      method: 'DELETE',
      path: professionalSessionPath(sessionKey),
      sessionKey,
      secrets: [sessionKey],
      lane: 'closes',
    });
    switch (answer.status) {
      case 200:
      case 204:
        return 'deleted';
      // e-RS answers 403 for an unknown or dead session key: it is already gone. 404 and 410
      // ("not found") mean the same; retrying them would only send more A003s.
      case 403:
      case 404:
      case 410:
        return 'already-ended';
      default:
        throw new ErsUnexpectedResponseError('A003', answer.status);
    }
  }

  private selectRoleCall(
    sessionKey: string,
    ssoToken: string,
    role: { businessFunction: string; orgIdentifier: string },
    lane: 'logins' | 'checks',
  ): SessionCall {
    return {
      method: 'PUT',
      path: professionalSessionPath(sessionKey),
      sessionKey,
      body: {
        typeInfo: PROFESSIONAL_SESSION_TYPE_INFO,
        token: ssoToken,
        permission: { businessFunction: role.businessFunction, orgIdentifier: role.orgIdentifier },
      },
      secrets: [ssoToken, sessionKey],
      lane,
    };
  }

  private async send(operation: ErsOperation, call: SessionCall): Promise<ErsAnswer> {
    const { timeoutMs } = this.options;
    // axios's `timeout` restarts with socket activity; this signal is the whole-call deadline.
    const deadline = AbortSignal.timeout(timeoutMs);
    const headers: Record<string, string> = {
      // Exact spellings: e-RS expects these names with underscores and this case.
      [ERS_ASID_HEADER]: this.options.asid,
      Accept: 'application/json',
    };
    if (call.body !== undefined) headers['Content-Type'] = 'application/json';
    if (call.sessionKey !== undefined) headers[ERS_SESSION_KEY_HEADER] = call.sessionKey;
    // Each kind on its own lane: a flood of sign-ins cannot hold the closes' sockets, nor 403s the sign-ins'.
    const lane = this.lanes[call.lane];
    try {
      const response = await lane.run(operation, deadline, timeoutMs, () => firstValueFrom(
        this.http.request<unknown>({
          method: call.method,
          url: `${this.options.baseUrl}${call.path}`,
          headers,
          data: call.body === undefined ? undefined : JSON.stringify(call.body),
          timeout: timeoutMs,
          signal: deadline,
          maxRedirects: 0,
          validateStatus: () => true,
          responseType: 'text',
          // Keep the raw text: it is parsed strictly by the answer readers.
          transformResponse: [(data: unknown) => data],
          maxContentLength: MAX_ANSWER_BYTES,
          // Never route e-RS traffic through a proxy picked up from HTTP(S)_PROXY variables.
          proxy: false,
          httpAgent: lane.agent,
          httpsAgent: lane.agent,
        }),
      ));
      return { status: response.status, body: typeof response.data === 'string' ? response.data : '' };
    } catch (error) {
      if (error instanceof ErsBusyError || error instanceof ErsTimeoutError) throw error;
      throw toClientError(operation, error, timeoutMs, deadline, call.secrets);
    }
  }
}

function readAnswer<T>(
  operation: ErsOperation,
  answer: ErsAnswer,
  read: (body: string) => T,
): T {
  try {
    return read(answer.body);
  } catch (error) {
    if (!(error instanceof MalformedAnswer)) throw error;
    // The field's name only, never the body: it holds the token and the session key.
    throw new ErsUnexpectedResponseError(
      operation,
      answer.status,
      `e-RS answered ${operation} with ${answer.status} but ${error.field} is missing or malformed`,
    );
  }
}
