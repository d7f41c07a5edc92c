// A small Prometheus registry: counters, gauges and histograms with labels, rendered in the text
// exposition format (version 0.0.4). Plain data and functions; the HTTP side lives in routes/metrics.ts.

export type Labels = Record<string, string | number>;

interface Series {
  labels: Labels;
  value: number;
}

interface HistogramSeries {
  labels: Labels;
  buckets: number[]; // cumulative counts, one per upper bound
  sum: number;
  count: number;
}

export interface Counter {
  inc(labels?: Labels, by?: number): void;
  /** One label set's series, to count into without building its key each time. */
  series(labels: Labels): { inc(by?: number): void };
}

export interface Histogram {
  observe(labels: Labels, value: number): void;
  /** One label set's series, to observe into without building its key each time. */
  series(labels: Labels): { observe(value: number): void };
}

interface Metric {
  name: string;
  help: string;
  type: 'counter' | 'gauge' | 'histogram';
  render(): string[];
}

export interface Registry {
  counter(name: string, help: string): Counter;
  histogram(name: string, help: string, bounds: number[]): Histogram;
  /** A gauge read at scrape time; `read` returns one value per label set. */
  gauge(name: string, help: string, read: () => Series[]): void;
  /**
   * A counter kept elsewhere (a cache's hits since start) and read at scrape time: typed as a
   * counter, so that rate() and increase() treat a restart's drop to zero as a reset.
   */
  counterRead(name: string, help: string, read: () => Series[]): void;
  render(): string;
}

const key = (labels: Labels): string =>
  Object.keys(labels).sort().map((k) => `${k}=${labels[k]}`).join(',');

const escapeLabel = (v: string | number): string =>
  String(v).replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');

function labelText(labels: Labels, extra?: [string, string]): string {
  const pairs = Object.keys(labels).sort().map((k) => `${k}="${escapeLabel(labels[k])}"`);
  if (extra) pairs.push(`${extra[0]}="${extra[1]}"`);
  return pairs.length ? `{${pairs.join(',')}}` : '';
}

const num = (n: number): string => (Number.isFinite(n) ? String(n) : n > 0 ? '+Inf' : n < 0 ? '-Inf' : 'NaN');

export function createRegistry(): Registry {
  const metrics: Metric[] = [];
  const names = new Set<string>();
  const claim = (name: string, type: Metric['type']): void => {
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new Error(`bad metric name ${name}`);
    // Prometheus's naming rule, which OpenMetrics parsers enforce: a counter's name ends in _total
    if ((type === 'counter') !== name.endsWith('_total')) throw new Error(`metric ${name}: only a counter's name ends in _total`);
    if (names.has(name)) throw new Error(`metric ${name} registered twice`);
    names.add(name);
  };
  const read = (type: 'counter' | 'gauge') => (name: string, help: string, values: () => Series[]): void => {
    claim(name, type);
    metrics.push({ name, help, type, render: () => values().map((s) => `${name}${labelText(s.labels)} ${num(s.value)}`) });
  };

  return {
    counter(name, help) {
      claim(name, 'counter');
      const series = new Map<string, Series>();
      metrics.push({
        name, help, type: 'counter',
        render: () => [...series.values()].map((s) => `${name}${labelText(s.labels)} ${num(s.value)}`),
      });
      const seriesOf = (labels: Labels): Series => {
        const k = key(labels);
        let s = series.get(k);
        if (!s) series.set(k, (s = { labels: { ...labels }, value: 0 }));
        return s;
      };
      return {
        inc(labels = {}, by = 1) {
          seriesOf(labels).value += by;
        },
        series(labels) {
          const s = seriesOf(labels);
          return { inc: (by = 1) => { s.value += by; } };
        },
      };
    },
    histogram(name, help, bounds) {
      claim(name, 'histogram');
      const sorted = [...bounds].sort((a, b) => a - b);
      const series = new Map<string, HistogramSeries>();
      metrics.push({
        name, help, type: 'histogram',
        render: () => {
          const out: string[] = [];
          for (const s of series.values()) {
            sorted.forEach((b, i) => out.push(`${name}_bucket${labelText(s.labels, ['le', num(b)])} ${s.buckets[i]}`));
            out.push(`${name}_bucket${labelText(s.labels, ['le', '+Inf'])} ${s.count}`);
            out.push(`${name}_sum${labelText(s.labels)} ${num(s.sum)}`);
            out.push(`${name}_count${labelText(s.labels)} ${s.count}`);
          }
          return out;
        },
      });
      const seriesOf = (labels: Labels): HistogramSeries => {
        const k = key(labels);
        let s = series.get(k);
        if (!s) series.set(k, (s = { labels: { ...labels }, buckets: sorted.map(() => 0), sum: 0, count: 0 }));
        return s;
      };
      const observeInto = (s: HistogramSeries, value: number) => {
        for (let i = 0; i < sorted.length; i++) if (value <= sorted[i]) s.buckets[i]++;
        s.sum += value;
        s.count++;
      };
      return {
        observe(labels, value) {
          observeInto(seriesOf(labels), value);
        },
        series(labels) {
          const s = seriesOf(labels);
          return { observe: (value: number) => observeInto(s, value) };
        },
      };
    },
    gauge: read('gauge'),
    counterRead: read('counter'),
    render() {
      const out: string[] = [];
      for (const m of metrics) {
        out.push(`# HELP ${m.name} ${m.help.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')}`, `# TYPE ${m.name} ${m.type}`);
        out.push(...m.render());
      }
      return out.join('\n') + '\n';
    },
  };
}
