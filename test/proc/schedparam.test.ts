// Scheduling parameters: the schedparam fixture (priority ranges, policies
// and priorities set and read back, the RR slice, sched_getattr/setattr,
// a second thread's policy, getcpu, and the errors) prints what Linux
// prints. qemu-aarch64 takes a sched_getattr size past a page, so the
// native x86_64 run is the oracle for arm64 too (nothing printed depends on
// the arch).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

describe('schedparam fixture', () => {
  for (const arch of ['x86_64', 'arm64'] as const) {
    it(`${arch}: sched_* parameter calls and getcpu`, () => {
      const want = runLinux('x86_64', fixture('x86_64', 'schedparam'), []);
      expect(want.stdout).toContain('getcpu NULL NULL: 0');
      const got = runElfrun(fixture(arch, 'schedparam'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });
  }

  it.runIf(existsSync('/usr/bin/strace'))('traces decode the calls as strace -f prints them', () => {
    const prog = fixture('x86_64', 'schedparam');
    // (sched_getscheduler's result and sched_getattr's structure are not decoded)
    const calls = /^(?:\[pid +\d+\] )?((?:sched_(?:get_priority_m..|setscheduler|setparam|getparam|rr_get_interval)|getcpu)\(.*)$/;
    const lines = (text: string): string[] =>
      text
        .split('\n')
        .map((l) => calls.exec(l)?.[1])
        .filter((l): l is string => l !== undefined && !/0x7ff|0xfff|unfinished|resumed|\(\d{3,}, /.test(l))
        .map((l) => l.replace(/\s+=/, ' ='))
        // the CPU a process runs on is the host scheduler's choice
        .map((l) => l.replace(/^getcpu\(\[\d+\]/, 'getcpu([N]'));
    const want = lines(spawnSync('strace', ['-f', prog], { encoding: 'latin1' }).stderr);
    const got = lines(spawnSync(ELFRUN, ['trace', '-f', prog], { encoding: 'latin1' }).stderr);
    expect(want.length).toBeGreaterThan(30);
    expect(got).toEqual(want);
  });
});
