/**
 * The bundle boundary: lambda/ holds what the two Lambda bundles reach, and the drill bundle has
 * no code that signals or inspects processes (that lives in tools/, for local drills only).
 */
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleAsDeployed, LAMBDAS } from '../../bench/bundles.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What process-signal or /proc code leaves in a bundle, minified or not. */
const PROCESS_CODE = [/SIGSTOP/, /SIGCONT/, /\/proc\//, /\bprocess\.kill\b/];
/** The project's own code spawns nothing either (the AWS SDK's credential_process does). */
const OWN_PROCESS_CODE = [...PROCESS_CODE, /node:child_process/];

describe('the Lambda bundles', () => {
  let dir: string;
  const bundles = new Map<string, { code: string; meta: Metafile }>();

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'slotwatch-bundle-test-'));
    for (const [name, entry] of Object.entries(LAMBDAS)) {
      const outfile = join(dir, `${name}.js`);
      const meta = await bundleAsDeployed(join(ROOT, entry), outfile);
      bundles.set(name, { code: await readFile(outfile, 'utf8'), meta });
    }
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  function sources(name: string): string[] {
    const bundle = bundles.get(name);
    if (bundle === undefined) throw new Error(`no ${name} bundle`);
    return Object.keys(bundle.meta.inputs).filter((input) => !input.includes('node_modules/'));
  }

  it.each(Object.keys(LAMBDAS))('the %s bundle holds no process-signal or /proc code', (name) => {
    const code = bundles.get(name)?.code ?? '';
    expect(code.length).toBeGreaterThan(0);
    const found = PROCESS_CODE.filter((pattern) => pattern.test(code)).map(String);
    expect(found).toEqual([]);
  });

  it.each(Object.keys(LAMBDAS))(
    'no own source of the %s bundle spawns or signals',
    async (name) => {
      const found: string[] = [];
      for (const input of sources(name)) {
        const text = await readFile(join(ROOT, input), 'utf8');
        for (const pattern of OWN_PROCESS_CODE) {
          if (pattern.test(text)) found.push(`${input}: ${String(pattern)}`);
        }
      }
      expect(found).toEqual([]);
    },
  );

  it('both bundles take their own code from lambda/ only', () => {
    for (const name of Object.keys(LAMBDAS)) {
      const outside = sources(name).filter((input) => !input.startsWith('lambda/'));
      expect(outside, name).toEqual([]);
    }
  });

  it('every file in lambda/ is reached by a bundle or declares types only', async () => {
    const reached = new Set([...sources('probe'), ...sources('drill')]);
    const files = execFileSync('git', ['ls-files', 'lambda'], { cwd: ROOT, encoding: 'utf8' })
      .trim()
      .split('\n');
    const unreached: string[] = [];
    for (const file of files) {
      if (reached.has(file)) continue;
      const text = await readFile(join(ROOT, file), 'utf8');
      // A types-only module leaves nothing for esbuild to include.
      const declaresValues = /^export\s+(?!type\b|interface\b)/m.test(text);
      if (declaresValues) unreached.push(file);
    }
    expect(unreached).toEqual([]);
  });
});
