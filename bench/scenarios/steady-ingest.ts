/**
 * steady-ingest: the production edge (topology/ingest.yaml: in-process and Redis dedup, Kafka)
 * taking the real corpus over and over once every series is known, so that nothing new goes to
 * Kafka. A fresh topic and Redis prefix per scenario; the topic's record count is checked not to
 * grow during the runs. vmagent is the peer (reused from steady-embedded when that ran too).
 */
import { createIngestScratch } from '../lib/ingest-scratch.js';
import { loadPayloadDir } from '../lib/payloads.js';
import type { Scenario } from '../lib/scenario.js';
import { runSteadyScenario } from '../lib/steady-scenario.js';

export const scenario: Scenario = {
  id: 'steady-ingest',
  title: 'Steady state, ingest topology (Kafka, Redis): the corpus replayed, nothing new for Kafka (peer: vmagent)',
  needs: ['kafka', 'redis', 'vmagent'],
  async run(ctx) {
    const scratch = await createIngestScratch('steady', 4);
    let afterWarmUp = 0;
    try {
      return await runSteadyScenario(ctx, {
        id: this.id,
        title: this.title,
        topology: 'topology/ingest.yaml',
        payloads: loadPayloadDir(ctx.corpusDir),
        env: scratch.env,
        async afterWarmUp() {
          afterWarmUp = await scratch.records();
        },
        async afterRuns() {
          const grown = (await scratch.records()) - afterWarmUp;
          return [`Kafka: ${afterWarmUp} records after the warm-up (new series and metadata), ${grown} more during the measured runs`];
        },
      });
    } finally {
      await scratch.cleanup();
    }
  },
};
