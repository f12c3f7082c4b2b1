import { EMPTY, map, mergeMap, of } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { DownstreamError } from '../errors.js';
import type { Message } from '../runtime/message.js';
import { defineProcessor } from '../topology/declaration.js';
import { runStage } from './stage-harness.test-support.js';

const scale = defineProcessor({
  kind: 'transform',
  type: 'scale',
  summary: 'Test only: multiplies by factor; rejects what is over max (and passes the rest).',
  stability: 'experimental',
  examples: [{ title: 'Test only', yaml: '- type: scale' }],
  accepts: 'number',
  emits: 'number',
  config: z.strictObject({ factor: z.number().default(2), max: z.number().default(Infinity) }),
  create: (config) =>
    map((m: Message<number>) => {
      if (m.payload > config.max) m.delivery.rejected.push({ where: String(m.payload), reason: `over ${config.max}` });
      return m.with(m.payload * config.factor);
    }),
});

let attempts = 0;
/** Drops 0, fails (retriably) on negative numbers, passes the rest. */
const picky = defineProcessor({
  kind: 'transform',
  type: 'picky',
  summary: 'Test only.',
  stability: 'experimental',
  examples: [{ title: 'Test only', yaml: '- type: picky' }],
  accepts: 'number',
  emits: 'number',
  config: z.strictObject({}),
  create: () =>
    mergeMap((m: Message<number>) => {
      if (m.payload === 0) return EMPTY;
      if (m.payload > 0) return of(m);
      attempts += 1;
      throw new DownstreamError('negative');
    }),
});

describe('runStage', () => {
  it('parses the config with the stage’s own schema, so its defaults apply, and acknowledges what reaches the end', async () => {
    const run = await runStage(scale, { max: 2 }, [1, 3]);
    expect(run.emitted.map((m) => m.payload)).toEqual([2, 6]);
    expect(run.outcomes).toEqual([
      { status: 'acknowledged', rejected: [] },
      { status: 'acknowledged', rejected: [{ where: '3', reason: 'over 2' }] },
    ]);
    await expect(runStage(scale, { factor: 'two' } as never, [1])).rejects.toThrow(/factor/);
  });

  it('runs the bare operator by default: a batch the stage drops stays pending', async () => {
    const run = await runStage(picky, {}, [1, 0]);
    expect(run.outcomes.map((o) => o.status)).toEqual(['acknowledged', 'pending']);
  });

  it('with a runtime block, runs the stage as the compiler wraps it: dropped is done, failed after retries fails the delivery', async () => {
    attempts = 0;
    const run = await runStage(picky, {}, [1, 0, -1], { runtime: { retry: { max_retries: 2, initial_backoff: '1ms', max_backoff: '1ms' } } });
    expect(run.emitted.map((m) => m.payload)).toEqual([1]);
    expect(run.outcomes).toEqual([
      { status: 'acknowledged', rejected: [] },
      { status: 'acknowledged', rejected: [] },
      { status: 'failed', error: new DownstreamError('negative'), rejected: [] },
    ]);
    expect(attempts).toBe(3);
  });
});
