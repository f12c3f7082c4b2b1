import { describe, expect, it } from 'vitest';
import { DownstreamError } from '../../errors.js';
import { GroupSession } from './group-session.js';
import type { ConsumedBatch, ConsumerHandlers, TopicPartition } from './types.js';

const tp = (partition: number): TopicPartition => ({ topic: 't', partition });
const fetched = (partition: number, offsets: number[]) => ({
  topic: 't',
  partition,
  highWatermark: String(Math.max(...offsets) + 1),
  messages: offsets.map((o) => ({ offset: String(o), key: null, value: null, headers: {}, timestamp: 0 })),
});

function recordingSession(overrides: Partial<ConsumerHandlers> = {}) {
  const log: string[] = [];
  const resumed: TopicPartition[][] = [];
  const session = new GroupSession('kafkajs', (partitions) => resumed.push(partitions));
  const handlers: ConsumerHandlers = {
    onBatch: async (batch: ConsumedBatch) => {
      log.push(`batch ${batch.partition}:${batch.messages.map((m) => m.offset).join(',')}`);
    },
    onPartitionsAssigned: (partitions) => {
      log.push(`assigned ${partitions.map((p) => p.partition).join(',')}`);
    },
    onPartitionsRevoked: (partitions, reason) => {
      log.push(`revoked ${partitions.map((p) => p.partition).join(',')} ${reason}`);
    },
    onError: (error) => {
      log.push(`error ${error.message}`);
    },
    ...overrides,
  };
  session.begin(handlers);
  return { session, log, resumed };
}

describe('GroupSession', () => {
  it('delivers in chunks and resolves after each one', async () => {
    const { session, log } = recordingSession();
    await session.assigned([tp(0)]);
    const resolved: string[] = [];
    await session.deliver(fetched(0, [1, 2, 3, 4, 5]), 2, (offset) => resolved.push(offset));
    expect(log).toEqual(['assigned 0', 'batch 0:1,2', 'batch 0:3,4', 'batch 0:5']);
    expect(resolved).toEqual(['2', '4', '5']);
  });

  it('stops handing out a batch once its partition is paused, leaving the rest unresolved', async () => {
    const { session, log } = recordingSession({
      onBatch: async (batch) => {
        log.push(`batch ${batch.messages[0].offset}`);
        session.markPaused([tp(0)]);
      },
    });
    await session.assigned([tp(0)]);
    const resolved: string[] = [];
    await session.deliver(fetched(0, [1, 2, 3, 4]), 2, (offset) => resolved.push(offset));
    expect(log).toEqual(['assigned 0', 'batch 1']);
    expect(resolved).toEqual(['2']);
  });

  it('does not resolve a chunk during which the partition was seeked', async () => {
    const { session, log } = recordingSession({
      onBatch: async () => {
        log.push('batch');
        session.markSeek('t', 0, '0');
      },
    });
    await session.assigned([tp(0)]);
    const resolved: string[] = [];
    await session.deliver(fetched(0, [1, 2, 3]), 1, (offset) => resolved.push(offset));
    expect(log).toEqual(['assigned 0', 'batch']);
    expect(resolved).toEqual([]);
  });

  it("drops a batch the library calls stale (a seek or pause it applied itself)", async () => {
    const { session, log } = recordingSession();
    await session.assigned([tp(0)]);
    await session.deliver(fetched(0, [1, 2]), 10, () => undefined, () => true);
    expect(log).toEqual(['assigned 0']);
  });

  it('drops a batch fetched before an assignment hook seeked its partition', async () => {
    let finishAssign!: () => void;
    const { session, log } = recordingSession({
      onPartitionsAssigned: () => new Promise<void>((resolve) => (finishAssign = resolve)),
    });
    const assigning = session.assigned([tp(0)]);
    const delivering = session.deliver(fetched(0, [1]), 10, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 10)); // the hook is now running
    session.markSeek('t', 0, '0');
    finishAssign();
    await Promise.all([assigning, delivering]);
    expect(log).toEqual([]);
  });

  it('ignores batches for partitions it does not own', async () => {
    const { session, log } = recordingSession();
    await session.assigned([tp(0)]);
    await session.deliver(fetched(1, [1]), 10, () => undefined);
    expect(log).toEqual(['assigned 0']);
  });

  it('knows where delivery goes on: after what was handed out (a pause inside onBatch keeps it), a failed batch, or a seek', async () => {
    let fail = false;
    const { session } = recordingSession({
      onBatch: async () => {
        session.markPaused([tp(0)]);
        if (fail) throw new Error('database down');
      },
    });
    await session.assigned([tp(0)]);
    expect(session.position(tp(0))).toBeUndefined(); // the library's start position applies
    await session.deliver(fetched(0, [5, 6, 7]), 2, () => undefined);
    expect(session.position(tp(0))).toBe('7'); // 5 and 6 were handed out, 7 was not
    session.markResumed([tp(0)]);
    fail = true;
    await expect(session.deliver(fetched(0, [7, 8]), 10, () => undefined)).rejects.toThrow('database down');
    expect(session.position(tp(0))).toBe('7'); // delivered again
    session.markSeek('t', 0, '3');
    expect(session.position(tp(0))).toBe('3');
    await session.revoked('rebalance');
    expect(session.position(tp(0))).toBeUndefined();
  });

  it('revokes everything owned before taking a new assignment, and only once', async () => {
    const { session, log } = recordingSession();
    await session.assigned([tp(1), tp(0)]);
    await Promise.all([session.revoked('rebalance'), session.revoked('rebalance')]);
    await session.assigned([tp(2)]);
    expect(log).toEqual(['assigned 0,1', 'revoked 0,1 rebalance', 'assigned 2']);
    expect(session.assignment()).toEqual([tp(2)]);
  });

  it('calls partitions it was never told it lost "lost" on the next assignment', async () => {
    const { session, log } = recordingSession();
    await session.assigned([tp(0)]);
    await session.assigned([tp(0), tp(1)]);
    expect(log).toEqual(['assigned 0', 'revoked 0 lost', 'assigned 0,1']);
  });

  it('holds batches back until a pending revoke hook has finished', async () => {
    let finishRevoke!: () => void;
    const { session, log } = recordingSession({
      onPartitionsRevoked: () => new Promise<void>((resolve) => (finishRevoke = resolve)).then(() => void log.push('revoked')),
    });
    await session.assigned([tp(0)]);
    const revoking = session.revoked('rebalance');
    const assigning = session.assigned([tp(0)]);
    const delivering = session.deliver(fetched(0, [9]), 10, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(log).toEqual(['assigned 0']);
    finishRevoke();
    await Promise.all([revoking, assigning, delivering]);
    expect(log).toEqual(['assigned 0', 'revoked', 'assigned 0', 'batch 0:9']);
  });

  it('ends pauses at a rebalance by resuming revoked partitions in the library', async () => {
    const { session, resumed } = recordingSession();
    await session.assigned([tp(0), tp(1)]);
    session.markPaused([tp(1)]);
    await session.revoked('rebalance');
    expect(resumed).toEqual([[tp(1)]]);
  });

  it('reports a throwing onBatch and rethrows so the library redelivers', async () => {
    const { session, log } = recordingSession({
      onBatch: async () => {
        throw new Error('database down');
      },
    });
    await session.assigned([tp(0)]);
    const resolved: string[] = [];
    await expect(session.deliver(fetched(0, [1]), 10, (o) => resolved.push(o))).rejects.toThrow('database down');
    expect(resolved).toEqual([]);
    expect(log).toContain('error kafka (kafkajs) onBatch for t[0] failed: database down');
  });

  it('on stop: waits for the batch in flight, then revokes with reason "stop", and refuses later batches', async () => {
    let finishBatch!: () => void;
    const { session, log } = recordingSession({
      onBatch: () => new Promise<void>((resolve) => (finishBatch = resolve)).then(() => void log.push('batch done')),
    });
    await session.assigned([tp(0)]);
    const delivering = session.deliver(fetched(0, [1]), 10, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 10));
    const stopping = session.drainForStop();
    expect(session.canCommit()).toBe(true); // the revoke hook must still be able to commit
    finishBatch();
    await Promise.all([delivering, stopping]);
    expect(log).toEqual(['assigned 0', 'batch done', 'revoked 0 stop']);
    await session.deliver(fetched(0, [2]), 10, () => undefined);
    expect(log).toHaveLength(3);
    session.finishStop();
    expect(session.canCommit()).toBe(false);
  });

  it('cannot commit while crashed, and can again once re-assigned', async () => {
    const { session } = recordingSession();
    await session.assigned([tp(0)]);
    session.crashed(new DownstreamError('fetch loop died'), { permanent: false });
    expect(session.canCommit()).toBe(false);
    expect(session.isActive()).toBe(true); // the library should restart it
    await session.assigned([tp(0)]);
    expect(session.canCommit()).toBe(true);
  });

  it('after a permanent crash: reports it, revokes as lost, and does not ask for a restart', async () => {
    const { session, log } = recordingSession();
    await session.assigned([tp(0)]);
    session.crashed(new DownstreamError('bad config'), { permanent: true });
    await session.revoked('lost');
    expect(log).toEqual(['assigned 0', 'error bad config', 'revoked 0 lost']);
    expect(session.isActive()).toBe(false);
    expect(session.canCommit()).toBe(false);
  });
});
