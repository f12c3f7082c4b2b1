import { isAbsolute, join } from 'node:path';
import { z } from 'zod';
import { openSqliteIndex } from '../clients/sqlite/sqlite-index.js';
import type { SeriesIndex } from '../index/series-index.js';
import { defineResource, type Resource } from '../topology/declaration.js';

export const sqliteIndexConfig = z.strictObject({
  path: z.string().default('index.sqlite').describe('Database file; a relative path is under the service\'s data_dir. Created on first start.'),
});

/** The embedded series index: one SQLite file, no server to run. */
export const sqliteIndex = defineResource({
  kind: 'resource',
  type: 'sqlite_index',
  summary: 'Series index in an embedded SQLite file (the default for one machine).',
  stability: 'stable',
  examples: [
    {
      title: 'The embedded index, a file under data_dir',
      yaml: `
        index:
          type: sqlite_index
          path: index.sqlite`,
    },
  ],
  provides: ['series_index'],
  config: sqliteIndexConfig,
  async open(config, ctx): Promise<SeriesIndex & Resource> {
    const path = isAbsolute(config.path) ? config.path : join(ctx.dataDir, config.path);
    ctx.logger.info({ path }, 'opening SQLite series index');
    return openSqliteIndex({ path });
  },
});
