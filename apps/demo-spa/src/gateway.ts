/** The gateway's browser API (README "Browser API"): same origin, cookie session, X-CSRF on every call. */

export interface Permission {
  businessFunction: string;
  orgIdentifier: string;
  orgName: string;
}

export interface SessionView {
  user: { identifier: string; firstName: string; lastName: string; middleName: string | null };
  permissions: Permission[];
  role: Permission | null;
  idleExpiresAt: string;
  absoluteExpiresAt: string;
}

/** What the user is shown when a call fails: never a stack trace or raw JSON. */
export interface Problem {
  title: string;
  detail: string;
  status: number | null;
  /** The gateway's problem code, or null when e-RS (or the network) answered. */
  code: string | null;
  correlationId: string | null;
}

export class ProblemError extends Error {
  constructor(readonly problem: Problem) {
    super(problem.title);
  }
}

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json => typeof value === 'object' && value !== null && !Array.isArray(value);
const text = (value: unknown): string | null => (typeof value === 'string' && value.trim() !== '' ? value : null);

/** The detail of an e-RS OperationOutcome that passed through the gateway unchanged. */
function outcomeDetail(body: Json): string | null {
  const issues = Array.isArray(body.issue) ? body.issue : [];
  const parts = issues.filter(isObject).map((issue) => {
    const details = isObject(issue.details) ? issue.details : {};
    const codings = Array.isArray(details.coding) ? details.coding.filter(isObject) : [];
    const key = codings.map((coding) => text(coding.code)).find((code) => code !== null);
    const said = text(issue.diagnostics) ?? text(details.text) ?? text(codings[0]?.display);
    return [key, said].filter((part) => part !== null && part !== undefined).join(': ');
  });
  return parts.find((part) => part !== '') ?? null;
}

export async function problemOf(response: Response): Promise<Problem> {
  const type = response.headers.get('content-type') ?? '';
  const headerCorrelation = response.headers.get('x-correlation-id');
  let body: unknown = null;
  if (/json/i.test(type)) {
    try {
      body = await response.json();
    } catch {
      body = null;
    }
  }
  if (isObject(body) && /problem\+json/i.test(type)) {
    return {
      title: text(body.title) ?? `The gateway answered ${response.status}`,
      detail: text(body.detail) ?? '',
      status: response.status,
      code: text(body.code),
      correlationId: text(body.correlationId) ?? headerCorrelation,
    };
  }
  const detail = isObject(body) && body.resourceType === 'OperationOutcome' ? outcomeDetail(body) : null;
  return {
    title: `e-RS answered ${response.status}${response.statusText === '' ? '' : ` ${response.statusText}`}`,
    detail: detail ?? 'e-RS gave no further details.',
    status: response.status,
    code: null,
    correlationId: headerCorrelation,
  };
}

export const unreachable = (what: string): Problem => ({
  title: `${what} could not be reached`,
  detail: 'Check that the demo is still running (npm start), then try again.',
  status: null,
  code: null,
  correlationId: null,
});

/** One gateway call; any answer that is not 2xx becomes a ProblemError. */
export async function gatewayFetch(method: string, path: string, body?: unknown, accept = 'application/json', contentType = 'application/json'): Promise<Response> {
  const headers: Record<string, string> = {
    // The gateway refuses any /api call without it (a simple cross-site form cannot add headers).
    'X-CSRF': '1',
    Accept: accept,
    // Ours, so a problem shown to the user can be found in the gateway's and e-RS's logs.
    'X-Correlation-ID': `demo-${crypto.randomUUID()}`,
  };
  if (body !== undefined) headers['Content-Type'] = contentType;
  let response: Response;
  try {
    response = await fetch(path, {
      method,
      headers,
      credentials: 'same-origin',
      cache: 'no-store',
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  } catch {
    throw new ProblemError(unreachable('The gateway'));
  }
  if (!response.ok) throw new ProblemError(await problemOf(response));
  return response;
}

async function view(response: Response): Promise<SessionView> {
  return (await response.json()) as SessionView;
}

/** e-RS bodies are FHIR JSON both ways (the A008 and A010 pages' Content-Type). */
const FHIR_JSON = 'application/fhir+json';

export const gateway = {
  signIn: async (token: string): Promise<SessionView> => view(await gatewayFetch('POST', '/api/session', { token })),
  session: async (): Promise<SessionView> => view(await gatewayFetch('GET', '/api/session')),
  chooseRole: async (role: Permission): Promise<SessionView> =>
    view(await gatewayFetch('PUT', '/api/session/role', { businessFunction: role.businessFunction, orgIdentifier: role.orgIdentifier })),
  signOut: async (): Promise<void> => {
    await gatewayFetch('DELETE', '/api/session');
  },
  /** A proxied e-RS call: `path` is below the e-RS base (`STU3/v1/...`). */
  ers: (method: string, path: string, body?: unknown, accept = FHIR_JSON): Promise<Response> => gatewayFetch(method, `/api/ers/${path}`, body, accept, FHIR_JSON),
  ersJson: async (method: string, path: string, body?: unknown): Promise<unknown> => (await gatewayFetch(method, `/api/ers/${path}`, body, FHIR_JSON, FHIR_JSON)).json(),
};
