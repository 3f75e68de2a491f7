/** Publishes the run config's zod schema as JSON Schema (configs/config.schema.json); a test keeps them in sync. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { packageRoot } from '../util/version.js';
import { RunConfig } from './schema.js';

export function runConfigJsonSchema(): string {
  const schema = z.toJSONSchema(RunConfig, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...schema, title: 'dllm-bench run configuration' }, null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(join(packageRoot, 'configs', 'config.schema.json'), runConfigJsonSchema());
}
