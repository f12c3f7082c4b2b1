import { describe, expect, it } from 'vitest';
import { BatchTicket } from './batch-ticket.js';

async function state(promise: Promise<unknown>): Promise<string> {
  let result = 'pending';
  promise.then(() => (result = 'resolved'), () => (result = 'rejected'));
  await new Promise((resolve) => setImmediate(resolve));
  return result;
}

describe('BatchTicket', () => {
  it('is delivered once all its samples are done with, in any pieces', async () => {
    const ticket = new BatchTicket(5);
    ticket.finish(2);
    ticket.finish(2);
    expect(await state(ticket.delivered)).toBe('pending');
    ticket.finish(1);
    expect(await state(ticket.delivered)).toBe('resolved');
  });

  it('a ticket of no samples is delivered at once', async () => {
    expect(await state(new BatchTicket(0).delivered)).toBe('resolved');
  });

  it('a failure rejects it, whatever finishes afterwards', async () => {
    const ticket = new BatchTicket(2);
    ticket.finish(1);
    ticket.fail(new Error('dead-letter topic unavailable'));
    ticket.finish(1);
    await expect(ticket.delivered).rejects.toThrow('dead-letter topic unavailable');
  });

  it('a failure after delivery changes nothing', async () => {
    const ticket = new BatchTicket(1);
    ticket.finish(1);
    ticket.fail(new Error('late'));
    await expect(ticket.delivered).resolves.toBeUndefined();
  });
});
