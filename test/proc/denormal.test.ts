// SSE's denormal flag (MXCSR.DE) against the native run: which instructions
// set it for a denormal input, none with DAZ, and SIGFPE (FPE_FLTUND) with
// the destination unchanged when it is unmasked.
import { describe, expect, it } from 'vitest';
import { fixture, runElfrun, runLinux } from '../helpers/oracle.js';

describe('SSE denormal flag', () => {
  it('x86_64: the flags of each instruction are the native run\'s', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'denormal-x86'), []);
    expect(want.stdout).toMatch(/addsd den\+1 +flags DE PE/);
    const got = runElfrun(fixture('x86_64', 'denormal-x86'), []);
    expect(got.stdout).toBe(want.stdout);
    expect(got.status).toBe(want.status);
  });
});
