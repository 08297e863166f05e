import type { Metric, Registry } from 'prom-client';

type Labels<L extends string> = Readonly<Record<L, string | number>>;

/** What the registry reads from a metric (`get()`), as prom-client's own metrics return it. */
interface Exposition {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  aggregator: 'sum';
  values: { labels: Record<string, string | number>; value: number; metricName?: string }[];
}

/**
 * prom-client's labelled `observe`/`inc` hash the label object and allocate on every call, which
 * showed on the proxied-call path. These two metrics keep one small accumulator per label set,
 * found once (`labels()`) and then updated with plain arithmetic; they are exposed through the same
 * registry, in the same text format as prom-client's Counter and Histogram (a test compares them).
 */
abstract class SeriesMetric<L extends string, S> {
  readonly aggregator = 'sum';
  private readonly series = new Map<string, { labels: Labels<L>; value: S }>();

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly labelNames: readonly L[],
    registry: Registry,
  ) {
    registry.registerMetric(this as unknown as Metric);
  }

  /** The accumulator for these label values: look it up once, keep it, update it on the hot path. */
  labels(labels: Labels<L>): S {
    let key = '';
    for (const name of this.labelNames) key += `${labels[name]}\u0000`;
    let entry = this.series.get(key);
    if (entry === undefined) {
      const own = {} as Record<L, string | number>;
      for (const name of this.labelNames) own[name] = labels[name];
      entry = { labels: own, value: this.newSeries() };
      this.series.set(key, entry);
    }
    return entry.value;
  }

  protected entries(): IterableIterator<{ labels: Labels<L>; value: S }> {
    return this.series.values();
  }

  protected abstract newSeries(): S;
}

export class CounterSeries {
  value = 0;

  inc(by = 1): void {
    this.value += by;
  }
}

export class SeriesCounter<L extends string> extends SeriesMetric<L, CounterSeries> {
  readonly type = 'counter';

  inc(labels: Labels<L>, by = 1): void {
    this.labels(labels).inc(by);
  }

  get(): Promise<Exposition> {
    const values: Exposition['values'] = [];
    for (const { labels, value } of this.entries()) values.push({ labels: { ...labels }, value: value.value });
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  protected newSeries(): CounterSeries {
    return new CounterSeries();
  }
}

export class HistogramSeries {
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is above every bound. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(value: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && value > (bounds[i] as number)) i++;
    (this.counts[i] as number)++;
    this.sum += value;
    this.count++;
  }
}

export class SeriesHistogram<L extends string> extends SeriesMetric<L, HistogramSeries> {
  readonly type = 'histogram';

  constructor(
    name: string,
    help: string,
    labelNames: readonly L[],
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    super(name, help, labelNames, registry);
  }

  observe(labels: Labels<L>, value: number): void {
    this.labels(labels).observe(value);
  }

  get(): Promise<Exposition> {
    const values: Exposition['values'] = [];
    for (const { labels, value } of this.entries()) {
      let cumulative = 0;
      this.bounds.forEach((bound, i) => {
        cumulative += value.counts[i] as number;
        values.push({ labels: { le: bound, ...labels }, value: cumulative, metricName: `${this.name}_bucket` });
      });
      values.push({ labels: { le: '+Inf', ...labels }, value: value.count, metricName: `${this.name}_bucket` });
      values.push({ labels: { ...labels }, value: value.sum, metricName: `${this.name}_sum` });
      values.push({ labels: { ...labels }, value: value.count, metricName: `${this.name}_count` });
    }
    return Promise.resolve({ name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values });
  }

  protected newSeries(): HistogramSeries {
    return new HistogramSeries(this.bounds);
  }
}
