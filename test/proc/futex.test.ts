// Robust mutexes and process-shared futexes: the kernel marks a dead owner's
// futex word FUTEX_OWNER_DIED and wakes a waiter; a condition variable in
// MAP_SHARED memory wakes another process.
import { describe, expect, it } from 'vitest';
import { fixture, runElfrun, runLinux } from '../helpers/oracle.js';

describe('robust lists and shared futexes', () => {
  it('x86_64: as Linux does it', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'robust'), []);
    expect(want.stdout).toContain('EOWNERDEAD');
    expect(runElfrun(fixture('x86_64', 'robust'), [], { timeout: 30_000 })).toEqual(want);
  });

  // qemu-aarch64 7.2 hangs on this program (it does not walk robust lists), so the
  // oracle is the x86_64 run for the parts that do not depend on the C library
  // (the arm64 fixture uses glibc, the x86_64 one musl, which differ in the last line).
  it('arm64: the same kernel behaviour', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'robust'), []).stdout.split('\n').slice(0, 3);
    const got = runElfrun(fixture('arm64', 'robust'), [], { timeout: 30_000 });
    expect(got.status).toBe(0);
    const lines = got.stdout.split('\n');
    expect(lines.slice(0, 3)).toEqual(want);
    expect(lines[3]).toMatch(/^child died holding the shared lock: (EOWNERDEAD|State not recoverable)$/);
  });
});
