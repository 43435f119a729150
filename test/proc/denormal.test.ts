// The denormal flags against the native run, musl and glibc: SSE's MXCSR.DE
// (which instructions set it for a denormal input, none with DAZ, SIGFPE
// FPE_FLTUND with the destination unchanged when unmasked) and x87's status
// word DE (arithmetic, comparisons and float32/float64 loads; unmasked, SIGFPE
// at the next waiting instruction with the registers, condition codes and
// stack as the stopped instruction left them).
import { describe, expect, it } from 'vitest';
import { fixture, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

describe('denormal flags', () => {
  for (const name of ['denormal-x86', 'denormal-x86-glibc']) {
    it(`x86_64 ${name}: the flags of each instruction are the native run's`, () => {
      const want = runLinux('x86_64', fixture('x86_64', name), []);
      expect(want.stdout).toMatch(/addsd den\+1 +flags DE PE/);
      expect(want.stdout).toMatch(/x87 faddl den +flags DE PE/);
      expect(want.stdout).toMatch(/x87 unmasked fmull +SIGFPE code 5 si_addr =wait fip =insn/);
      const got = runElfrun(fixture('x86_64', name), []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });
  }
});

describe('arm64 input-denormal flag (FPSR.IDC)', () => {
  it('x86_64: the fixture says it has nothing to show, as natively', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'denormal-a64'), []);
    expect(runElfrun(fixture('x86_64', 'denormal-a64'), []).stdout).toBe(want.stdout);
  });

  it.skipIf(!haveQemu())('arm64: FPSR after each instruction is qemu-aarch64\'s', () => {
    const want = runLinux('arm64', fixture('arm64', 'denormal-a64'), []);
    expect(want.stdout).toMatch(/fz 1 fadd d den\+1: fpsr 0x80 /);
    const got = runElfrun(fixture('arm64', 'denormal-a64'), []);
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(want.status);
  });
});
