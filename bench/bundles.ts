/**
 * Each Lambda bundled the way the CDK stack bundles it (the `bundling` settings of
 * BUNDLED_FUNCTION, through the same local esbuild: one CommonJS file, minified, a source map
 * beside it, the AWS SDK inside), its size, and how long a fresh `node` takes to load it compared
 * with `node -e 0`: as deployed (NODE_OPTIONS=LAMBDA_NODE_OPTIONS, which reads the source map),
 * and without source maps.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build, type Metafile } from 'esbuild';
import { BUNDLED_FUNCTION, LAMBDA_NODE_OPTIONS } from '../infra/constructs/vpc-function.js';
import { median } from './stats.js';

export const LAMBDAS = {
  probe: 'lambda/handlers/probe.ts',
  drill: 'lambda/handlers/drill.ts',
} as const;

export interface BundleFigures {
  readonly name: string;
  /** The minified bundle, without its source map. */
  readonly bytes: number;
  readonly sourceMapBytes: number;
  /** Median wall time of `node -e "require(bundle)"` with the deployed NODE_OPTIONS, ms. */
  readonly importMs: number;
  /** The same without source maps. */
  readonly importNoSourceMapsMs: number;
  /** Median wall time of `node -e 0` in the same runs, milliseconds. */
  readonly bareNodeMs: number;
}

export async function measureBundles(root: string, runs: number): Promise<BundleFigures[]> {
  const dir = await mkdtemp(join(tmpdir(), 'slotwatch-bundles-'));
  try {
    const figures: BundleFigures[] = [];
    for (const [name, entry] of Object.entries(LAMBDAS)) {
      const outfile = join(dir, `${name}.js`);
      await bundleAsDeployed(join(root, entry), outfile);
      const { size: bytes } = await stat(outfile);
      const { size: sourceMapBytes } = await stat(`${outfile}.map`);
      const load = ['-e', `require(${JSON.stringify(outfile)})`];
      const times = { bare: [] as number[], deployed: [] as number[], plain: [] as number[] };
      // Interleaved, so that a busy moment on the machine hits every variant alike.
      for (let i = 0; i < runs; i++) {
        times.bare.push(timeNode(['-e', '0']));
        times.deployed.push(timeNode(load, LAMBDA_NODE_OPTIONS));
        times.plain.push(timeNode(load));
      }
      figures.push({
        name,
        bytes,
        sourceMapBytes,
        importMs: median(times.deployed),
        importNoSourceMapsMs: median(times.plain),
        bareNodeMs: median(times.bare),
      });
    }
    return figures;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** One Lambda bundled as the stack bundles it; returns esbuild's account of what went in. */
export async function bundleAsDeployed(entry: string, outfile: string): Promise<Metafile> {
  const { bundling } = BUNDLED_FUNCTION;
  const result = await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    minify: bundling.minify,
    sourcemap: bundling.sourceMap,
    platform: 'node',
    target: bundling.target,
    format: 'cjs',
    external: [...bundling.externalModules],
    metafile: true,
    logLevel: 'silent',
  });
  return result.metafile;
}

function timeNode(args: readonly string[], nodeOptions = ''): number {
  const env = { ...process.env, NODE_OPTIONS: nodeOptions };
  const start = performance.now();
  const result = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
  const ms = performance.now() - start;
  if (result.status !== 0) {
    throw new Error(`node ${args.join(' ')} failed: ${result.stderr.toString().trim()}`);
  }
  return ms;
}
