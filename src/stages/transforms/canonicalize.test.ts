import { describe, expect, it } from 'vitest';
import type { z } from 'zod';
import { InvalidInputError } from '../../errors.js';
import { scanWriteRequestV1 } from '../../remote-write/decode/raw-v1.js';
import { encodeWriteRequestV1 } from '../../remote-write/reference-codec.test-support.js';
import type { TimeSeries, WriteRequest } from '../../remote-write/types.js';
import type { SeriesBatch } from '../../series/canonical.js';
import { HashedSeriesBatch } from '../../series/hashed-batch.js';
import { runStage } from '../stage-harness.test-support.js';
import { canonicalize, canonicalizeConfig } from './canonicalize.js';

// The algorithm's tests are beside it (src/series/canonicalize.test.ts); these test the stage's wiring.

const series = (name: string): TimeSeries => ({ labels: [{ name: '__name__', value: name }], samples: [{ value: 1, timestamp: 1000 }], exemplars: [], histograms: [] });
const request = (...names: string[]): WriteRequest => ({ version: '1.0', timeseries: names.map(series), metadata: [] });

async function run(config: z.input<typeof canonicalizeConfig>, req: WriteRequest) {
  const { emitted, deliveries } = await runStage(canonicalize, config, [req]);
  return { batches: emitted.map((m) => m.payload as SeriesBatch), delivery: deliveries[0] };
}

describe('canonicalize stage', () => {
  it('on_invalid reject: passes the valid series on and names the invalid ones, up to max_reported_errors', async () => {
    const { batches, delivery } = await run({ max_reported_errors: 2 }, request('ok', 'bad-1', 'bad-2', 'bad-3'));
    expect(batches.map((b) => b.series.map((s) => s.key))).toEqual([['ok{}']]);
    expect(delivery.rejected).toEqual([
      { where: 'timeseries[1] {"bad-1"}', reason: 'invalid metric name "bad-1"' },
      { where: 'timeseries[2] {"bad-2"}', reason: 'invalid metric name "bad-2"' },
    ]);
  });

  it('on_invalid reject: a request with nothing valid fails as invalid input', async () => {
    const failure = run({ max_reported_errors: 1 }, request('bad-1', 'bad-2'));
    await expect(failure).rejects.toBeInstanceOf(InvalidInputError);
    await expect(failure).rejects.toMatchObject({ message: '2 invalid series', details: [{ where: 'timeseries[0] {"bad-1"}', reason: 'invalid metric name "bad-1"' }] });
  });

  it('on_invalid drop: invalid series are left out, nothing is reported', async () => {
    const { batches, delivery } = await run({ on_invalid: 'drop' }, request('bad-1', 'ok'));
    expect(batches.map((b) => b.series.map((s) => s.key))).toEqual([['ok{}']]);
    expect(delivery.rejected).toEqual([]);
    expect((await run({ on_invalid: 'drop' }, request('bad-1'))).batches.map((b) => b.series)).toEqual([[]]);
  });

  it('takes a raw request through the label-bytes cache unless label_cache_mib is 0', async () => {
    const raw = () => scanWriteRequestV1(encodeWriteRequestV1(request('up')))!;
    expect((await run({}, raw())).batches[0]).toBeInstanceOf(HashedSeriesBatch);
    const plain = (await run({ label_cache_mib: 0 }, raw())).batches[0];
    expect(plain).not.toBeInstanceOf(HashedSeriesBatch);
    expect(plain.series.map((s) => s.key)).toEqual(['up{}']);
  });
});

describe('canonicalize config', () => {
  it('refuses a label cache larger than its 32-bit offsets can address', () => {
    expect(canonicalizeConfig.parse({}).label_cache_mib).toBe(64);
    expect(canonicalizeConfig.safeParse({ label_cache_mib: 2048 }).success).toBe(true);
    expect(canonicalizeConfig.safeParse({ label_cache_mib: 4200 }).success).toBe(false);
  });
});
