/**
 * steady-embedded: weir on the embedded default (topology/embedded.yaml: dedup in process, SQLite
 * index) taking the real corpus over and over once every series is known, the everyday load of a
 * long-running Prometheus. vmagent takes the same bodies as the peer; the headline is samples
 * per CPU-second of the server process, against vmagent's.
 */
import { loadPayloadDir } from '../lib/payloads.js';
import type { Scenario } from '../lib/scenario.js';
import { runSteadyScenario } from '../lib/steady-scenario.js';

export const scenario: Scenario = {
  id: 'steady-embedded',
  title: 'Steady state, embedded topology: the corpus replayed, every series known (peer: vmagent)',
  needs: ['vmagent'],
  run(ctx) {
    return runSteadyScenario(ctx, {
      id: this.id,
      title: this.title,
      topology: 'topology/embedded.yaml',
      payloads: loadPayloadDir(ctx.corpusDir),
      profile: true,
    });
  },
};
