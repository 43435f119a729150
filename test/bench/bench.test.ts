// The benchmark script runs (tiny inputs, one run each) and every run's output
// matches Linux's; no timing is asserted.
import { expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from '../helpers/oracle.js';

it('npm run bench -- --tiny works', () => {
  const r = spawnSync('node', [join(ROOT, 'dist/bench/run.js'), '--tiny'], { cwd: ROOT, timeout: 300_000 });
  const out = r.stdout.toString();
  expect(r.stderr.toString()).toBe('');
  expect(r.status).toBe(0);
  expect(out).toMatch(/## x86_64/);
  expect(out).toMatch(/## arm64/);
  expect(out).toMatch(/geometric mean elfrun\/qemu/);
});
