// bin/elfrun compiles the bundle with a V8 code cache. V8 checks only the
// source's length, so a rebuilt bundle of the same length must still run its
// own code (the cache is keyed by the bundle's inode, size and time), and a
// stale cache is replaced. Runs the real launcher on a stand-in tree.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/oracle.js';

describe('bin/elfrun launcher', () => {
  it('runs each build of the bundle, never code cached from another of the same length', () => {
    const dir = mkdtempSync(join(tmpdir(), 'elfrun-launcher-'));
    try {
      mkdirSync(join(dir, 'bin'));
      mkdirSync(join(dir, 'dist/src'), { recursive: true });
      copyFileSync(join(ROOT, 'bin/elfrun'), join(dir, 'bin/elfrun'));
      copyFileSync(join(ROOT, 'bin/package.json'), join(dir, 'bin/package.json'));
      writeFileSync(join(dir, 'dist/src/cli.js'), 'process.stdout.write("tsc\\n");\n');
      const bundle = join(dir, 'dist/elfrun.cjs');
      const build = (word: string, when: number): void => {
        writeFileSync(bundle, `function f() { return "${word}"; }\nprocess.stdout.write(f() + "\\n");\n`);
        utimesSync(bundle, when, when);
      };
      const run = (): string => {
        const r = spawnSync(join(dir, 'bin/elfrun'), [], { encoding: 'utf8' });
        expect(r.stderr).toBe('');
        return r.stdout;
      };
      const caches = (): string[] => readdirSync(join(dir, 'dist')).filter((f) => f.endsWith('.v8cache'));
      // explicit times: the launcher compares the bundle's with tsc's output
      const now = Math.floor(Date.now() / 1000);
      utimesSync(join(dir, 'dist/src/cli.js'), now - 50, now - 50);
      build('one', now);
      expect(run()).toBe('one\n'); // writes the cache
      expect(caches()).toHaveLength(1);
      expect(run()).toBe('one\n'); // runs from it
      build('two', now + 10); // same length, another build
      expect(run()).toBe('two\n');
      expect(run()).toBe('two\n');
      expect(caches()).toHaveLength(1); // the first build's cache was removed
      // tsc's output newer than the bundle: the launcher runs it instead
      utimesSync(bundle, now - 100, now - 100);
      expect(run()).toBe('tsc\n');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
