// arm64's esr_context in the signal frame: after the fpsimd record and
// before the terminating one, for a fault that set the thread's fault_code
// (a data or instruction abort), absent for an undefined instruction.
//
// qemu-aarch64 7.2 writes no ESR record (qemu-user gained one in 2025,
// "linux-user/aarch64: Generate ESR signal records"), so the reference is its
// run with the record the kernel adds put in: arch/arm64/kernel/signal.c
// (setup_sigframe_layout, setup_sigframe) with the syndrome of
// arch/arm64/mm/fault.c's set_thread_esr: EC 0x24 for a data abort from EL0,
// 0x20 for an instruction abort, WnR set for a write.
import { describe, expect, it } from 'vitest';
import { fixture, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

/** a qemu run's line with the kernel's ESR record added (memory faults only) */
function withEsr(line: string): string {
  const m = /^([^:]+): sig 11 .* end$/.exec(line);
  if (m === null) return line;
  const ec = m[1].startsWith('execute') ? '0x20' : '0x24';
  const wnr = m[1].startsWith('write') ? 1 : 0;
  return line.replace(/ end$/, ` esr 16 (ec ${ec} wnr ${wnr}) end`);
}

describe('arm64 ESR record', () => {
  it('x86_64: the fixture says it has nothing to show, as natively', () => {
    const want = runLinux('x86_64', fixture('x86_64', 'a64esr'), []);
    expect(runElfrun(fixture('x86_64', 'a64esr'), []).stdout).toBe(want.stdout);
  });

  it.skipIf(!haveQemu())('arm64: the records of each fault\'s frame, as Linux writes them', () => {
    // qemu's default CPU has SVE and SME, whose records the engine's Cortex-A72 has not
    const q = runLinux('arm64', fixture('arm64', 'a64esr'), [], { env: { ...process.env, QEMU_CPU: 'cortex-a72' } });
    expect(q.status).toBe(0);
    expect(q.stdout).not.toMatch(/esr/);
    const want = q.stdout.split('\n').map(withEsr).join('\n');
    const r = runElfrun(fixture('arm64', 'a64esr'), []);
    expect(r.stdout).toBe(want);
    expect(r.status).toBe(0);
  });
});
