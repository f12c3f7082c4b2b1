import { NEVER, Subject } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../logger.js';
import { seriesHash, seriesKey, type CanonicalSeries, type SeriesBatch } from '../../series/canonical.js';
import { Delivery } from '../../runtime/delivery.js';
import { Message } from '../../runtime/message.js';
import type { StageContext } from '../../topology/declaration.js';
import { window, windowConfig } from './window.js';

function series(name: string): CanonicalSeries {
  const labels = [{ name: '__name__', value: name }];
  return { labels, metricName: name, key: seriesKey(labels), hash: seriesHash(labels), firstTimestamp: 1, lastTimestamp: 2 };
}

function batch(names: string[], samples = names.length): SeriesBatch {
  return { series: names.map(series), metadata: [], receivedAt: 1, counts: { samples, histograms: 0, exemplars: 0 } };
}

/** A message as a step hands it on: its delivery held once (the source's hold is released here at once). */
function message(b: SeriesBatch): Message<SeriesBatch> {
  const delivery = new Delivery();
  delivery.hold();
  return new Message(b, delivery);
}

const ctx: StageContext = { pipeline: 'p', stage: 'w', logger: silentLogger(), shutdown: new AbortController().signal, flushRequests: NEVER, resources: { get: () => undefined as never } };

describe('window', () => {
  it('splits a batch larger than the room left, so no window holds more than max_series', async () => {
    const input = new Subject<Message<SeriesBatch>>();
    const windows: Array<Message<SeriesBatch>> = [];
    window.create(windowConfig.parse({ max_series: 3, max_wait: '1h' }), ctx)(input).subscribe((w) => windows.push(w));
    const a = message(batch(['a1', 'a2']));
    const b = message(batch(['b1', 'b2', 'b3', 'b4', 'b5'], 50));
    const c = message(batch(['c1']));
    input.next(a);
    input.next(b);
    input.next(c);
    input.complete();
    expect(windows.map((w) => w.payload.series.map((s) => s.metricName))).toEqual([['a1', 'a2', 'b1'], ['b2', 'b3', 'b4'], ['b5', 'c1']]);
    // The request counts stay whole: they go with b's first piece.
    expect(windows.map((w) => w.payload.counts.samples)).toEqual([52, 0, 1]);

    let bAcked = false;
    void b.delivery.done.then(() => (bAcked = true));
    const settle = () => new Promise((r) => setImmediate(r));
    // Reaching the end of the pipeline releases a window; b is acknowledged only with its last window.
    windows[0].delivery.release();
    await settle();
    windows[1].delivery.release();
    await settle();
    expect(bAcked).toBe(false);
    expect(a.delivery.isSettled).toBe(true);
    windows[2].delivery.release();
    await settle();
    expect(bAcked).toBe(true);
    expect(c.delivery.isSettled).toBe(true);
  });

  it('fails every batch of a failed window, also one split across windows', async () => {
    const input = new Subject<Message<SeriesBatch>>();
    const windows: Array<Message<SeriesBatch>> = [];
    window.create(windowConfig.parse({ max_series: 2, max_wait: '1h' }), ctx)(input).subscribe((w) => windows.push(w));
    const big = message(batch(['x1', 'x2', 'x3']));
    input.next(big);
    input.complete();
    expect(windows.map((w) => w.payload.series.length)).toEqual([2, 1]);
    windows[0].delivery.release();
    windows[1].delivery.fail(new Error('transaction failed'));
    await expect(big.delivery.done).rejects.toThrow('transaction failed');
  });
});
