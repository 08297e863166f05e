/**
 * The browser API's routes, as the front door admits them: every `/api` request is matched
 * against this table on its raw path (the spelling it arrived with), and only a request admitted
 * for a route here is ever handed on. One table: the door's checks, the Nest routes' own guard and
 * the OpenAPI document all read it.
 */
export interface ApiRoute {
  /** The route as logged and counted (and as Fastify names the Nest route that serves it). */
  readonly template: string;
  /** The methods the route answers; any other gets `405 method-not-allowed` with `Allow`. */
  readonly methods: ReadonlySet<string>;
  /** The `Allow` header of a 405. */
  readonly allow: string;
  /** `json`: a small JSON body read by the session routes; `stream`: proxied to e-RS untouched. */
  readonly body: 'json' | 'stream';
  /** Who answers: the front door's own proxy, or the Nest session controller. */
  readonly servedBy: 'proxy' | 'nest';
}

/** Session bodies are a token or a role choice: a few KiB at most. */
export const MAX_SESSION_BODY_BYTES = 16 * 1024;

/** The prefix of every proxied call, as it must be spelled (raw, not encoded). */
export const ERS_PREFIX = '/api/ers/';

function route(template: string, methods: string[], body: ApiRoute['body'], servedBy: ApiRoute['servedBy']): ApiRoute {
  return { template, methods: new Set(methods), allow: methods.join(', '), body, servedBy };
}

/** `ANY /api/ers/<path>`: the methods e-RS's API uses (no OPTIONS: CORS preflights are the door's). */
export const ERS_ROUTE = route('/api/ers/*', ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'], 'stream', 'proxy');

/** The session routes, by their exact raw path. */
export const SESSION_ROUTES: ReadonlyMap<string, ApiRoute> = new Map(
  [
    route('/api/session', ['GET', 'POST', 'DELETE'], 'json', 'nest'),
    route('/api/session/role', ['PUT'], 'json', 'nest'),
  ].map((entry) => [entry.template, entry]),
);

/** Every method any `/api` route answers, for CORS preflights. */
export const API_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE';
