import { propagation, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { z } from 'zod';
import { corpusDir, loadCorpus, loadManifest } from '../../../test/support/corpus.js';
import { remoteWriteHeaders } from '../../../test/support/weir.js';
import type { Answer } from '../../edge/routes.js';
import { DownstreamError } from '../../errors.js';
import { compressSnappy, decodeRemoteWrite } from '../../remote-write/index.js';
import { encodeWriteRequestV2 } from '../../remote-write/reference-codec.test-support.js';
import { countWriteRequest, type WriteRequest } from '../../remote-write/types.js';
import type { Message } from '../../runtime/message.js';
import { settle, startSource, type RunningSource, type StartSourceOptions } from '../stage-harness.test-support.js';
import { httpRemoteWrite, httpRemoteWriteConfig } from './http-remote-write.js';

const corpus = loadCorpus();
const manifest = loadManifest();
const body = corpus[0].body;

function start(config: z.input<typeof httpRemoteWriteConfig> = {}, options: StartSourceOptions = {}): RunningSource {
  return startSource(httpRemoteWrite, config, options);
}

function write(source: RunningSource, request: { body?: Uint8Array; headers?: Record<string, string> } = {}): Promise<Answer> {
  return source.http.request('/api/v1/write', { body: request.body ?? body, headers: request.headers ?? remoteWriteHeaders.v1 });
}

/** The answer, or `pending` while the handler has not answered yet. */
async function answerNow(answer: Promise<Answer>): Promise<Answer | 'pending'> {
  const pending = Symbol('pending');
  const first = await Promise.race([answer, settle().then(() => pending)]);
  return first === pending ? 'pending' : (first as Answer);
}

afterEach(() => {
  propagation.disable();
  vi.useRealTimers();
});

describe('http_remote_write source', () => {
  it('answers 204 to a corpus request only once its delivery is acknowledged downstream', async () => {
    const source = start();
    const answer = write(source);
    const [m]: Array<Message<WriteRequest>> = await source.take(1);
    expect(countWriteRequest(m.payload).samples).toBe(manifest.files[0].samples);
    expect(await answerNow(answer)).toBe('pending');
    m.delivery.release();
    expect(await answer).toEqual({ status: 204 });
  });

  it('answers a 2.0 request with the samples, histograms and exemplars it wrote', async () => {
    const dir = corpusDir('prometheus-2.42-exemplars');
    const [, file] = loadManifest(dir).files;
    const v1 = decodeRemoteWrite(loadCorpus(dir)[1].body, { version: '1.0', maxDecodedBytes: Infinity, decoder: 'fast' });
    expect(file.exemplars).toBeGreaterThan(0);
    const source = start();
    const answer = write(source, { body: compressSnappy(encodeWriteRequestV2(v1)), headers: remoteWriteHeaders.v2 });
    (await source.take(1))[0].delivery.release();
    expect(await answer).toEqual({
      status: 204,
      headers: {
        'X-Prometheus-Remote-Write-Samples-Written': String(file.samples),
        'X-Prometheus-Remote-Write-Histograms-Written': '0',
        'X-Prometheus-Remote-Write-Exemplars-Written': String(file.exemplars),
      },
    });
  });

  it('answers 400 naming the series a step rejected, once the rest is acknowledged', async () => {
    const source = start();
    const answer = write(source);
    const [m] = await source.take(1);
    m.delivery.rejected.push({ where: 'timeseries[7] {"bad-name"}', reason: 'invalid metric name "bad-name"' });
    m.delivery.release();
    const { status, body: text } = await answer;
    expect(status).toBe(400);
    expect(text).toContain('1 invalid series were not written');
    expect(text).toContain('timeseries[7] {"bad-name"}: invalid metric name "bad-name"');
  });

  it('answers a failed delivery with its error (503 for a retriable downstream failure) and returns the credit', async () => {
    const source = start();
    const answer = write(source);
    const [m] = await source.take(1);
    m.delivery.fail(new DownstreamError('index unreachable'));
    expect(await answer).toMatchObject({ status: 503, headers: { 'retry-after': '5' }, body: 'index unreachable\n' });
    expect(source.flow.used).toBe(0);
  });

  it.each([
    ['a Content-Type that is not protobuf', { ...remoteWriteHeaders.v1, 'content-type': 'application/json' }],
    ['a remote-write message it does not know', { ...remoteWriteHeaders.v1, 'content-type': 'application/x-protobuf;proto=io.prometheus.write.v3.Request' }],
    ['a Content-Encoding other than snappy', { ...remoteWriteHeaders.v1, 'content-encoding': 'gzip' }],
  ])('answers 415 to %s, even when no credit is left', async (_, headers) => {
    const source = start({}, { maxInFlight: 1 });
    const first = write(source);
    expect((await write(source, { headers })).status).toBe(415);
    expect(source.emitted).toHaveLength(1);
    expect(source.shed).toEqual([]);
    source.emitted[0].delivery.release();
    await first;
  });

  it.each([
    ['a body over max_body_bytes', { maxBodyBytes: body.length - 1 }],
    ['a body that decompresses to more than max_decoded_bytes', { maxDecodedBytes: body.length }],
  ])('answers 413 to %s and returns the credit', async (_, limits) => {
    const source = start({}, { limits });
    const answer = await write(source);
    expect(answer.status).toBe(413);
    expect(answer.body).toMatch(/limit/);
    expect(source.emitted).toEqual([]);
    expect(source.flow.used).toBe(0);
  });

  it('answers 400 to a body that is not snappy, and returns the credit', async () => {
    const source = start();
    expect((await write(source, { body: Buffer.from('not snappy at all') })).status).toBe(400);
    expect(source.flow.used).toBe(0);
  });

  it.each([
    [{}, 503, '5'],
    [{ overload_status: 429 as const, retry_after: '2s' }, 429, '2'],
  ])('answers %j with %i and Retry-After when no credit is left, and takes requests again once one comes back', async (config, status, retryAfter) => {
    const source = start(config, { maxInFlight: 1 });
    const first = write(source);
    const [m] = await source.take(1);
    expect(await write(source)).toMatchObject({ status, headers: { 'retry-after': retryAfter } });
    expect(source.shed).toEqual(['pipeline_full']);
    m.delivery.release();
    expect((await first).status).toBe(204);
    const third = write(source);
    (await source.take(2))[1].delivery.release();
    expect((await third).status).toBe(204);
  });

  it('answers 503 when not acknowledged within ack_timeout, and keeps the credit until the delivery settles', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    const source = start({ ack_timeout: '2s', retry_after: '3s' }, { maxInFlight: 1 });
    const answer = write(source);
    const [m] = await source.take(1);
    await vi.advanceTimersByTimeAsync(1999);
    expect(await answerNow(answer)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await answer).toMatchObject({ status: 503, headers: { 'retry-after': '3' } });
    // Answered, but the data is still in the pipeline: the credit stays taken.
    expect(source.flow.used).toBe(1);
    expect((await write(source)).status).toBe(503);
    m.delivery.release();
    await settle();
    expect(source.flow.used).toBe(0);
  });

  it('answers 503 while draining and after it stopped, without taking a credit', async () => {
    const source = start();
    source.http.drain();
    expect(await answerNow(write(source))).toMatchObject({ status: 503, headers: { 'retry-after': '5' } });
    expect(source.shed).toEqual(['draining']);
    const stopped = start();
    stopped.stop();
    expect(await answerNow(write(stopped))).toMatchObject({ status: 503 });
    expect([...source.emitted, ...stopped.emitted]).toEqual([]);
    expect(source.flow.used + stopped.flow.used).toBe(0);
  });

  it('carries the trace context of the traceparent header', async () => {
    propagation.setGlobalPropagator(new W3CTraceContextPropagator());
    const source = start();
    void write(source, { headers: { ...remoteWriteHeaders.v1, traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' } });
    const [m] = await source.take(1);
    expect(trace.getSpanContext(m.traceContext)).toMatchObject({ traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', isRemote: true });
    m.delivery.release();
  });
});
