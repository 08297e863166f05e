import type { ErsPermission } from '@libs/ers-contract';
import type { OpenedUpstreamSession } from './ers-session-client.port';

/**
 * Strict readers of the A001/A002 answers. e-RS echoes the SSO token in these bodies; it is read
 * past and never kept. A reader throws `MalformedAnswer` naming the field, never its value.
 */
export class MalformedAnswer extends Error {
  override readonly name = 'MalformedAnswer';
  constructor(readonly field: string) {
    super(`${field} is missing or malformed`);
  }
}

type Json = Record<string, unknown>;

export function parseJsonObject(body: string): Json {
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new MalformedAnswer('the body (not JSON)');
  }
  return object(value, 'the body');
}

function object(value: unknown, field: string): Json {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new MalformedAnswer(field);
  return value as Json;
}

function string(value: unknown, field: string, { nonEmpty }: { nonEmpty: boolean }): string {
  if (typeof value !== 'string' || (nonEmpty && value === '')) throw new MalformedAnswer(field);
  return value;
}

/**
 * The session key is opaque (`pro-xapi-session_<uuid>`, `pro-api-session:<uuid>`): its shape is not
 * checked, only that it can be sent back as a header value and is not absurdly long.
 */
function sessionKey(value: unknown, field: string): string {
  const key = string(value, field, { nonEmpty: true });
  if (key.length > 1024 || !/^[\x21-\x7e]+$/.test(key)) throw new MalformedAnswer(field);
  return key;
}

function permission(value: unknown, field: string): ErsPermission {
  const p = object(value, field);
  return {
    businessFunction: string(p['businessFunction'], `${field}.businessFunction`, { nonEmpty: true }),
    orgIdentifier: string(p['orgIdentifier'], `${field}.orgIdentifier`, { nonEmpty: true }),
    // Real data carries leading spaces here: kept as sent. Optional: the gateway only shows it.
    orgName: p['orgName'] === undefined || p['orgName'] === null ? '' : string(p['orgName'], `${field}.orgName`, { nonEmpty: false }),
  };
}

/** A name part e-RS may leave out: absent or null reads as ''. */
function optionalString(value: unknown, field: string): string {
  return value === undefined || value === null ? '' : string(value, field, { nonEmpty: false });
}

/** A001's 201 answer. */
export function readOpenedSession(body: string): OpenedUpstreamSession {
  const session = parseJsonObject(body);
  const key = sessionKey(session['id'], 'id');
  const user = object(session['user'], 'user');
  const middleName = user['middleName'];
  if (middleName !== undefined && middleName !== null && typeof middleName !== 'string') {
    throw new MalformedAnswer('user.middleName');
  }
  const permissions = user['permissions'];
  if (!Array.isArray(permissions)) throw new MalformedAnswer('user.permissions');
  return {
    sessionKey: key,
    user: {
      identifier: string(user['identifier'], 'user.identifier', { nonEmpty: true }),
      firstName: optionalString(user['firstName'], 'user.firstName'),
      lastName: optionalString(user['lastName'], 'user.lastName'),
      middleName: middleName ?? null,
    },
    permissions: permissions.map((item, index) => permission(item, `user.permissions[${index}]`)),
  };
}

/** A002's 200 answer: the key to use from now on (e-RS may change it) and the selected role. */
export function readRoleSelected(
  body: string,
  oldSessionKey: string,
  asked: { businessFunction: string; orgIdentifier: string },
): { sessionKey: string; permission: ErsPermission } {
  // The 200 is what matters; a body we cannot read means "same key, the role asked for".
  let session: Json;
  try {
    session = parseJsonObject(body);
  } catch {
    return { sessionKey: oldSessionKey, permission: { ...asked, orgName: '' } };
  }
  const id = session['id'];
  // Store the id A002 answers with: e-RS examples show it can differ from A001's.
  const key = id === undefined || id === null ? oldSessionKey : sessionKey(id, 'id');
  if (session['permission'] === undefined || session['permission'] === null) {
    return { sessionKey: key, permission: { ...asked, orgName: '' } };
  }
  const selected = permission(session['permission'], 'permission');
  if (
    selected.businessFunction !== asked.businessFunction ||
    selected.orgIdentifier !== asked.orgIdentifier
  ) {
    throw new MalformedAnswer('permission (not the role asked for)');
  }
  return { sessionKey: key, permission: selected };
}
