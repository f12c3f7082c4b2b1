import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { compressSnappy } from '../../src/remote-write/index.js';
import { encodeWriteRequestV1, encodeWriteRequestV2 } from '../../src/remote-write/reference-codec.test-support.js';
import { loadCorpus, loadManifest } from '../support/corpus.js';
import { canonicalLabels as canonical, corpusExpectations, metadataAsSets } from '../support/corpus-expectations.js';
import { getJson, postWrite, remoteWriteHeaders, startTestWeir, type TestWeir } from '../support/weir.js';

/**
 * The foundation's promise, end to end over real HTTP: every body of the real corpus posted to a
 * running weir on the embedded topology, then the Prometheus API must show exactly the corpus's
 * distinct series (computed independently, straight from protobufjs) and its metadata.
 */
const corpus = loadCorpus();

describe('embedded topology, end to end', () => {
  let weir: TestWeir;
  const expected = corpusExpectations();

  beforeAll(async () => {
    weir = await startTestWeir({ topologyFile: 'topology/embedded.yaml' });
  });
  afterAll(async () => {
    await weir?.stop();
  });

  it('takes every corpus request with 204', async () => {
    const statuses: number[] = [];
    for (const { body } of corpus) statuses.push((await postWrite(weir.url, body)).status);
    expect(statuses.filter((s) => s !== 204)).toEqual([]);
    expect(statuses).toHaveLength(loadManifest().requests);
  });

  it('serves exactly the corpus\'s distinct series through /api/v1/series', async () => {
    expect(expected.series.size).toBe(loadManifest().distinct_series);
    const { status, body } = await getJson(`${weir.url}/api/v1/series?match[]=${encodeURIComponent('{__name__=~".+"}')}`);
    expect(status).toBe(200);
    expect(body.status).toBe('success');
    const got = new Set((body.data as Array<Record<string, string>>).map(canonical));
    expect(got.size).toBe(expected.series.size);
    expect([...got].sort()).toEqual([...expected.series.keys()].sort());
  });

  it('serves the corpus\'s metadata through /api/v1/metadata', async () => {
    const { body } = await getJson(`${weir.url}/api/v1/metadata`);
    expect(metadataAsSets(body.data)).toEqual(expected.metadata);
  });

  it('answers /labels, /label/<name>/values and match[] like Prometheus', async () => {
    const jobs = new Set([...expected.series.values()].map((l) => l.job).filter(Boolean));
    const values = await getJson(`${weir.url}/api/v1/label/job/values`);
    expect(values.body).toEqual({ status: 'success', data: [...jobs].sort() });

    const names = new Set([...expected.series.values()].flatMap((l) => Object.keys(l)));
    const labels = await getJson(`${weir.url}/api/v1/labels`);
    expect(labels.body.data).toEqual([...names].sort());

    const up = await getJson(`${weir.url}/api/v1/series?match[]=up`);
    const expectedUp = [...expected.series.values()].filter((l) => l.__name__ === 'up').map(canonical).sort();
    expect((up.body.data as Array<Record<string, string>>).map(canonical).sort()).toEqual(expectedUp);

    const form = await fetch(`${weir.url}/api/v1/series`, { method: 'POST', body: new URLSearchParams({ 'match[]': 'up{job="node"}' }), headers: { 'content-type': 'application/x-www-form-urlencoded' } });
    expect(((await form.json()) as { data: unknown[] }).data).toHaveLength(1);

    const bad = await getJson(`${weir.url}/api/v1/series?match[]=${encodeURIComponent('{job=~"("}')}`);
    expect(bad.status).toBe(400);
    expect(bad.body).toMatchObject({ status: 'error', errorType: 'bad_data' });

    const limited = await getJson(`${weir.url}/api/v1/series?match[]=up&limit=2`);
    expect(limited.body.data).toHaveLength(2);
    expect(limited.body.warnings).toEqual(['results truncated due to limit']);
  });

  it('takes the corpus again without growing the index (dedup)', async () => {
    for (const { body } of corpus.slice(0, 20)) expect((await postWrite(weir.url, body)).status).toBe(204);
    const { body } = await getJson(`${weir.url}/api/v1/series?match[]=${encodeURIComponent('{__name__=~".+"}')}`);
    expect(body.data).toHaveLength(expected.series.size);
  });

  it('takes remote-write 2.0 and reports what it wrote in the response headers', async () => {
    const req = {
      version: '2.0' as const,
      timeseries: [
        {
          labels: [{ name: '__name__', value: 'rw2_test_total' }, { name: 'job', value: 'rw2' }],
          samples: [{ value: 1, timestamp: Date.now() }, { value: 2, timestamp: Date.now() + 1 }],
          exemplars: [{ labels: [{ name: 'trace_id', value: 'abc' }], value: 1, timestamp: Date.now() }],
          histograms: [],
          metadata: { type: 'counter' as const, help: 'A 2.0 test counter.', unit: '' },
        },
      ],
      metadata: [],
    };
    const res = await postWrite(weir.url, compressSnappy(encodeWriteRequestV2(req)), remoteWriteHeaders.v2);
    expect(res.status).toBe(204);
    expect(res.headers.get('x-prometheus-remote-write-samples-written')).toBe('2');
    expect(res.headers.get('x-prometheus-remote-write-histograms-written')).toBe('0');
    expect(res.headers.get('x-prometheus-remote-write-exemplars-written')).toBe('1');
    const { body } = await getJson(`${weir.url}/api/v1/series?match[]=rw2_test_total`);
    expect(body.data).toEqual([{ __name__: 'rw2_test_total', job: 'rw2' }]);
    const meta = await getJson(`${weir.url}/api/v1/metadata?metric=rw2_test_total`);
    expect(meta.body.data).toEqual({ rw2_test_total: [{ type: 'counter', help: 'A 2.0 test counter.', unit: '' }] });
  });

  it('indexes the valid series of a request and answers 400 naming the invalid ones', async () => {
    const req = {
      version: '1.0' as const,
      timeseries: [
        { labels: [{ name: '__name__', value: 'valid_metric' }, { name: 'a', value: '1' }], samples: [{ value: 1, timestamp: Date.now() }], exemplars: [], histograms: [] },
        { labels: [{ name: '__name__', value: 'bad-metric' }], samples: [{ value: 1, timestamp: Date.now() }], exemplars: [], histograms: [] },
        { labels: [{ name: '__name__', value: 'dup' }, { name: 'x', value: '1' }, { name: 'x', value: '2' }], samples: [], exemplars: [], histograms: [] },
      ],
      metadata: [],
    };
    const res = await postWrite(weir.url, compressSnappy(encodeWriteRequestV1(req)));
    expect(res.status).toBe(400);
    const text = await res.text();
    expect(text).toContain('timeseries[1] {"bad-metric"}: invalid metric name "bad-metric"');
    expect(text).toContain('timeseries[2]');
    expect(text).toContain('duplicate label name "x"');
    const { body } = await getJson(`${weir.url}/api/v1/series?match[]=valid_metric`);
    expect(body.data).toEqual([{ __name__: 'valid_metric', a: '1' }]);
  });

  describe('malformed requests get the right 4xx and the server keeps serving', () => {
    const valid = () => corpus[0].body;
    const cases: Array<[string, () => Promise<Response>, number, RegExp]> = [
      ['truncated snappy', () => postWrite(weir.url, valid().subarray(0, valid().length >> 1)), 400, /snappy/i],
      ['garbage protobuf in valid snappy', () => postWrite(weir.url, compressSnappy(Buffer.from('\x0a\xff\xff\xff\xff\x0fgarbage'))), 400, /protobuf/i],
      ['not snappy at all', () => postWrite(weir.url, Buffer.from('hello, this is not snappy')), 400, /snappy/i],
      ['a snappy header claiming a huge length', () => postWrite(weir.url, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x00])), 413, /limit/i],
      ['wrong content type', () => postWrite(weir.url, valid(), { ...remoteWriteHeaders.v1, 'content-type': 'application/json' }), 415, /content.type/i],
      ['unknown proto in content type', () => postWrite(weir.url, valid(), { ...remoteWriteHeaders.v1, 'content-type': 'application/x-protobuf;proto=foo.Bar' }), 415, /unsupported remote-write message "foo\.Bar"/],
      ['unsupported content encoding', () => postWrite(weir.url, valid(), { ...remoteWriteHeaders.v1, 'content-encoding': 'gzip' }), 415, /encoding/i],
      ['a body over the size limit', () => postWrite(weir.url, Buffer.alloc(33 * 1024 * 1024, 1)), 413, /limit/i],
    ];
    it.each(cases)('%s', async (_name, send, status, message) => {
      const res = await send();
      expect(res.status).toBe(status);
      expect(await res.text()).toMatch(message);
      expect((await postWrite(weir.url, valid())).status).toBe(204);
    });
  });

  it('answers the write route the same through Hono (app.request, no socket) as over the socket', async () => {
    const body = corpus[1].body;
    const viaApp = await weir.service.edge.app.request('/api/v1/write', { method: 'POST', body, headers: remoteWriteHeaders.v1 });
    expect(viaApp.status).toBe(204);
    const bad = await weir.service.edge.app.request('/api/v1/write', { method: 'POST', body, headers: { ...remoteWriteHeaders.v1, 'content-encoding': 'gzip' } });
    expect(bad.status).toBe(415);
    expect(await bad.text()).toMatch(/encoding/i);
  });

  it('reports health and readiness', async () => {
    expect((await fetch(`${weir.url}/-/healthy`)).status).toBe(200);
    expect((await fetch(`${weir.url}/-/ready`)).status).toBe(200);
    const metrics = await (await fetch(`${weir.url}/metrics`)).text();
    expect(metrics).toMatch(/weir_stage_batches_total\{pipeline="ingest",stage="series_index",type="series_index",outcome="ok"\} \d+/);
  });
});
