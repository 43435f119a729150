// Python's own test suites for floating point, number parsing and time
// (Debian's libpython3.11-testsuite), programs elfrun was never tuned to:
// each test's outcome under elfrun is the native run's. The tests that set
// the host's clock (clock_settime of CLOCK_REALTIME) are left out of both.
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runElfrun, runLinux } from '../helpers/oracle.js';

const PYTHON = '/usr/bin/python3.11';
const SUITE = '/usr/lib/python3.11/test';
const MODULES = ['test_float', 'test_cmath', 'test_strtod', 'test_fractions', 'test_time'];
const IGNORE = ['test_clock_settime', 'test_monotonic_settime'];
const have = existsSync(PYTHON) && MODULES.every((m) => existsSync(join(SUITE, `${m}.py`)));

/** "test_x (test.test_mod.Class.test_x) ... ok" lines: each test and its outcome */
function outcomes(log: string): string[] {
  return log
    .split('\n')
    .filter((l) => /^test\w* \([\w.]+\) \.\.\. /.test(l))
    .map((l) => l.replace(/ \.\.\. (ok|skipped|FAIL|ERROR|expected failure).*$/, ' $1'))
    .sort();
}

describe.skipIf(!have)('Python 3.11 test suites', () => {
  it(`${MODULES.join(' ')}: each test's outcome is the native run's`, () => {
    const cwd = mkdtempSync(join(tmpdir(), 'elfrun-pysuite-'));
    try {
      const args = ['-m', 'test', '-v', ...IGNORE.flatMap((t) => ['-i', t]), ...MODULES];
      const env = { PATH: '/usr/bin:/bin', HOME: cwd, LANG: 'C.UTF-8' };
      const want = runLinux('x86_64', PYTHON, args, { cwd, env, timeout: 60_000 });
      expect(want.stdout).toContain('Tests result: SUCCESS');
      expect(outcomes(want.stdout).length).toBeGreaterThan(100);
      expect(want.stdout).not.toContain('test_clock_settime');
      const got = runElfrun(PYTHON, args, { cwd, env, timeout: 60_000 });
      expect(got.stderr).not.toMatch(/elfrun:/);
      expect(outcomes(got.stdout)).toEqual(outcomes(want.stdout));
      expect(got.stdout).toContain('Tests result: SUCCESS');
      expect(got.status).toBe(0);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  }, 90_000);
});
