import { mergeMap, Subject, firstValueFrom } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DownstreamError } from '../../src/errors.js';
import type { Message } from '../../src/runtime/message.js';
import { defineProcessor, type ProcessorDeclaration, type ResourceDeclaration, type SourceDeclaration } from '../../src/topology/declaration.js';
import { defaultRegistry } from '../../src/components.js';
import { createRegistry } from '../../src/topology/registry.js';
import { loadCorpus } from '../support/corpus.js';
import { postWrite, startTestWeir, type TestWeir } from '../support/weir.js';

/** A sink that holds every batch until the test opens the gate, or fails while `failing` is set. */
const gate = new Subject<void>();
let failing: Error | undefined;
let written = 0;
const gateSink = defineProcessor({
  kind: 'sink',
  type: 'test_gate',
  summary: 'Test only: holds batches until released.',
  stability: 'experimental',
  examples: [{ title: 'Test only', yaml: '- type: test_gate' }],
  accepts: 'any',
  emits: 'same',
  config: z.strictObject({}),
  create: () =>
    mergeMap(async (m: Message<unknown>) => {
      if (failing) throw failing;
      await firstValueFrom(gate);
      written += 1;
      return m;
    }),
});

function registry() {
  const base = defaultRegistry();
  return createRegistry({
    sources: [...base.sources.values()] as SourceDeclaration[],
    processors: [...base.processors.values(), gateSink] as ProcessorDeclaration[],
    resources: [...base.resources.values()] as ResourceDeclaration[],
  });
}

const topology = (maxInFlight: number, extra = '') => `
name: gated
pipelines:
  ingest:
    max_in_flight: ${maxInFlight}
    source:
      type: http_remote_write
      ack_timeout: 2s
      retry_after: 7s
    steps:
      - type: canonicalize
      - type: test_gate
        runtime:
          retry: { max_retries: 2, initial_backoff: 10ms }${extra}
`;

describe('backpressure and acknowledgement', () => {
  let weir: TestWeir | undefined;
  const body = loadCorpus()[0].body;
  afterEach(async () => {
    gate.next(); // let anything still held finish so the service drains quickly
    failing = undefined;
    await weir?.stop();
    weir = undefined;
  });

  it('answers 503 with Retry-After when the pipeline is full, and 204 only once the sink wrote', async () => {
    weir = await startTestWeir({ topologyText: topology(2), registry: registry() });
    written = 0;
    const held = [postWrite(weir.url, body), postWrite(weir.url, body)];
    await new Promise((r) => setTimeout(r, 200));
    const shed = await postWrite(weir.url, body);
    expect(shed.status).toBe(503);
    expect(shed.headers.get('retry-after')).toBe('7');
    expect(written).toBe(0);
    gate.next();
    await new Promise((r) => setTimeout(r, 20));
    gate.next();
    const statuses = (await Promise.all(held)).map((r) => r.status);
    expect(statuses).toEqual([204, 204]);
    expect(written).toBe(2);
    const metrics = await (await fetch(`${weir.url}/metrics`)).text();
    expect(metrics).toMatch(/weir_source_shed_total\{pipeline="ingest",stage="http_remote_write",reason="pipeline_full"\} 1/);
  });

  it('answers 503 when the data is not acknowledged within ack_timeout, and keeps the credit until it settles', async () => {
    weir = await startTestWeir({ topologyText: topology(1), registry: registry() });
    const res = await postWrite(weir.url, body);
    expect(res.status).toBe(503);
    expect(await res.text()).toMatch(/not acknowledged downstream within 2000 ms/);
    // The timed-out request still occupies the only credit.
    expect((await postWrite(weir.url, body)).status).toBe(503);
    gate.next();
    await new Promise((r) => setTimeout(r, 50));
    const next = postWrite(weir.url, body);
    await new Promise((r) => setTimeout(r, 50));
    gate.next();
    expect((await next).status).toBe(204);
  });

  it('answers 503 when the sink keeps failing with a retriable error', async () => {
    weir = await startTestWeir({ topologyText: topology(4), registry: registry() });
    failing = new DownstreamError('index unreachable');
    const res = await postWrite(weir.url, body);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).not.toBeNull();
    expect(await res.text()).toMatch(/index unreachable/);
  });

  it('refuses new writes with 503 while draining, and finishes what it holds', async () => {
    weir = await startTestWeir({ topologyText: topology(4), registry: registry() });
    const held = postWrite(weir.url, body);
    await new Promise((r) => setTimeout(r, 100));
    weir.service.edge.drain();
    const refused = await postWrite(weir.url, body);
    expect(refused.status).toBe(503);
    expect((await fetch(`${weir.url}/-/ready`)).status).toBe(503);
    gate.next();
    expect((await held).status).toBe(204);
  });
});
