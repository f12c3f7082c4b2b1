import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/** docs/architecture.md's folder map and import rules, checked against the tree. */
const SRC = resolve('src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return name.endsWith('.ts') && !name.endsWith('.test.ts') && !name.endsWith('.test-support.ts') ? [path] : [];
  });
}

/** The repository paths (under src/) that `file` imports with relative specifiers. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((m) => m[1]);
  return specifiers.map((s) => relative(SRC, resolve(join(file, '..'), s)));
}

/** The `src/…` block of the folder map: its top-level entries. */
function mappedTopLevel(): string[] {
  const doc = readFileSync('docs/architecture.md', 'utf8');
  const block = doc.slice(doc.indexOf('```\nsrc/\n') + 9);
  const map = block.slice(0, block.indexOf('```'));
  return [...map.matchAll(/^ {2}(\S+)/gm)].map((m) => m[1].replace(/\/$/, ''));
}

describe('docs/architecture.md', () => {
  it('names every top-level folder and file of src/, and only those', () => {
    const actual = readdirSync(SRC)
      .filter((name) => !name.endsWith('.test.ts') && !name.endsWith('.test-support.ts'))
      .sort();
    const mapped = mappedTopLevel().sort();
    expect(mapped.length).toBeGreaterThan(10);
    expect(mapped).toEqual(actual);
  });

  it('names stage files that exist', () => {
    const doc = readFileSync('docs/architecture.md', 'utf8');
    const stageLines = doc.split('\n').filter((line) => /^ {4}(sources|transforms|sinks)\//.test(line));
    expect(stageLines).toHaveLength(3);
    for (const line of stageLines) {
      const [folder, ...rest] = line.trim().split(/\s+/);
      const names = rest.join(' ').match(/[\w-]+(\.ts|\/)/g) ?? [];
      expect(names.length).toBeGreaterThan(1);
      for (const name of names) expect(existsSync(join(SRC, 'stages', folder, name)), `${folder}${name}`).toBe(true);
    }
  });

  it('keeps the engine free of concrete stages: topology/ and runtime/ import no stage, resource or component list', () => {
    const engine = [...sourceFiles(join(SRC, 'topology')), ...sourceFiles(join(SRC, 'runtime'))];
    expect(engine.length).toBeGreaterThan(5);
    for (const file of engine) {
      for (const target of relativeImports(file)) {
        expect(/^(stages|resources)\/|^components\.js$/.test(target), `${relative(SRC, file)} imports ${target}`).toBe(false);
      }
    }
  });

  it('keeps test support out of production code', () => {
    for (const file of sourceFiles(SRC)) {
      for (const target of relativeImports(file)) {
        expect(target.includes('.test-support') || target.startsWith('../test/'), `${relative(SRC, file)} imports ${target}`).toBe(false);
      }
    }
  });
});
