import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);

/** Runs the real CLI the way a user does (through tsx, from the repository root). */
async function weir(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run('npx', ['tsx', 'src/cli/main.ts', ...args], { env: { ...process.env, NODE_NO_WARNINGS: '1' } });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('weir CLI', () => {
  it('lints the shipped topologies clean', async () => {
    const { code, stdout } = await weir('lint', 'topology/embedded.yaml');
    expect(stdout).toContain('topology/embedded.yaml: ok');
    expect(code).toBe(0);
  });

  it('lint reports every error with file, line, column and YAML path, and exits 1', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'weir-lint-'));
    const file = join(dir, 'broken.yaml');
    writeFileSync(
      file,
      ['name: broken', 'pipelines:', '  ingest:', '    source:', '      type: http_remote_write', '      ack_timeout: whenever', '    steps:', '      - type: canonicalize', '        max_labels_per_series: -1', '      - type: series_index', '        index: nowhere', ''].join('\n'),
    );
    const { code, stdout } = await weir('lint', file);
    expect(code).toBe(1);
    expect(stdout).toContain(`${file}:6:20: pipelines.ingest.source.ack_timeout: not a duration`);
    expect(stdout).toMatch(new RegExp(`${file}:9:\\d+: pipelines\\.ingest\\.steps\\[0\\]\\.max_labels_per_series: `));
    expect(stdout).toContain(`${file}:11:16: pipelines.ingest.steps[1].index: no resource named "nowhere"`);
  });

  it('graph prints Mermaid and DOT', async () => {
    const mermaid = await weir('graph', 'topology/embedded.yaml');
    expect(mermaid.stdout).toContain('flowchart LR');
    expect(mermaid.stdout).toContain('ingest__dedup -- SeriesBatch --> ingest__series_index');
    const dot = await weir('graph', 'topology/embedded.yaml', '--format', 'dot');
    expect(dot.stdout).toContain('digraph "embedded"');
  });

  it('--help documents every command', async () => {
    const { stdout } = await weir('--help');
    for (const command of ['run', 'lint', 'graph', 'schema', 'docs', 'migrate', 'replay']) expect(stdout).toMatch(new RegExp(`^\\s+${command}\\b`, 'm'));
    expect(stdout).toContain('WEIR_HTTP__PORT');
  });
});
