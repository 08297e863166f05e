import { type ApiRoute, ERS_PREFIX, ERS_ROUTE, SESSION_ROUTES } from './api-routes';

/**
 * What the front door does with a request target, decided on the target exactly as it arrived.
 *
 * - `api`: under `/api/`, spelled literally; `route` is the route it is admitted for (undefined:
 *   no such route, `404`). A proxied call is `/api/ers/` literally; a session route must match
 *   its raw path exactly, so `/api/sess%69on` or `/api/session/` is no route rather than a second
 *   spelling of one.
 * - `other`: not the browser API (health, the OpenAPI document, static files): Fastify routes it.
 * - `refused` (`400`): a target that is not a plain path, or any other spelling of `/api`.
 *   Routers decode and normalise paths (`/%61pi/session` is `/api/session` to Fastify), and an
 *   absolute-form target (`GET http://host/api/...`) or asterisk-form (`OPTIONS *`) would be read
 *   from a different place than the one checked. Nothing is routed on a spelling other than the
 *   one the door admitted.
 */
export type RequestTarget =
  | { readonly kind: 'api'; readonly route: ApiRoute | undefined }
  | { readonly kind: 'other' }
  | { readonly kind: 'refused'; readonly detail: string };

const ERS: RequestTarget = { kind: 'api', route: ERS_ROUTE };
const OTHER: RequestTarget = { kind: 'other' };
const NO_ROUTE: RequestTarget = { kind: 'api', route: undefined };
const SESSION_TARGETS: ReadonlyMap<string, RequestTarget> = new Map(
  [...SESSION_ROUTES].map(([path, route]) => [path, { kind: 'api', route }]),
);
const NOT_A_PATH: RequestTarget = {
  kind: 'refused',
  detail: 'The request target must be a path (origin-form): absolute-form and asterisk-form targets are not accepted.',
};
const API_SPELLING: RequestTarget = {
  kind: 'refused',
  detail: 'The /api prefix must be written plainly: percent-encoded, dotted, doubled or otherwise respelled prefixes are refused.',
};

export function classifyTarget(url: string): RequestTarget {
  // The hot path first: every proxied call.
  if (url.startsWith(ERS_PREFIX)) return ERS;
  if (url.charCodeAt(0) !== SLASH) return NOT_A_PATH;
  const queryAt = url.indexOf('?');
  const path = queryAt === -1 ? url : url.slice(0, queryAt);
  if (path.startsWith('/api/') || path === '/api') return SESSION_TARGETS.get(path) ?? NO_ROUTE;
  return readsAsApi(path) ? API_SPELLING : OTHER;
}

const SLASH = 47;

/**
 * Whether some router could read `path` as `/api` or below it: decoded (twice, against a router
 * that decodes again), case-folded, backslashes as slashes, `;parameters` dropped, empty and dot
 * segments resolved. Only paths that are not literally under `/api/` get here (health checks,
 * static files): none of this is on the hot path.
 */
export function readsAsApi(path: string): boolean {
  let text = path;
  for (let round = 0; round < 2 && text.includes('%'); round++) text = looseDecode(text);
  const segments: string[] = [];
  for (const raw of text.toLowerCase().replace(/\\/g, '/').split('/')) {
    const segment = raw.split(';')[0]?.trim() ?? '';
    if (segment === '' || segment === '.') continue;
    if (segment === '..') segments.pop();
    else segments.push(segment);
  }
  return segments[0] === 'api';
}

/** Percent-decodes what decodes, byte by byte; leaves malformed escapes as they are. */
function looseDecode(text: string): string {
  return text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
