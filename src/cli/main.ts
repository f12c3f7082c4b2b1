#!/usr/bin/env node
import { Command, Option } from 'commander';
import { readFile, writeFile } from 'node:fs/promises';
import { ConfigError } from '../errors.js';
import { startService } from '../service.js';
import { renderGraph, type GraphFormat } from '../topology/graph.js';
import { topologyJsonSchema } from '../topology/json-schema.js';
import { formatProblems, loadTopologyFile, loadTopologyText } from '../topology/load.js';
import { defaultRegistry } from '../components.js';
import { stageReference } from '../topology/stage-docs.js';
import { loadServiceConfig } from '../config/service-config.js';
import { createLogger } from '../logger.js';
import { formatSummary, replay } from './replay.js';

const program = new Command();
program
  .name('weir')
  .description('Stream processing for Prometheus remote_write: topology YAML compiled into RxJS pipelines.')
  .addHelpText(
    'after',
    `
Service settings come from config/default.yaml, then config/$WEIR_ENV.yaml, then WEIR_* variables
(WEIR_HTTP__PORT=9300, WEIR_LOG__LEVEL=debug, WEIR_DATA_DIR=/var/lib/weir).
Topology files may use \${VAR} and \${VAR:-default}. Stage reference: docs/stages.md (weir docs).

Examples:
  weir run topology/embedded.yaml
  weir lint topology/*.yaml
  weir graph topology/embedded.yaml --format dot | dot -Tsvg > graph.svg`,
  );

program
  .command('run')
  .description('Run a topology: start its resources, pipelines and the HTTP edge until SIGINT/SIGTERM, then drain.')
  .argument('<topology>', 'topology YAML file')
  .option('--config-dir <dir>', 'directory with default.yaml and <WEIR_ENV>.yaml', 'config')
  .action(async (file: string, opts: { configDir: string }) => {
    const service = await startService({ topologyFile: file, configDir: opts.configDir });
    const stop = (signal: string) => {
      service.logger.info({ signal }, 'shutting down: draining in-flight work');
      service.stop().then(
        () => process.exit(0),
        (err: unknown) => {
          service.logger.error({ err: String(err) }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGINT', () => stop('SIGINT'));
    process.once('SIGTERM', () => stop('SIGTERM'));
  });

program
  .command('lint')
  .description('Validate topology files; print every problem as file:line:column: path: message.')
  .argument('<files...>', 'topology YAML files')
  .action(async (files: string[]) => {
    const registry = defaultRegistry();
    let failed = 0;
    for (const file of files) {
      const { problems } = loadTopologyText(await readFile(file, 'utf8'), { registry });
      if (problems.length === 0) {
        console.log(`${file}: ok`);
      } else {
        failed += 1;
        console.log(formatProblems(file, problems));
      }
    }
    process.exitCode = failed > 0 ? 1 : 0;
  });

program
  .command('graph')
  .description('Print the stage graph of a topology (Mermaid or Graphviz DOT).')
  .argument('<topology>', 'topology YAML file')
  .addOption(new Option('-f, --format <format>', 'output format').choices(['mermaid', 'dot']).default('mermaid'))
  .action(async (file: string, opts: { format: GraphFormat }) => {
    const spec = await loadTopologyFile(file, { registry: defaultRegistry() });
    process.stdout.write(renderGraph(spec, opts.format));
  });

program
  .command('schema')
  .description('Print the JSON Schema of topology files (generated from the stage schemas).')
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .action(async (opts: { output?: string }) => {
    const text = `${JSON.stringify(topologyJsonSchema(defaultRegistry()), null, 2)}\n`;
    if (opts.output) await writeFile(opts.output, text);
    else process.stdout.write(text);
  });

program
  .command('docs')
  .description('Print the stage reference in Markdown (generated from the stage schemas).')
  .option('-o, --output <file>', 'write to a file instead of stdout')
  .action(async (opts: { output?: string }) => {
    const text = stageReference(defaultRegistry());
    if (opts.output) await writeFile(opts.output, text);
    else process.stdout.write(text);
  });

program
  .command('migrate')
  .description('Apply pending schema migrations of every series index a topology declares (weir run does this at start too).')
  .argument('<topology>', 'topology YAML file')
  .option('--config-dir <dir>', 'directory with default.yaml and <WEIR_ENV>.yaml', 'config')
  .action(async (file: string, opts: { configDir: string }) => {
    const config = loadServiceConfig({ configDir: opts.configDir });
    const registry = defaultRegistry();
    const spec = await loadTopologyFile(file, { registry });
    const logger = createLogger({ level: config.log.level });
    const indexes = spec.resources.filter((r) => registry.resourceProvides(r.type, 'series_index'));
    if (indexes.length === 0) throw new ConfigError(`${file} declares no series index`);
    for (const r of indexes) {
      // Opening an index applies its pending migrations.
      const resource = await r.declaration.open(r.config, { name: r.name, logger: logger.child({ resource: r.name }), dataDir: config.data_dir });
      await resource.close();
      console.log(`${r.name} (${r.type}): schema up to date`);
    }
  });

program
  .command('replay')
  .description('Re-index from Kafka: run a topology\'s Kafka pipeline in a consumer group of its own (live offsets untouched) from offsets or a time to the end, then stop. Idempotent.')
  .requiredOption('--topology <file>', 'topology with a kafka-source pipeline (e.g. topology/indexer.yaml)')
  .option('--topic <topic>', 'topic to replay (default: the pipeline source\'s topic)')
  .option('--from-offset <offsets>', 'start offsets as partition:offset pairs, e.g. 0:0,1:0')
  .option('--from-timestamp <iso>', 'start at the first records at or after this RFC 3339 time')
  .option('--to-timestamp <iso>', 'stop at the first records at or after this time (default: the end offsets as of the start)')
  .option('--pipeline <name>', 'which pipeline, when the topology has several with a kafka source')
  .option('--config-dir <dir>', 'directory with default.yaml and <WEIR_ENV>.yaml', 'config')
  .action(async (opts: { topology: string; topic?: string; fromOffset?: string; fromTimestamp?: string; toTimestamp?: string; pipeline?: string; configDir: string }) => {
    if (!!opts.fromOffset === !!opts.fromTimestamp) throw new ConfigError('give exactly one of --from-offset and --from-timestamp');
    const config = loadServiceConfig({ configDir: opts.configDir });
    const registry = defaultRegistry();
    const spec = await loadTopologyFile(opts.topology, { registry });
    const summary = await replay({ ...opts, spec, registry, logger: createLogger({ level: config.log.level === 'info' ? 'warn' : config.log.level }), dataDir: config.data_dir });
    console.log(formatSummary(summary));
  });

program.parseAsync().catch((err: unknown) => {
  if (err instanceof ConfigError && err.problems.length > 0) {
    console.error(`${err.message}\n${formatProblems('', err.problems).replace(/^:/gm, 'line ')}`);
  } else {
    console.error(err instanceof Error ? err.message : String(err));
  }
  process.exit(1);
});
