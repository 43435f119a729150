// User and system CPU time apart: the engine running the guest is its user
// time, elfrun servicing its syscalls its system time. The fixture prints
// what Linux guarantees (which of the two dominates a busy loop and a loop of
// reads, ITIMER_VIRTUAL firing on user time only, every view of the times
// agreeing), not the times themselves.
import { describe, expect, it } from 'vitest';
import { fixture, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

describe('user and system CPU time', () => {
  const native = runLinux('x86_64', fixture('x86_64', 'cpuacct'), [], { timeout: 60_000 });

  it('x86_64: the same orderings and agreements as a native run', () => {
    expect(native.status).toBe(0);
    expect(native.stdout).not.toMatch(/ 0(,|\n)/); // natively every check holds
    const r = runElfrun(fixture('x86_64', 'cpuacct'), [], { timeout: 60_000 });
    expect(r.stdout).toBe(native.stdout);
    expect(r.status).toBe(0);
  });

  it('arm64: as natively; qemu-aarch64 agrees but for its own /proc/self/stat', () => {
    const r = runElfrun(fixture('arm64', 'cpuacct'), [], { timeout: 60_000 });
    expect(r.stdout).toBe(native.stdout);
    expect(r.status).toBe(0);
    if (!haveQemu()) return;
    // qemu-user makes up /proc/self/stat (open_self_stat) with 0 in fields
    // 14-17, so the checks that read it fail there and only there
    const q = runLinux('arm64', fixture('arm64', 'cpuacct'), [], { timeout: 60_000 });
    const qemuStat = (s: string): string => s.replace(/stat ~ times 1/g, 'stat ~ times 0').replace('task stat ~ stat 1', 'task stat ~ stat 0');
    expect(q.stdout).toBe(qemuStat(native.stdout));
  });
});
