// The C syscall trampoline (scripts/native/trampoline.c) and the pure-koffi
// path it replaces give the same guest-visible results, on both arches.
import { describe, expect, it } from 'vitest';
import { existsSync, readdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const cache = process.env.ELFRUN_CACHE ?? join(homedir(), '.cache', 'elfrun');
const built = existsSync(cache) && readdirSync(cache).some((d) => d.startsWith('trampoline-'));
const koffiOnly = { ...process.env, ELFRUN_QUIET_UNICORN: '1', ELFRUN_NO_TRAMPOLINE: '1' };

describe('syscall trampoline', () => {
  it('is built by the set-up', () => {
    expect(built).toBe(true);
  });
  for (const arch of ARCHES) {
    it(`${arch}: syscall registers, signals and fork behave the same with and without it`, () => {
      for (const [prog, args] of [['regs', ['arg']], ['forkmem', ['arg']], ['rtsig', []]] as const) {
        const want = runLinux(arch, fixture(arch, prog), [...args]);
        expect(runElfrun(fixture(arch, prog), [...args])).toEqual(want);
        expect(runElfrun(fixture(arch, prog), [...args], { env: koffiOnly })).toEqual(want);
      }
      const sh = ['sh', '-c', 'ls / | wc -l; x=$(echo hi); echo $x; kill -USR1 $$'];
      const bb = fixture(arch, 'busybox');
      expect(runElfrun(bb, sh, { env: koffiOnly })).toEqual(runElfrun(bb, sh));
    });
  }
});
