import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { BatchTicket } from './batch-ticket.js';
import { encodeV1, fakeReceiver, refused, retriable, series, state } from './fake-receiver.test-support.js';
import { Shard, type ShardSettings } from './shard.js';
import { defaultRemoteWriteRetry } from './shard-queues.js';
import type { PermanentFailure, SeriesSamples } from './types.js';

function shard(options: Partial<ShardSettings> & Pick<ShardSettings, 'send'>) {
  const failures: PermanentFailure[] = [];
  const events = { finished: [] as Array<[number, boolean]>, seconds: 0, retrying: 0, failing: [] as boolean[] };
  const s = new Shard(
    {
      capacity: 100,
      maxSamplesPerSend: 10,
      batchSendDeadlineMs: 5_000,
      retry: defaultRemoteWriteRetry,
      encode: encodeV1,
      onPermanentFailure: (f) => void failures.push(f),
      random: () => 0.5, // no jitter: backoff is 30, 60, 120 ms…
      ...options,
    },
    {
      finished: (samples, seconds, ok) => {
        events.finished.push([samples, ok]);
        events.seconds += seconds;
      },
      retrying: () => (events.retrying += 1),
      failingChanged: (failing) => events.failing.push(failing),
    },
  );
  /** Pushes a series with its own ticket, and returns the ticket's `delivered`. */
  const push = (piece: SeriesSamples) => {
    const ticket = new BatchTicket(piece.samples.length);
    s.push(piece, ticket);
    return ticket.delivered;
  };
  return { shard: s, push, failures, events };
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

describe('Shard: batching', () => {
  it('sends a full batch at once and a partial one after batchSendDeadlineMs', async () => {
    const receiver = fakeReceiver();
    const { push } = shard({ send: receiver.send, maxSamplesPerSend: 3 });
    const delivered = [1, 2, 3, 4].map((id) => push(series(id, 10)));
    await vi.advanceTimersByTimeAsync(0);
    expect(receiver.accepted.map((r) => r.samples)).toEqual([[[1, 10], [2, 10], [3, 10]]]);
    expect(await state(delivered[2])).toBe('resolved');
    await vi.advanceTimersByTimeAsync(4_999);
    expect(receiver.accepted).toHaveLength(1);
    expect(await state(delivered[3])).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(receiver.accepted[1].samples).toEqual([[4, 10]]);
    expect(await state(delivered[3])).toBe('resolved');
  });

  it('splits a piece at the batch boundary and keeps the order', async () => {
    const receiver = fakeReceiver();
    const { push } = shard({ send: receiver.send, maxSamplesPerSend: 4 });
    const first = push(series(1, 1, 2, 3));
    const second = push(series(2, 1, 2, 3));
    await vi.advanceTimersByTimeAsync(0);
    expect(receiver.accepted.map((r) => r.samples)).toEqual([[[1, 1], [1, 2], [1, 3], [2, 1]]]);
    expect(await state(first)).toBe('resolved');
    expect(await state(second)).toBe('pending'); // two of its samples wait for the deadline
    await vi.advanceTimersByTimeAsync(5_000);
    expect(receiver.accepted[1].samples).toEqual([[2, 2], [2, 3]]);
    expect(await state(second)).toBe('resolved');
  });
});

describe('Shard: capacity and drain', () => {
  it('has room for `capacity` samples besides the request in flight, and says when samples leave', async () => {
    const releases: Array<() => void> = [];
    const receiver = fakeReceiver(() => new Promise<void>((resolve) => releases.push(resolve)));
    const { shard: s, push } = shard({ send: receiver.send, capacity: 4, maxSamplesPerSend: 2 });
    push(series(1, 1, 2));
    await vi.advanceTimersByTimeAsync(0); // in flight
    push(series(1, 3, 4));
    push(series(1, 5, 6));
    expect(s.hasRoomFor(1)).toBe(false);
    const room = s.room();
    expect(await state(room)).toBe('pending');
    releases.shift()!();
    expect(await state(room)).toBe('resolved');
    expect(s.hasRoomFor(2)).toBe(true);
    expect(s.hasRoomFor(3)).toBe(false);
  });

  it('drain sends a partial batch at once and resolves when everything is done', async () => {
    const receiver = fakeReceiver(() => new Promise<void>((resolve) => setTimeout(resolve, 100)));
    const { shard: s, push } = shard({ send: receiver.send });
    const delivered = push(series(1, 1));
    const drained = s.drain();
    await vi.advanceTimersByTimeAsync(99);
    expect(receiver.calls).toHaveLength(1);
    expect(await state(drained)).toBe('pending');
    await vi.advanceTimersByTimeAsync(1);
    expect(await state(drained)).toBe('resolved');
    expect(await state(delivered)).toBe('resolved');
  });

  it('drain of an idle shard resolves at once', async () => {
    const { shard: s } = shard({ send: fakeReceiver().send });
    expect(await state(s.drain())).toBe('resolved');
  });
});

describe('Shard: retries and failures', () => {
  it('backs off exponentially on retriable errors, and reports failing until the 2xx', async () => {
    const receiver = fakeReceiver((_, call) => {
      if (call <= 3) throw retriable(500);
    });
    const { push, events } = shard({ send: receiver.send, maxSamplesPerSend: 1 });
    const started = Date.now();
    const delivered = push(series(1, 1));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(receiver.calls.map((c) => c.at - started)).toEqual([0, 30, 90, 210]);
    expect(events.retrying).toBe(3);
    expect(events.failing).toEqual([true, false]);
    expect(events.finished).toEqual([[1, true]]);
    expect(await state(delivered)).toBe('resolved');
  });

  it('hands a request out of retries to the failure callback, and stays failing', async () => {
    const receiver = fakeReceiver(() => {
      throw retriable(502);
    });
    const { push, failures, events } = shard({ send: receiver.send, maxSamplesPerSend: 1, retry: { ...defaultRemoteWriteRetry, maxRetries: 2 } });
    const delivered = push(series(1, 1));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(receiver.calls).toHaveLength(3);
    expect(failures).toHaveLength(1);
    expect(failures[0].series).toEqual([series(1, 1)]);
    expect(events.finished).toEqual([[1, false]]);
    expect(events.failing).toEqual([true]);
    expect(await state(delivered)).toBe('resolved');
  });

  it('a refusal ends the failing state: the receiver is up', async () => {
    const receiver = fakeReceiver((_, call) => {
      throw call === 1 ? retriable(503) : refused(400);
    });
    const { push, failures, events } = shard({ send: receiver.send, maxSamplesPerSend: 1 });
    push(series(1, 1));
    await vi.advanceTimersByTimeAsync(100);
    expect(failures).toHaveLength(1);
    expect(events.failing).toEqual([true, false]);
  });

  it('hands a batch the encoder cannot encode to the failure callback, without sending', async () => {
    const receiver = fakeReceiver();
    const { push, failures } = shard({ send: receiver.send, maxSamplesPerSend: 1, encode: () => { throw new Error('label too long'); } });
    const delivered = push(series(1, 1));
    await vi.advanceTimersByTimeAsync(0);
    expect((failures[0].error as Error).message).toBe('label too long');
    expect(receiver.calls).toHaveLength(0);
    expect(await state(delivered)).toBe('resolved');
  });

  it("rejects the batches' tickets when the failure callback fails", async () => {
    const receiver = fakeReceiver(() => {
      throw refused(422);
    });
    const { push } = shard({ send: receiver.send, maxSamplesPerSend: 1, onPermanentFailure: () => Promise.reject(new Error('dead-letter topic unavailable')) });
    const delivered = push(series(1, 1));
    await vi.advanceTimersByTimeAsync(0);
    await expect(delivered).rejects.toThrow('dead-letter topic unavailable');
  });
});
