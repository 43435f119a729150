// The x87 last-instruction pointers (FOP, FIP, FDP) in fnstenv, in the
// guest's own fxsave64/fxsave and in a signal frame's fxsave area, against
// the native run. fnstenv holds them always; fxsave and XSAVE (the frame)
// store them on AMD processors only while an exception is pending (FSW.ES)
// and zeros otherwise, which is what the engine does. Intel's store them
// always: on an Intel host only the lines where both agree are compared.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const amd = /vendor_id\s*:\s*AuthenticAMD/.test(readFileSync('/proc/cpuinfo', 'latin1'));
/** the lines whose values do not depend on the vendor */
const common = (s: string): string =>
  s
    .split('\n')
    .filter((l) => amd || /^(fnstenv|fxsave64 pending|SIGFPE frame)/.test(l))
    .join('\n');

describe('x87 instruction and data pointers', () => {
  it('x86_64: fnstenv, fxsave and signal frames show what the native run shows', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'x87ptr-x86'), []);
    expect(want.stdout).toMatch(/SIGFPE frame: fop 0x0435 fip =insn fdp =operand/);
    const got = runElfrun(fixture('x86_64', 'x87ptr-x86'), []);
    expect(common(got.stdout)).toBe(common(want.stdout));
    expect(got.status).toBe(want.status);
  });
});
