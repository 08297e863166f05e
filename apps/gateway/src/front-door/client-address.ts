import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';

/**
 * The client's address, for throttling logins per address. With `TRUST_PROXY=0` it is the
 * socket's peer; with N trusted hops it is what the outermost of those N proxies saw: the Nth
 * entry from the right of `X-Forwarded-For` (each proxy appends the address it received the
 * request from), when that entry is an IP address. A client's own entries come first and are
 * never trusted. An IPv4 address mapped into IPv6 (`::ffff:10.0.0.1`) is given as IPv4, so one
 * client is one key whichever way the listener saw it.
 */
export function clientAddress(request: IncomingMessage, trustProxyHops: number): string {
  const peer = plain(request.socket?.remoteAddress ?? '');
  if (trustProxyHops === 0) return peer;
  const forwarded = request.headers['x-forwarded-for'];
  if (typeof forwarded !== 'string' || forwarded.trim() === '') return peer;
  const entries = forwarded.split(',');
  const entry = plain((entries[Math.max(0, entries.length - trustProxyHops)] as string).trim());
  return isIP(entry) === 0 ? peer : entry;
}

function plain(address: string): string {
  return address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
}
