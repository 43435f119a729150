// One CommonJS file for the CLI (dist/elfrun.cjs), which bin/elfrun compiles
// with a V8 code cache. Node then loads one script instead of ~40 ES modules
// through its ESM loader (which also imports fs/promises, readline and streams
// for itself). koffi stays a package: it loads a native addon.
// bin/elfrun uses the bundle when it is at least as new as tsc's output.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/src/cli.js'],
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  external: ['koffi'],
  // commander's and compare's child_process, loaded on first use (see the file)
  alias: { 'node:child_process': './scripts/lazy-child-process.cjs', child_process: './scripts/lazy-child-process.cjs' },
  outfile: 'dist/elfrun.cjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // the sources are ES modules: import.meta.url is this file's own URL
  define: { 'import.meta.url': '__elfrunUrl' },
  banner: { js: "const __elfrunUrl = require('node:url').pathToFileURL(__filename).href;" },
});

// bin/elfrun compiles the bundle as a classic script (vm.Script), which has no
// dynamic import(): import Node's modules statically.
const { readFileSync } = await import('node:fs');
if (/[^\w$.]import\(/.test(readFileSync('dist/elfrun.cjs', 'utf8'))) {
  console.error('bundle: dist/elfrun.cjs contains a dynamic import(), which bin/elfrun cannot run');
  process.exit(1);
}
