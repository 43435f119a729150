// POSIX timers and clocks: the posixtimer fixture (timer_create and friends,
// clock_getres, clock_nanosleep) prints what Linux prints, and Debian's
// coreutils timeout (timer_create on CLOCK_REALTIME, SIGALRM) ends its child
// as natively. qemu-aarch64 implements timer_create itself (its ids are
// 0xcafe0000 + an index, and it does not check clock_getres's pointer), so
// the native x86_64 run is the oracle for arm64 too: the fixture prints
// nothing that depends on the arch or the libc.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ELFRUN, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

const native = (): string => runLinux('x86_64', fixture('x86_64', 'posixtimer'), ['exec']).stdout;

describe('posixtimer fixture', () => {
  for (const [arch, prog] of [['x86_64', 'posixtimer'], ['x86_64', 'posixtimer-glibc'], ['arm64', 'posixtimer']] as const) {
    it(`${arch} ${prog}: SIGEV_SIGNAL/NONE/THREAD_ID/THREAD, overruns, TIMER_ABSTIME, CPU clocks, fork and exec, errors, clock_getres, clock_nanosleep`, () => {
      const want = native();
      expect(want).toContain('after exec: a new timer');
      const got = runElfrun(fixture(arch, prog), ['exec']);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want);
      expect(got.status).toBe(0);
    });
  }

  it.runIf(existsSync('/usr/bin/strace'))('traces decode the timer calls as strace -f prints them', () => {
    const prog = fixture('x86_64', 'posixtimer');
    const calls = /^(?:\[pid +\d+\] )?(timer_(?:create|settime|delete|getoverrun)\(.*|clock_getres\(.*)$/;
    // the lines that carry no time or pid: ids, sigevents, flags, errors
    const stable = (text: string): string[] => {
      const out: string[] = [];
      for (const line of text.split('\n')) {
        const m = calls.exec(line);
        // (strace prints a negative tv_nsec of an itimerspec unsigned; calls another thread interrupts are split)
        // (an overrun count depends on timing; libc's SIGEV_THREAD timer, 28, is deleted while its helper thread runs)
        if (m === null || /tv_nsec=[1-9-]|thread_id=|0x7f|0xfff|unfinished|resumed|^timer_getoverrun\(\d+\) += [1-9]|^timer_delete\(28\)/.test(m[1])) continue;
        // errno 95: strace names it EOPNOTSUPP, elfrun's generated errno table ENOTSUP
        out.push(m[1].replace(/\s+=/, ' ='));
      }
      return out;
    };
    const want = stable(spawnSync('strace', ['-f', prog], { encoding: 'latin1' }).stderr);
    const got = stable(spawnSync(ELFRUN, ['trace', '-f', prog], { encoding: 'latin1' }).stderr);
    expect(want.length).toBeGreaterThan(40);
    expect(got).toEqual(want);
  });
});

describe.runIf(existsSync('/usr/bin/timeout'))("Debian's coreutils timeout", () => {
  it('timeout 1 sleep 5 ends the child and exits 124, after about a second', () => {
    const t0 = Date.now();
    const r = runElfrun('/usr/bin/timeout', ['1', '/bin/sleep', '5']);
    expect(r.status).toBe(124);
    expect(Date.now() - t0).toBeLessThan(4000);
  });
  it('timeout 5 true, and a timeout past the end of the clock, exit 0 at once', () => {
    expect(runElfrun('/usr/bin/timeout', ['5', 'true']).status).toBe(0);
    const r = runElfrun('/usr/bin/timeout', ['100000000d', 'true']);
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
  });
  it('timeout -s INT 0.2 sleep 3: the same status as natively', () => {
    const want = spawnSync('/usr/bin/timeout', ['-s', 'INT', '0.2', '/bin/sleep', '3']);
    expect(runElfrun('/usr/bin/timeout', ['-s', 'INT', '0.2', '/bin/sleep', '3']).status).toBe(want.status);
  });
});
