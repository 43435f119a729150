// One CommonJS file for the CLI (dist/elfrun.cjs), which bin/elfrun compiles
// with a V8 code cache. Node then loads one script instead of ~40 ES modules
// through its ESM loader (which also imports fs/promises, readline and streams
// for itself). koffi stays a package: it loads a native addon.
// bin/elfrun uses the bundle when it is at least as new as tsc's output.
import { build } from 'esbuild';
import { createRequire } from 'node:module';
import { dirname, relative, resolve } from 'node:path';

// koffi's native addon, named for src/host/ffi.ts so that a run skips the
// package's own search for it. Only when this build can load it and it is
// the version the package expects; otherwise ffi.ts loads the package.
function koffiAddon() {
  const require = createRequire(import.meta.url);
  try {
    const { version } = require('koffi');
    const pkgDir = dirname(require.resolve('koffi'));
    const triplet = `${process.platform}_${process.arch}`;
    const file = createRequire(`${pkgDir}/`).resolve(`@koromix/koffi-${process.platform}-${process.arch}/${triplet}/koffi.node`);
    if (require(file).version !== version) return undefined;
    return { path: `./${relative(resolve('dist'), file)}`, version };
  } catch {
    return undefined;
  }
}
const addon = koffiAddon();

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
  // less to read and to deserialise at every start (~1 ms); names are kept,
  // so stack traces still name functions, and the source map has the lines
  minifyWhitespace: true,
  minifySyntax: true,
  logLevel: 'warning',
  // the sources are ES modules: import.meta.url is this file's own URL
  define: { 'import.meta.url': '__elfrunUrl' },
  banner: {
    js: [
      "const __elfrunUrl = require('node:url').pathToFileURL(__filename).href;",
      `const __elfrunKoffiAddon = ${JSON.stringify(addon)};`,
    ].join('\n'),
  },
});

// bin/elfrun compiles the bundle as a classic script (vm.Script), which has no
// dynamic import(): import Node's modules statically.
const { readFileSync } = await import('node:fs');
if (/[^\w$.]import\(/.test(readFileSync('dist/elfrun.cjs', 'utf8'))) {
  console.error('bundle: dist/elfrun.cjs contains a dynamic import(), which bin/elfrun cannot run');
  process.exit(1);
}
