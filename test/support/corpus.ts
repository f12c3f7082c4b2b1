import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The real remote-write corpus (bodies a Prometheus 2.42 sent, see shared/corpus/README.md),
 * for tests and benchmarks. It lives beside the repository, not in it.
 */

/** Per-file counts from the corpus' manifest.json. */
export interface CorpusManifestFile {
  file: string;
  timeseries: number;
  samples: number;
  metadata: number;
  /** Exemplars in the file (the exemplars corpus only). */
  exemplars?: number;
}

export interface CorpusManifest {
  requests: number;
  samples: number;
  metadata: number;
  /** Distinct series over sorted label sets, across all files. */
  distinct_series: number;
  files: CorpusManifestFile[];
}

export interface CorpusBody {
  file: string;
  /** The snappy-compressed protobuf body, exactly as sent. */
  body: Buffer;
}

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));

/** The corpora in `shared/corpus/`: the self-scrape bodies, and the ones with exemplars. */
export type CorpusName = 'prometheus-2.42-selfscrape' | 'prometheus-2.42-exemplars';

/**
 * `shared/corpus/` beside the repository, or beside any folder above it (a clone in a sub-folder of
 * the workplace, a git worktree): the first ancestor that has one. `WEIR_CORPUS_ROOT` overrides it.
 */
export function corpusRoot(): string {
  if (process.env.WEIR_CORPUS_ROOT) return process.env.WEIR_CORPUS_ROOT;
  const tried: string[] = [];
  for (let dir = repoRoot; ; dir = dirname(dir)) {
    const candidate = join(dir, '..', 'shared', 'corpus');
    tried.push(candidate);
    if (existsSync(join(candidate, 'README.md'))) return candidate;
    if (dirname(dir) === dir) break;
  }
  throw new Error(`remote-write corpus not found (looked for shared/corpus in ${tried.join(', ')}); set WEIR_CORPUS_ROOT`);
}

/** `WEIR_CORPUS_DIR`, or the named corpus (self-scrape by default) under `corpusRoot()`. */
export function corpusDir(name: CorpusName = 'prometheus-2.42-selfscrape'): string {
  if (name === 'prometheus-2.42-selfscrape' && process.env.WEIR_CORPUS_DIR) return process.env.WEIR_CORPUS_DIR;
  return join(corpusRoot(), name);
}

/** Every `*.snappy` body of the corpus, in file-name order. */
export function loadCorpus(dir: string = corpusDir()): CorpusBody[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.snappy'))
    .sort()
    .map((file) => ({ file, body: readFileSync(join(dir, file)) }));
}

export function loadManifest(dir: string = corpusDir()): CorpusManifest {
  return JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) as CorpusManifest;
}
