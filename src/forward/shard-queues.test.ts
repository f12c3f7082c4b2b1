import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { advanceUntilSettled, encodeV1, fakeReceiver, refused, retriable, series, state } from './fake-receiver.test-support.js';
import type { RemoteWriteError } from './remote-write-error.js';
import { ShardQueues, type ShardQueuesMetrics, type ShardQueuesOptions } from './shard-queues.js';
import type { PermanentFailure } from './types.js';

function recordingMetrics() {
  const seen = { shards: [] as number[], pending: [] as number[], sent: 0, failed: 0, retried: 0 };
  const metrics: ShardQueuesMetrics = {
    shards: (n) => seen.shards.push(n),
    pendingSamples: (n) => seen.pending.push(n),
    samplesSent: (n) => (seen.sent += n),
    samplesFailed: (n) => (seen.failed += n),
    retried: () => (seen.retried += 1),
  };
  return { metrics, seen };
}

function queues(options: Partial<ShardQueuesOptions> & Pick<ShardQueuesOptions, 'send'>) {
  const failures: PermanentFailure[] = [];
  const q = new ShardQueues({
    shards: 1,
    capacity: 100,
    maxSamplesPerSend: 10,
    batchSendDeadlineMs: 5_000,
    encode: encodeV1,
    onPermanentFailure: (f) => void failures.push(f),
    random: () => 0.5, // no jitter: backoff is 30, 60, 120 ms…
    ...options,
  });
  return { q, failures };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('ShardQueues: admission', () => {
  it('splits a series longer than maxSamplesPerSend over requests, in order', async () => {
    const receiver = fakeReceiver();
    const { q } = queues({ send: receiver.send, maxSamplesPerSend: 3, capacity: 6 });
    const { delivered } = q.enqueue([series(1, 1, 2, 3, 4, 5, 6, 7), series(2, 1, 2)]);
    await vi.advanceTimersByTimeAsync(5_000);
    expect(await state(delivered)).toBe('resolved');
    expect(receiver.accepted.map((r) => r.samples.length)).toEqual([3, 3, 3]);
    expect(receiver.bySeries()).toEqual(new Map([[1, [1, 2, 3, 4, 5, 6, 7]], [2, [1, 2]]]));
  });

  it('an empty batch is delivered at once', async () => {
    const { q } = queues({ send: fakeReceiver().send });
    const { admitted, delivered } = q.enqueue([series(1)]);
    expect(await state(admitted)).toBe('resolved');
    expect(await state(delivered)).toBe('resolved');
  });
});

describe('ShardQueues: acknowledgement', () => {
  it('delivers a batch only once every sample of it got a 2xx, across shards', async () => {
    // Shard 1 (odd ids) fails twice before the receiver takes its request.
    const receiver = fakeReceiver((r, call) => {
      if (r.samples[0][0] % 2 === 1 && call <= 3) throw retriable();
    });
    const { q } = queues({ send: receiver.send, shards: 2, maxSamplesPerSend: 2 });
    const { delivered } = q.enqueue([series(0, 1), series(1, 1), series(2, 1), series(3, 1)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(receiver.bySeries().get(0)).toEqual([1]); // shard 0 is done
    expect(await state(delivered)).toBe('pending');
    await vi.advanceTimersByTimeAsync(30 + 60);
    expect(await state(delivered)).toBe('resolved');
    expect(receiver.bySeries()).toEqual(new Map([[0, [1]], [2, [1]], [1, [1]], [3, [1]]]));
    // Routed by hash: a request holds the series of one shard only.
    for (const request of receiver.accepted) expect(new Set(request.samples.map(([id]) => id % 2)).size).toBe(1);
  });

  it('a refused request goes to the failure callback, and the shard goes on with the next', async () => {
    const receiver = fakeReceiver((r) => {
      if (r.samples.some(([id]) => id === 13)) throw refused(400);
    });
    const { metrics, seen } = recordingMetrics();
    const { q, failures } = queues({ send: receiver.send, maxSamplesPerSend: 1, metrics });
    const first = q.enqueue([series(13, 1), series(20, 1)]);
    const second = q.enqueue([series(21, 1)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(failures).toHaveLength(1);
    expect(failures[0].series.map((s) => s.labels[1].value)).toEqual(['13']);
    expect((failures[0].error as RemoteWriteError).status).toBe(400);
    expect(await state(first.delivered)).toBe('resolved');
    expect(await state(second.delivered)).toBe('resolved');
    expect([...receiver.bySeries().keys()]).toEqual([20, 21]);
    expect([seen.sent, seen.failed, seen.retried]).toEqual([2, 1, 0]);
    expect(seen.pending).toEqual([2, 3, 2, 1, 0]); // two enqueues, then one request at a time
    expect(q.sendsFailing).toBe(false);
  });

  it('rejects the delivery when the failure callback fails (the offsets must not be committed)', async () => {
    const receiver = fakeReceiver(() => {
      throw refused(422);
    });
    const { q } = queues({ send: receiver.send, onPermanentFailure: () => Promise.reject(new Error('dead-letter topic unavailable')) });
    const { delivered } = q.enqueue([series(1, 1)]);
    await vi.advanceTimersByTimeAsync(5_000);
    await expect(delivered).rejects.toThrow('dead-letter topic unavailable');
  });

});

describe('ShardQueues: retries', () => {
  it('honours a 429 Retry-After instead of the backoff', async () => {
    const receiver = fakeReceiver((_, call) => {
      if (call === 1) throw retriable(429, 3_000);
    });
    const { q } = queues({ send: receiver.send, maxSamplesPerSend: 1 });
    const { delivered } = q.enqueue([series(1, 1)]);
    await vi.advanceTimersByTimeAsync(2_999);
    expect(receiver.calls).toHaveLength(1);
    expect(q.sendsFailing).toBe(true);
    await vi.advanceTimersByTimeAsync(1);
    expect(receiver.calls).toHaveLength(2);
    expect(await state(delivered)).toBe('resolved');
    expect(q.sendsFailing).toBe(false);
  });

  it('keeps every series in order across retries', async () => {
    // Requests take 50 ms, so the queues fill up behind them; every third one fails. Ids 0..5 over 3 shards.
    const receiver = fakeReceiver(async (_, call) => {
      await new Promise((resolve) => setTimeout(resolve, 50));
      if (call % 3 === 0) throw retriable(500);
    });
    const { q } = queues({ send: receiver.send, shards: 3, maxSamplesPerSend: 4, capacity: 8 });
    const deliveries: Array<Promise<void>> = [];
    for (let t = 1; t <= 30; t++) {
      const { admitted, delivered } = q.enqueue([0, 1, 2, 3, 4, 5].map((id) => series(id, t)));
      deliveries.push(delivered);
      await advanceUntilSettled(admitted);
    }
    await vi.advanceTimersByTimeAsync(10_000);
    await Promise.all(deliveries);
    const expected = Array.from({ length: 30 }, (_, i) => i + 1);
    for (let id = 0; id < 6; id++) expect(receiver.bySeries().get(id)).toEqual(expected);
  });
});

describe('ShardQueues: backpressure', () => {
  it('admits no more than a shard holds while its requests are slow', async () => {
    const releases: Array<() => void> = [];
    const receiver = fakeReceiver(() => new Promise<void>((resolve) => releases.push(resolve)));
    const { q } = queues({ send: receiver.send, capacity: 4, maxSamplesPerSend: 2 });
    const a = q.enqueue([series(1, 1, 2)]); // goes out at once
    const b = q.enqueue([series(1, 3, 4), series(3, 1, 2)]); // fills the queue
    const c = q.enqueue([series(1, 5, 6)]);
    const d = q.enqueue([series(3, 3)]);
    await vi.advanceTimersByTimeAsync(0);
    expect([await state(a.admitted), await state(b.admitted), await state(c.admitted), await state(d.admitted)]).toEqual(['resolved', 'resolved', 'pending', 'pending']);
    expect(q.pendingSamples).toBe(9);
    expect(receiver.calls).toHaveLength(1);

    releases.shift()!(); // a is sent; b's first piece goes out, which makes room for c
    await vi.advanceTimersByTimeAsync(0);
    expect(await state(a.delivered)).toBe('resolved');
    expect(await state(c.admitted)).toBe('resolved');
    expect(await state(d.admitted)).toBe('pending'); // admission is FIFO: d waits behind c

    while (releases.length > 0 || (await state(d.delivered)) === 'pending') {
      releases.shift()?.();
      await vi.advanceTimersByTimeAsync(5_000);
    }
    expect(receiver.bySeries()).toEqual(new Map([[1, [1, 2, 3, 4, 5, 6]], [3, [1, 2, 3]]]));
    expect(q.pendingSamples).toBe(0);
  });
  it('a shard that holds admission up sends its partial batch without waiting for the deadline', async () => {
    const receiver = fakeReceiver();
    const { q } = queues({ send: receiver.send, capacity: 4, maxSamplesPerSend: 4 });
    q.enqueue([series(1, 1, 2, 3)]);
    const { admitted } = q.enqueue([series(1, 4, 5)]);
    await vi.advanceTimersByTimeAsync(0);
    expect(receiver.accepted.map((r) => r.samples.length)).toEqual([3]);
    expect(await state(admitted)).toBe('resolved');
  });
});

describe('ShardQueues: reshard', () => {
  it('drains and re-creates the shards without losing or reordering a sample', async () => {
    const receiver = fakeReceiver((_, call) => {
      if (call % 4 === 0) throw retriable(503);
    });
    const { metrics, seen } = recordingMetrics();
    const { q } = queues({ send: receiver.send, shards: 2, maxSamplesPerSend: 5, capacity: 10, metrics });
    const ids = [0, 1, 2, 3, 4, 5, 6];
    const deliveries: Array<Promise<void>> = [];
    const reshards: Array<Promise<void>> = [];
    for (let t = 1; t <= 40; t++) {
      if (t === 10) reshards.push(q.reshard(3));
      if (t === 25) reshards.push(q.reshard(1));
      if (t === 32) reshards.push(q.reshard(4));
      const { admitted, delivered } = q.enqueue(ids.map((id) => series(id, t)));
      deliveries.push(delivered);
      await advanceUntilSettled(admitted);
    }
    await vi.advanceTimersByTimeAsync(20_000);
    await Promise.all([...deliveries, ...reshards]);
    const expected = Array.from({ length: 40 }, (_, i) => i + 1);
    for (const id of ids) expect(receiver.bySeries().get(id)).toEqual(expected);
    expect(q.shardCount).toBe(4);
    expect(seen.shards).toEqual([2, 3, 1, 4]);
  });

  it('sends partial batches at once instead of waiting for the deadline', async () => {
    const receiver = fakeReceiver();
    const { q } = queues({ send: receiver.send, shards: 2 });
    q.enqueue([series(0, 1), series(1, 1)]);
    const resharded = q.reshard(5);
    await vi.advanceTimersByTimeAsync(0);
    expect(await state(resharded)).toBe('resolved');
    expect(receiver.accepted).toHaveLength(2);
    expect(q.shardCount).toBe(5);
  });

  it('refuses a shard count that is not a positive integer', () => {
    const { q } = queues({ send: fakeReceiver().send });
    expect(() => q.reshard(0)).toThrow(RangeError);
    expect(() => q.reshard(1.5)).toThrow(RangeError);
  });
});

describe('ShardQueues: totals, close and options', () => {
  it('keeps the running totals the autoscaler reads', async () => {
    const receiver = fakeReceiver(() => new Promise<void>((resolve) => setTimeout(resolve, 40)));
    const { q } = queues({ send: receiver.send, maxSamplesPerSend: 2 });
    q.enqueue([series(1, 1, 2), series(2, 1)]);
    expect(q.totals.samplesIn).toBe(3);
    expect(q.pendingSamples).toBe(3);
    await vi.advanceTimersByTimeAsync(40);
    expect(q.totals.samplesOut).toBe(2);
    expect(q.totals.sendSeconds).toBeCloseTo(0.04);
    await vi.advanceTimersByTimeAsync(5_040);
    expect(q.totals.samplesOut).toBe(3);
    expect(q.totals.sendSeconds).toBeCloseTo(0.08);
    expect(q.pendingSamples).toBe(0);
  });

  it('close sends what is queued at once, then refuses new batches', async () => {
    const receiver = fakeReceiver();
    const { q } = queues({ send: receiver.send });
    const { delivered } = q.enqueue([series(1, 1)]);
    const closed = q.close();
    await vi.advanceTimersByTimeAsync(0);
    expect(await state(closed)).toBe('resolved');
    expect(await state(delivered)).toBe('resolved');
    expect(() => q.enqueue([series(1, 2)])).toThrow('closed');
  });

  it('refuses a capacity below maxSamplesPerSend', () => {
    expect(() => queues({ send: fakeReceiver().send, capacity: 5, maxSamplesPerSend: 10 })).toThrow(RangeError);
    expect(() => queues({ send: fakeReceiver().send, shards: 0 })).toThrow(RangeError);
  });
});
