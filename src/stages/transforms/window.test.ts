import { describe, expect, it } from 'vitest';
import type { CanonicalSeries, SeriesBatch } from '../../series/canonical.js';
import { seriesHash } from '../../series/series-hash.js';
import { seriesKey } from '../../series/series-key.js';
import type { Message } from '../../runtime/message.js';
import { runStage, settle } from '../stage-harness.test-support.js';
import { window } from './window.js';

function series(name: string): CanonicalSeries {
  const labels = [{ name: '__name__', value: name }];
  return { labels, metricName: name, key: seriesKey(labels), hash: seriesHash(labels), firstTimestamp: 1, lastTimestamp: 2 };
}

function batch(names: string[], samples = names.length): SeriesBatch {
  return { series: names.map(series), metadata: [], receivedAt: 1, counts: { samples, histograms: 0, exemplars: 0 } };
}

describe('window', () => {
  it('splits a batch larger than the room left, so no window holds more than max_series', async () => {
    // Windows stay held until the test releases them, as the end of a pipeline would.
    const run = await runStage(window, { max_series: 3, max_wait: '1h' }, [batch(['a1', 'a2']), batch(['b1', 'b2', 'b3', 'b4', 'b5'], 50), batch(['c1'])], { holdEmitted: true });
    const windows: Array<Message<SeriesBatch>> = run.emitted;
    const [a, b, c] = run.deliveries;
    expect(windows.map((w) => w.payload.series.map((s) => s.metricName))).toEqual([['a1', 'a2', 'b1'], ['b2', 'b3', 'b4'], ['b5', 'c1']]);
    // The request counts stay whole: they go with b's first piece.
    expect(windows.map((w) => w.payload.counts.samples)).toEqual([52, 0, 1]);

    let bAcked = false;
    void b.done.then(() => (bAcked = true));
    // Reaching the end of the pipeline releases a window; b is acknowledged only with its last window.
    windows[0].delivery.release();
    await settle();
    windows[1].delivery.release();
    await settle();
    expect(bAcked).toBe(false);
    expect(a.isSettled).toBe(true);
    windows[2].delivery.release();
    await settle();
    expect(bAcked).toBe(true);
    expect(c.isSettled).toBe(true);
  });

  it('fails every batch of a failed window, also one split across windows', async () => {
    const run = await runStage(window, { max_series: 2, max_wait: '1h' }, [batch(['x1', 'x2', 'x3'])], { holdEmitted: true });
    const windows: Array<Message<SeriesBatch>> = run.emitted;
    const [big] = run.deliveries;
    expect(windows.map((w) => w.payload.series.length)).toEqual([2, 1]);
    windows[0].delivery.release();
    windows[1].delivery.fail(new Error('transaction failed'));
    await expect(big.done).rejects.toThrow('transaction failed');
  });
});
