import { describe, expect, it } from 'vitest';
import type { KafkaAdmin } from '../../../clients/kafka/index.js';
import { TopicPartitions } from './topic-partitions.js';

function fakeAdmin(answers: Array<number | Error>) {
  const asked: string[] = [];
  const admin = {
    fetchTopicOffsets: async (topic: string) => {
      asked.push(topic);
      const answer = answers.shift() ?? new Error('no more answers');
      if (answer instanceof Error) throw answer;
      return Array.from({ length: answer }, (_, partition) => ({ partition, low: '0', high: '0' }));
    },
  } as unknown as KafkaAdmin;
  return { admin, asked };
}

const settle = () => new Promise((r) => setImmediate(r));
const MINUTE = 60_000;

describe('TopicPartitions', () => {
  it('waits for the first answer, then serves it synchronously and refreshes it in the background', async () => {
    const { admin, asked } = fakeAdmin([2, 2]);
    const errors: unknown[] = [];
    const partitions = new TopicPartitions(admin, 't', MINUTE, (err) => errors.push(err));
    await expect(partitions.get(0)).resolves.toBe(2);
    expect(partitions.get(30_000)).toBe(2);
    expect(asked).toEqual(['t']);
    // Stale: still the last answer, while one refresh (not two) goes out.
    expect(partitions.get(MINUTE)).toBe(2);
    expect(partitions.get(MINUTE + 1)).toBe(2);
    expect(asked).toEqual(['t', 't']);
    await settle();
    expect(errors).toEqual([]);
  });

  it('uses a larger count only once the cluster has answered it for adoptAfterMs (producers learn new partitions late)', async () => {
    const { admin } = fakeAdmin([2, 5, 5, 5, 3]);
    const partitions = new TopicPartitions(admin, 't', MINUTE, undefined, 6 * MINUTE);
    await partitions.get(0);
    partitions.get(1 * MINUTE); // answers 5: noted
    await settle();
    expect(partitions.get(1 * MINUTE + 1)).toBe(2);
    partitions.get(4 * MINUTE); // 5 again, 3 minutes on
    await settle();
    expect(partitions.get(4 * MINUTE + 1)).toBe(2);
    partitions.get(7 * MINUTE); // 5 for 6 minutes: used
    await settle();
    expect(partitions.get(7 * MINUTE + 1)).toBe(5);
    partitions.get(8 * MINUTE); // fewer (the topic made anew): used at once
    await settle();
    expect(partitions.get(8 * MINUTE + 1)).toBe(3);
  });

  it('keeps the last answer when a refresh fails, tries again a refresh later, and fails the first question when there is none', async () => {
    const { admin, asked } = fakeAdmin([new Error('no broker'), 3, new Error('gone'), 0]);
    const errors: unknown[] = [];
    const partitions = new TopicPartitions(admin, 't', 10, (err) => errors.push(err));
    await expect(partitions.get(0)).rejects.toThrow('no broker');
    await expect(partitions.get(0)).resolves.toBe(3);
    expect(partitions.get(100)).toBe(3);
    await settle();
    expect(errors.map(String)).toEqual(['Error: gone']);
    // Not asked again before a refresh interval has passed since the failed one.
    expect(partitions.get(105)).toBe(3);
    expect(asked).toHaveLength(3);
    expect(partitions.get(110)).toBe(3);
    await settle();
    // A topic without partitions (deleted meanwhile) is an error, not a count of 0.
    expect(errors.map(String)[1]).toMatch(/has no partitions/);
    expect(partitions.get(111)).toBe(3);
  });
});
