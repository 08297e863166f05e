import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { clientAddress } from './client-address';

const request = (remoteAddress: string, forwardedFor?: string): IncomingMessage =>
  ({ socket: { remoteAddress }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

describe('clientAddress', () => {
  it.each([
    // [hops, peer, X-Forwarded-For, address]
    [0, '10.0.0.7', undefined, '10.0.0.7'],
    [0, '::ffff:10.0.0.7', undefined, '10.0.0.7'],
    [0, '::1', undefined, '::1'],
    // Without trusted hops a client's own X-Forwarded-For is ignored: it cannot pick its throttle key.
    [0, '10.0.0.7', '1.2.3.4', '10.0.0.7'],
    [1, '10.0.0.1', '198.51.100.9', '198.51.100.9'],
    // The client's own entries come first; the trusted proxy appended the last one.
    [1, '10.0.0.1', '1.2.3.4, 198.51.100.9', '198.51.100.9'],
    [2, '10.0.0.1', '1.2.3.4, 198.51.100.9, 10.0.0.2', '198.51.100.9'],
    [1, '10.0.0.1', '2001:db8::1', '2001:db8::1'],
    // Not an address: the peer.
    [1, '10.0.0.1', 'unknown', '10.0.0.1'],
    [1, '10.0.0.1', '', '10.0.0.1'],
  ] as const)('with TRUST_PROXY=%i, peer %s and X-Forwarded-For %j: %s', (hops, peer, forwarded, address) => {
    expect(clientAddress(request(peer, forwarded), hops)).toBe(address);
  });
});
