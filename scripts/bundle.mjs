// One file for the CLI (dist/elfrun.mjs): Node loads a single module instead
// of ~40, which is most of elfrun's start-up beyond Node's own (measured:
// `elfrun run busybox true` 0.19 s -> 0.13 s). koffi stays a package: it
// loads a native addon. bin/elfrun uses the bundle when it is newer than tsc's output.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/bin/elfrun.js'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  external: ['koffi'],
  outfile: 'dist/elfrun.mjs',
  sourcemap: 'linked',
  logLevel: 'warning',
  // commander is CommonJS: give the ESM bundle a require()
  banner: { js: "import { createRequire as __elfrunRequire } from 'node:module'; const require = __elfrunRequire(import.meta.url);" },
});
