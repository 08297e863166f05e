import { Injectable } from '@nestjs/common';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { type CounterSeries, type HistogramSeries, SeriesCounter, SeriesHistogram } from './series-metrics';

/**
 * Every metric the gateway exports. Label values are route templates, methods, statuses,
 * operations and reasons: never a path with ids in it, never a secret.
 */
@Injectable()
export class GatewayMetrics {
  readonly registry = new Registry();

  // The three metrics observed on every proxied call: allocation-free series (see series-metrics.ts).
  readonly requests = new SeriesCounter(
    'ersgw_http_requests_total',
    'HTTP requests answered, by route template, method and status',
    ['route', 'method', 'status'] as const,
    this.registry,
  );

  readonly requestDuration = new SeriesHistogram(
    'ersgw_http_request_duration_seconds',
    'Time to answer HTTP requests (to the last byte), by route template',
    ['route', 'method'] as const,
    [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 180],
    this.registry,
  );

  readonly upstreamDuration = new SeriesHistogram(
    'ersgw_upstream_request_duration_seconds',
    'Time until e-RS answered (headers), by operation (A001, A002, A003, check, proxy)',
    ['operation'] as const,
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 180],
    this.registry,
  );

  /** The proxy's series of `upstreamDuration`, bound once (it is observed on every call). */
  readonly proxyUpstreamDuration = this.upstreamDuration.labels({ operation: 'proxy' });

  readonly upstreamErrors = new Counter({
    name: 'ersgw_upstream_errors_total',
    help: 'e-RS calls that failed, by operation and kind (timeout, unavailable, unexpected)',
    labelNames: ['operation', 'kind'] as const,
    registers: [this.registry],
  });

  readonly sessionChecks = new Counter({
    name: 'ersgw_ers_session_checks_total',
    help: 'Liveness checks (A002) of e-RS sessions that answered a proxied call with 403, by verdict (live, dead, unknown)',
    labelNames: ['verdict'] as const,
    registers: [this.registry],
  });

  readonly sessionsStarted = new Counter({
    name: 'ersgw_sessions_started_total',
    help: 'Gateway sessions started (successful logins)',
    registers: [this.registry],
  });

  readonly sessionsEnded = new Counter({
    name: 'ersgw_sessions_ended_total',
    help: 'Gateway sessions ended, by reason',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });

  readonly upstreamCloses = new Counter({
    name: 'ersgw_upstream_session_closes_total',
    help: 'A003 calls made to close e-RS sessions, by result',
    labelNames: ['result'] as const,
    registers: [this.registry],
  });

  readonly storeErrors = new Counter({
    name: 'ersgw_store_errors_total',
    help: 'Session store operations that failed (Redis unreachable or timing out)',
    registers: [this.registry],
  });

  readonly redisDataLost = new Counter({
    name: 'ersgw_redis_data_lost_total',
    help: 'Times Redis came back without its data (restarted without persistence, flushed): its sessions were lost',
    registers: [this.registry],
  });

  readonly draining = new Gauge({
    name: 'ersgw_draining',
    help: '1 while the process drains after SIGTERM',
    registers: [this.registry],
  });

  /** The series of each route, method and status, found once: a string key is all a call costs. */
  private readonly requestSeries = new Map<string, { count: CounterSeries; duration: HistogramSeries }>();

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'ersgw_' });
  }

  recordRequest(route: string, method: string, status: number, seconds: number): void {
    const key = `${method} ${status} ${route}`;
    let series = this.requestSeries.get(key);
    if (series === undefined) {
      series = {
        count: this.requests.labels({ route, method, status }),
        duration: this.requestDuration.labels({ route, method }),
      };
      this.requestSeries.set(key, series);
    }
    series.count.inc();
    series.duration.observe(seconds);
  }
}
