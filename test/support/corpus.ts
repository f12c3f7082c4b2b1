import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/** `WEIR_CORPUS_DIR`, or the self-scrape corpus in `shared/` next to the repository. */
export function corpusDir(): string {
  return process.env.WEIR_CORPUS_DIR ?? join(repoRoot, '..', 'shared', 'corpus', 'prometheus-2.42-selfscrape');
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
