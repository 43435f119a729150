// Edge- and level-triggered epoll, EPOLLONESHOT, EPOLLEXCLUSIVE, nesting and
// the errors of epoll_ctl (fixtures/src/epollet.c) under elfrun against Linux.
import { describe, expect, it } from 'vitest';
import { ARCHES, fixture, runElfrun, runLinux } from '../helpers/oracle.js';

/**
 * qemu-aarch64 is the arm64 oracle (it passes epoll to the host), but for two
 * answers it gets wrong: it has no epoll_pwait2 (ENOSYS), and it faults an
 * events buffer it cannot map even when nothing is ready (Linux copies, and
 * faults, only events it reports). Those lines are the native x86_64 run's.
 */
const QEMU_WRONG = ['  bad events pointer, nothing ready:', '  epoll_pwait2 '];

function oracle(arch: (typeof ARCHES)[number], args: string[]): { stdout: string; status: number | null } {
  const want = runLinux(arch, fixture(arch, 'epollet'), args);
  if (arch === 'x86_64') return want;
  const native = runLinux('x86_64', fixture('x86_64', 'epollet'), args).stdout.split('\n');
  const fixed = want.stdout.split('\n').map((line) => {
    const p = QEMU_WRONG.find((w) => line.startsWith(w));
    return p === undefined ? line : (native.find((l) => l.startsWith(p) && l.split(':')[0] === line.split(':')[0]) ?? line);
  });
  return { stdout: fixed.join('\n'), status: want.status };
}

for (const arch of ARCHES) {
  describe(`epoll edges on ${arch}`, () => {
    it('ET against LT for pipes, FIFOs, ptys (master and slave), AF_UNIX stream/dgram/seqpacket, eventfd, timerfd, signalfd, inotify, pidfd, nested epolls; partial reads, EPOLLOUT edges, EPOLLRDHUP, ONESHOT/MOD, EXCLUSIVE across threads, ELOOP, epoll_pwait2, errors, fdinfo', () => {
      const want = oracle(arch, []);
      const got = runElfrun(fixture(arch, 'epollet'), []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });

    for (const net of [[], ['--net', 'none']]) {
      it(`ET on AF_INET loopback TCP (${net.length ? '--net none' : 'host network'}): a listener's edge per connection, edges on new data only, EPOLLRDHUP`, () => {
        const want = runLinux(arch, fixture(arch, 'epollet'), ['inet']);
        const got = runElfrun(fixture(arch, 'epollet'), ['inet'], { flags: net });
        expect(got.stdout).toBe(want.stdout);
        expect(got.status).toBe(0);
      });
    }
  });
}
