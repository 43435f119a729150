// MAP_SHARED under elfrun against Linux: fixtures/src/mmapshared.c, natively
// (x86_64) and under qemu-aarch64 (arm64), compared on stdout, stderr and
// exit status; the same on a guest tmpfs; and what a mapping wrote is in the
// file after a SIGKILL.
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, haveQemu, runElfrun, runLinux, type RunResult, type TestArch } from '../helpers/oracle.js';

const dirs: string[] = [];
const scratch = (): string => {
  const d = mkdtempSync(join(tmpdir(), 'elfrun-mmapshared-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The parts of the fixture; qemu-user 7.2 emulates mmap itself and gets `errors` and `mremap` wrong. */
const PARTS = ['file', 'fork', 'anon', 'eof', 'errors', 'mremap'] as const;
const QEMU_WRONG = new Set(['errors', 'mremap']);

/** qemu-user reports a guest killed by a signal on stderr; Linux does not. */
const withoutQemuNoise = (r: RunResult): RunResult => ({
  ...r,
  stderr: r.stderr.replace(/^qemu: uncaught target signal .*\n/gm, ''),
});

function expectSame(got: RunResult, want: RunResult): void {
  expect(got.stdout).toBe(want.stdout);
  expect(got.stderr).toBe(want.stderr);
  expect(got.status).toBe(want.status);
  expect(got.signal).toBe(want.signal);
}

for (const arch of ARCHES) {
  describe(`MAP_SHARED on ${arch}`, () => {
    for (const part of PARTS) {
      // qemu-aarch64 is the arm64 oracle where it forwards the calls faithfully;
      // elsewhere the semantics are arch-neutral and the native x86_64 run is.
      const oracle: TestArch = arch === 'arm64' && QEMU_WRONG.has(part) ? 'x86_64' : arch;
      it.runIf(oracle === 'x86_64' || haveQemu())(`${part} (oracle: ${oracle === 'x86_64' ? 'native x86_64' : 'qemu-aarch64'})`, () => {
        const want = withoutQemuNoise(runLinux(oracle, fixture(oracle, 'mmapshared'), [scratch(), part]));
        const got = runElfrun(fixture(arch, 'mmapshared'), [scratch(), part]);
        expect(want.status).toBe(0);
        expect(want.stdout).toMatch(/^== /);
        expectSame(got, want);
      });
    }

    it('every part on a guest tmpfs (files in host memfds) as on a disk file natively', () => {
      const want = runLinux('x86_64', fixture('x86_64', 'mmapshared'), [scratch()]);
      const got = runElfrun(fixture(arch, 'mmapshared'), ['/scratch'], { flags: ['--tmpfs', '/scratch'] });
      expect(want.status).toBe(0);
      expectSame(got, want);
    });

    it.runIf(arch === 'x86_64' || haveQemu())('what a mapping wrote is in the file after the process dies by SIGKILL', () => {
      const native = scratch();
      const ours = scratch();
      const want = withoutQemuNoise(runLinux(arch, fixture(arch, 'mmapshared'), [native, 'kill']));
      const got = runElfrun(fixture(arch, 'mmapshared'), [ours, 'kill']);
      expect(want.signal).toBe('SIGKILL');
      expectSame(got, want);
      const data = readFileSync(join(ours, 'mmapshared.data'));
      expect(data.equals(readFileSync(join(native, 'mmapshared.data')))).toBe(true);
      expect(data.subarray(0, 22).toString()).toBe('written before SIGKILL');
    });
  });
}
