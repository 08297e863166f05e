import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/**
 * The origin a request was addressed to, `<protocol>://<host>`, for the same-origin check of
 * `Origin`. With `TRUST_PROXY=0` it is the socket's protocol and the `Host` header, as Fastify's
 * `request.protocol` and `request.host` give it. With N trusted hops it is what the outermost of
 * those N proxies saw: the Nth entry from the right of `X-Forwarded-Proto` and of
 * `X-Forwarded-Host` (each proxy appends its own; a proxy that overwrites leaves one entry), when
 * the header is there.
 *
 * Not Fastify's own: Fastify 5 no longer trusts `X-Forwarded-*` for a hop count at all (it cannot
 * check the peer), so behind a TLS load balancer every same-origin `Origin` (`https://…`) would
 * be refused against `http://…`. Trusting the headers here cannot help a forged request: a page
 * on another site cannot make the browser send `X-Forwarded-*` (or `X-CSRF`) without a CORS
 * preflight, which only listed origins pass.
 *
 * Null without a socket, which matches no origin.
 */
export function ownOrigin(request: IncomingMessage, trustProxyHops: number): string | null {
  const socket = request.socket as TLSSocket | null;
  if (socket == null) return null;
  const headers = request.headers;
  let protocol = socket.encrypted ? 'https' : 'http';
  let host = headers.host ?? '';
  if (trustProxyHops > 0) {
    const forwardedProto = headers['x-forwarded-proto'];
    if (typeof forwardedProto === 'string' && forwardedProto.trim() !== '') protocol = fromRight(forwardedProto, trustProxyHops).toLowerCase();
    const forwardedHost = headers['x-forwarded-host'];
    if (typeof forwardedHost === 'string' && forwardedHost.trim() !== '') host = fromRight(forwardedHost, trustProxyHops);
  }
  return `${protocol}://${host}`;
}

/** The `hops`th entry from the right of a comma-separated value, trimmed (the first if fewer). */
function fromRight(value: string, hops: number): string {
  const entries = value.split(',');
  return (entries[Math.max(0, entries.length - hops)] as string).trim();
}
