import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startRemoteWritingPrometheus, type RemoteWritingPrometheus } from '../support/peers.js';
import { getJson, startTestWeir, type TestWeir } from '../support/weir.js';

/**
 * A real Prometheus (Debian's 2.42, installed by scripts/install-peers.sh) scrapes itself and a real
 * node-exporter every second and remote-writes to a weir on the embedded topology. After 15 s of
 * that, nothing may be lost: Prometheus reports no failed or dropped sample or metadata, and every
 * series it holds, with its external labels, is in weir's index, with the same metadata.
 */
type Labels = Record<string, string>;
type MetadataEntry = { type: string; help: string; unit: string };

const SOAK_MS = 15_000;
const ALL_SERIES = `match[]=${encodeURIComponent('{__name__=~".+"}')}`;

const canonical = (labels: Labels) => JSON.stringify(Object.entries(labels).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));

/** Sums every sample of a family in the text exposition format; undefined when the family is absent. */
function metricValue(exposition: string, name: string): number | undefined {
  let sum: number | undefined;
  for (const line of exposition.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== ' ' && rest[0] !== '{') continue;
    sum = (sum ?? 0) + Number(rest.slice(rest.lastIndexOf(' ') + 1));
  }
  return sum;
}

/** Polls `check` until it returns true; returns false at the deadline, so the caller asserts what was missing. */
async function pollUntil(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= deadline) return false;
    await delay(everyMs);
  }
}

async function seriesOf(baseUrl: string, query: string): Promise<Labels[]> {
  const { status, body } = await getJson(`${baseUrl}/api/v1/series?${query}`);
  expect(status, `${baseUrl}/api/v1/series?${query}: ${JSON.stringify(body).slice(0, 500)}`).toBe(200);
  return body.data as Labels[];
}

describe('a real Prometheus remote-writing to weir', () => {
  let weir: TestWeir | undefined;
  let prometheus: RemoteWritingPrometheus | undefined;
  const startSeconds = Math.floor(Date.now() / 1000);
  const prometheusMetrics = async () => (await fetch(`${prometheus!.url}/metrics`)).text();

  beforeAll(async () => {
    weir = await startTestWeir({ topologyFile: 'topology/embedded.yaml' });
    prometheus = await startRemoteWritingPrometheus({ remoteWriteUrl: `${weir.url}/api/v1/write` });
    // Soak: SOAK_MS of remote-writing, counted from the first samples sent (Prometheus only scrapes
    // once its target discovery settles, ~5 s after it is ready), with metadata sent and both jobs in weir.
    let sendingSince: number | undefined;
    const soaked = await pollUntil(async () => {
      const metrics = await prometheusMetrics();
      if ((metricValue(metrics, 'prometheus_remote_storage_samples_total') ?? 0) > 0) sendingSince ??= Date.now();
      if (sendingSince === undefined || Date.now() - sendingSince < SOAK_MS) return false;
      const up = await seriesOf(weir!.url, 'match[]=up');
      return (metricValue(metrics, 'prometheus_remote_storage_metadata_total') ?? 0) > 0 && up.length >= 2;
    }, SOAK_MS + 15_000, 500);
    if (!soaked) throw new Error(`Prometheus did not send samples and metadata and get both targets' up into weir within ${SOAK_MS + 15_000} ms:\n${prometheus.logs()}`);
  });

  afterAll(async () => {
    try {
      await prometheus?.stop();
    } finally {
      await weir?.stop();
    }
  });

  it('has every series Prometheus holds, with the external labels, and none without them', async () => {
    const { url, externalLabels } = prometheus!;
    const held = await seriesOf(url, `${ALL_SERIES}&start=${startSeconds}`);
    // Remote write adds the external labels to every series; a label of the series itself wins.
    const expected = new Set(held.map((labels) => canonical({ ...externalLabels, ...labels })));
    expect(expected.size).toBeGreaterThan(500); // both targets' full expositions, not a trickle

    // weir lags Prometheus by up to a send deadline; wait for it to catch up with this snapshot.
    let missing: string[] = [];
    let stored: Labels[] = [];
    await pollUntil(async () => {
      stored = await seriesOf(weir!.url, ALL_SERIES);
      const got = new Set(stored.map(canonical));
      missing = [...expected].filter((key) => !got.has(key));
      return missing.length === 0;
    }, 10_000);
    expect(missing.slice(0, 20), `${missing.length} of ${expected.size} series missing from weir`).toEqual([]);
    // weir may hold a few more (series Prometheus created after the snapshot), never series of other origin.
    const withoutExternalLabels = stored.filter((labels) => Object.entries(externalLabels).some(([name, value]) => labels[name] !== value));
    expect(withoutExternalLabels).toEqual([]);
    expect(stored.length).toBeLessThan(expected.size * 1.1);
  });

  it('has up for exactly the two targets, and both jobs among the label values', async () => {
    const { externalLabels, targets } = prometheus!;
    const up = await seriesOf(weir!.url, 'match[]=up');
    const expectedUp = Object.entries(targets).map(([job, instance]) => canonical({ __name__: 'up', job, instance, ...externalLabels }));
    expect(up.map(canonical).sort()).toEqual(expectedUp.sort());

    const jobs = await getJson(`${weir!.url}/api/v1/label/job/values`);
    expect(jobs.body).toEqual({ status: 'success', data: ['node', 'prometheus'] });
  });

  it('has the metadata Prometheus reports, entry for entry', async () => {
    const reported = (await getJson(`${prometheus!.url}/api/v1/metadata`)).body.data as Record<string, MetadataEntry[]>;
    const stored = (await getJson(`${weir!.url}/api/v1/metadata`)).body.data as Record<string, MetadataEntry[]>;
    // Spot checks with known answers, so an empty or garbled side cannot pass by agreeing.
    expect(stored.prometheus_build_info).toEqual(reported.prometheus_build_info);
    expect(stored.prometheus_build_info).toEqual([{ type: 'gauge', help: expect.stringContaining('build'), unit: '' }]);
    expect(stored.node_cpu_seconds_total).toEqual(reported.node_cpu_seconds_total);
    expect(stored.node_cpu_seconds_total).toEqual([{ type: 'counter', help: expect.stringContaining('CPU'), unit: '' }]);

    const entry = (m: MetadataEntry) => JSON.stringify({ type: m.type, help: m.help, unit: m.unit });
    const missing = Object.entries(reported).flatMap(([family, entries]) =>
      entries.filter((m) => !(stored[family] ?? []).some((s) => entry(s) === entry(m))).map((m) => `${family} ${entry(m)}`),
    );
    expect(Object.keys(reported).length).toBeGreaterThan(100);
    expect(missing.slice(0, 20), `${missing.length} metadata entries missing from weir`).toEqual([]);
  });

  it('leaves Prometheus with samples and metadata sent, and nothing failed, dropped or retried', async () => {
    const metrics = await prometheusMetrics();
    const figure = (name: string) => metricValue(metrics, `prometheus_remote_storage_${name}`);
    // Prometheus 2.42's names; a renamed counter must fail here rather than read as zero.
    const figures = {
      samples_total: figure('samples_total'),
      samples_failed_total: figure('samples_failed_total'),
      samples_retried_total: figure('samples_retried_total'),
      samples_dropped_total: figure('samples_dropped_total'),
      metadata_total: figure('metadata_total'),
      metadata_failed_total: figure('metadata_failed_total'),
      metadata_retried_total: figure('metadata_retried_total'),
    };
    console.info(`prometheus remote_write: ${JSON.stringify(figures)}`);
    expect(figures.samples_total).toBeGreaterThan(1000);
    expect(figures.metadata_total).toBeGreaterThan(0);
    expect({
      samples_failed_total: figures.samples_failed_total,
      samples_retried_total: figures.samples_retried_total,
      samples_dropped_total: figures.samples_dropped_total,
      metadata_failed_total: figures.metadata_failed_total,
      metadata_retried_total: figures.metadata_retried_total,
    }, prometheus!.logs()).toEqual({ samples_failed_total: 0, samples_retried_total: 0, samples_dropped_total: 0, metadata_failed_total: 0, metadata_retried_total: 0 });
  });
});
