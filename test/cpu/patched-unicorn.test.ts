// The patched engine keeps Unicorn's guarantees: self-modifying code is
// re-translated, write hooks fire (and can stop the engine after the store),
// stores to read-only pages fault, and a faulting load or store stops the
// engine at that instruction
// (test/cpu/unicorn-patch.test.c, built and run by scripts/unicorn/check.sh).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from '../helpers/oracle.js';

const lib = join(process.env.ELFRUN_CACHE ?? join(homedir(), '.cache', 'elfrun'), 'unicorn-2.1.4-elfrun1', 'lib', 'libunicorn.so.2');

describe.skipIf(!existsSync(lib))('patched Unicorn 2.1.4', () => {
  it('passes the engine checks', () => {
    const r = spawnSync(join(ROOT, 'scripts/unicorn/check.sh'), [], { env: { ...process.env, ELFRUN_CHECK_ITERS: '200000' }, timeout: 120_000 });
    const out = r.stdout.toString() + r.stderr.toString();
    expect(out).toMatch(/\b0 failed\b/);
    expect(r.status, out).toBe(0);
  });
});
