import { Agent as HttpAgent, type Server, type ServerResponse, createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import { afterEach, describe, expect, it } from 'vitest';
import { type GatewayConfig, type HttpConfig } from '@libs/config';
import { ErsLane, type ErsSessionClient, type ErsSessionLanes } from '@libs/ers-client';
import { MemorySessionStore } from '@libs/session-store';
import { DrainState } from '../health/drain-state';
import { GatewayMetrics } from '../metrics/gateway-metrics';
import { UpstreamCloseService } from '../upstream-close/upstream-close.service';
import { Drain } from './drain';

const GRACE_MS = 150;

/** e-RS is never called here: the close worker has nothing to close. */
const NO_ERS: ErsSessionClient = {
  createSession: () => Promise.reject(new Error('not called')),
  selectRole: () => Promise.reject(new Error('not called')),
  checkSession: () => Promise.reject(new Error('not called')),
  deleteSession: () => Promise.reject(new Error('not called')),
};

/** The close worker, noting when it is told to stop. */
class RecordingCloses extends UpstreamCloseService {
  constructor(private readonly order: string[]) {
    const config = { ers: { sessionTimeoutMs: 1000, closeConcurrency: 1 } } as unknown as GatewayConfig;
    const store = new MemorySessionStore({ idleTimeoutMs: 60_000, absoluteTimeoutMs: 600_000, inFlightLeaseMs: 5000 });
    super(store, NO_ERS, pino({ level: 'silent' }), new GatewayMetrics(), config);
  }

  override async stop(): Promise<void> {
    this.order.push('closes stopped');
    await super.stop();
  }
}

function get(port: number): Promise<{ status: number; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const agent = new HttpAgent({ keepAlive: false });
    request({ port, host: '127.0.0.1', path: '/', agent }, (response) => {
      response.resume();
      response.on('end', () => resolve({ status: response.statusCode ?? 0, connection: response.headers.connection }));
    })
      .on('error', reject)
      .end();
  });
}

const tick = (ms = 20): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('Drain', () => {
  let server: Server | undefined;
  afterEach(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('serves through the grace period, then closes the listener, waits for requests and e-RS session calls, then stops the close worker', async () => {
    const order: string[] = [];
    const state = new DrainState();
    const held: ServerResponse[] = [];
    server = createServer((_request, response) => {
      if (state.draining) response.setHeader('connection', 'close');
      if (held.length === 0) held.push(response);
      else response.end('ok');
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    const lanes: ErsSessionLanes = { logins: new ErsLane(new HttpAgent(), 1, 1), closes: new ErsLane(new HttpAgent(), 1, 1), checks: new ErsLane(new HttpAgent(), 1, 1) };
    let endLogin!: () => void;
    const login = lanes.logins.run('A001', new AbortController().signal, 1000, () => new Promise<void>((resolve) => (endLogin = resolve)));
    const metrics = new GatewayMetrics();
    const drain = new Drain(state, metrics, new RecordingCloses(order), lanes, pino({ level: 'silent' }), { drainGraceMs: GRACE_MS } as HttpConfig);

    const inFlight = get(port);
    await tick();
    const drained = drain.run(server, 'SIGTERM').then(() => order.push('drained'));
    expect(state.draining).toBe(true);
    expect((await metrics.registry.getSingleMetricAsString('ersgw_draining')).trim().split('\n').pop()).toBe('ersgw_draining 1');
    // The grace period: still accepting and serving.
    expect(await get(port)).toEqual({ status: 200, connection: 'close' });
    expect(server.listening).toBe(true);

    await tick(GRACE_MS);
    expect(server.listening).toBe(false);
    await tick();
    expect(order).toEqual([]);
    held[0]!.end('late');
    expect((await inFlight).status).toBe(200);
    await tick();
    // The listener's last connection has ended; a sign-in is still at e-RS.
    expect(order).toEqual([]);
    endLogin();
    await login;
    await drained;
    expect(order).toEqual(['closes stopped', 'drained']);
  });

  it('with no e-RS session call left, the close worker still waits for the last connection', async () => {
    const order: string[] = [];
    let hold!: ServerResponse;
    server = createServer((_request, response) => (hold = response));
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const lanes: ErsSessionLanes = { logins: new ErsLane(new HttpAgent(), 1, 1), closes: new ErsLane(new HttpAgent(), 1, 1), checks: new ErsLane(new HttpAgent(), 1, 1) };
    const drain = new Drain(new DrainState(), new GatewayMetrics(), new RecordingCloses(order), lanes, pino({ level: 'silent' }), { drainGraceMs: 0 } as HttpConfig);
    const inFlight = get((server.address() as AddressInfo).port);
    await tick();
    const drained = drain.run(server, 'SIGTERM').then(() => order.push('drained'));
    await tick(100);
    expect(order).toEqual([]);
    hold.end('done');
    await inFlight;
    await drained;
    expect(order).toEqual(['closes stopped', 'drained']);
  });
});
