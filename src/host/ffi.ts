// koffi, loaded the quick way when the bundle knows where its native addon is.
//
// `require('koffi')` resolves the package, runs its platform detection (which
// probes several directories for the addon) and wraps the addon's functions:
// ~5 ms of a ~55 ms `elfrun run busybox true`. scripts/bundle.mjs finds the
// addon at build time, checks that it is the package's own version, and
// names it in the bundle (__elfrunKoffiAddon, relative to the bundle); the
// addon alone is the whole API elfrun uses. Anything unexpected at run time
// (a moved tree, another version) falls back to the package.
import { createRequire } from 'node:module';

type Koffi = typeof import('koffi');

declare const __elfrunKoffiAddon: { path: string; version: string } | undefined;

const require = createRequire(import.meta.url);

function load(): Koffi {
  if (typeof __elfrunKoffiAddon !== 'undefined') {
    try {
      const addon = require(__elfrunKoffiAddon.path) as Koffi & { version?: string };
      if (addon.version === __elfrunKoffiAddon.version) return addon;
    } catch {
      /* fall back to the package */
    }
  }
  const pkg = require('koffi') as Koffi & { default?: Koffi };
  return pkg.default ?? pkg;
}

const koffi: Koffi = load();
export default koffi;
