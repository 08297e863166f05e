import { Counter, Histogram, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { SeriesCounter, SeriesHistogram } from './series-metrics';

const BUCKETS = [0.001, 0.01, 0.1, 1, 10];
const OBSERVED: [string, string, number][] = [
  ['/api/ers/*', 'GET', 0.0004],
  ['/api/ers/*', 'GET', 0.001],
  ['/api/ers/*', 'GET', 0.0011],
  ['/api/ers/*', 'POST', 0.5],
  ['/api/session', 'POST', 12],
  ['/api/ers/*', 'GET', 9.99],
];

describe('SeriesHistogram and SeriesCounter', () => {
  it('expose exactly the text prom-client Histogram and Counter expose for the same observations', async () => {
    const theirs = new Registry();
    const histogram = new Histogram({ name: 'h_seconds', help: 'h help', labelNames: ['route', 'method'], buckets: BUCKETS, registers: [theirs] });
    const counter = new Counter({ name: 'c_total', help: 'c help', labelNames: ['route', 'method', 'status'], registers: [theirs] });
    const ours = new Registry();
    const fastHistogram = new SeriesHistogram('h_seconds', 'h help', ['route', 'method'] as const, BUCKETS, ours);
    const fastCounter = new SeriesCounter('c_total', 'c help', ['route', 'method', 'status'] as const, ours);
    for (const [route, method, seconds] of OBSERVED) {
      histogram.observe({ route, method }, seconds);
      counter.inc({ route, method, status: 200 });
      fastHistogram.labels({ route, method }).observe(seconds);
      fastCounter.labels({ route, method, status: 200 }).inc();
    }
    fastCounter.inc({ route: '/x', method: 'GET', status: 503 }, 2);
    counter.inc({ route: '/x', method: 'GET', status: 503 }, 2);
    expect(await ours.metrics()).toBe(await theirs.metrics());
  });

  it('counts an observation equal to a bound in that bound (le is inclusive), and one above all bounds only in +Inf', async () => {
    const registry = new Registry();
    const histogram = new SeriesHistogram('x_seconds', 'x', ['op'] as const, [1, 2], registry);
    histogram.observe({ op: 'a' }, 1);
    histogram.observe({ op: 'a' }, 3);
    const text = await registry.metrics();
    expect(text).toContain('x_seconds_bucket{le="1",op="a"} 1');
    expect(text).toContain('x_seconds_bucket{le="2",op="a"} 1');
    expect(text).toContain('x_seconds_bucket{le="+Inf",op="a"} 2');
    expect(text).toContain('x_seconds_sum{op="a"} 4');
    expect(text).toContain('x_seconds_count{op="a"} 2');
  });

  it('keeps one accumulator per label set: labels() returns the same series for the same values', () => {
    const histogram = new SeriesHistogram('y_seconds', 'y', ['op'] as const, [1], new Registry());
    expect(histogram.labels({ op: 'a' })).toBe(histogram.labels({ op: 'a' }));
    expect(histogram.labels({ op: 'a' })).not.toBe(histogram.labels({ op: 'b' }));
  });
});
