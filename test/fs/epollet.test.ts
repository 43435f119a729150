// Edge- and level-triggered epoll, EPOLLONESHOT, EPOLLEXCLUSIVE, nesting and
// the errors of epoll_ctl (fixtures/src/epollet.c) under elfrun against Linux.
import { describe, expect, it } from 'vitest';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
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

/** Debian's python3 with select.epoll and EPOLLET on a loopback TCP connection and a pipe, reading part of what came. */
const ET_PY = `
import select, socket, os
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(4)
c = socket.create_connection(l.getsockname()); s, _ = l.accept(); s.setblocking(False)
r, w = os.pipe(); os.set_blocking(r, False)
ep = select.epoll()
ep.register(s.fileno(), select.EPOLLIN | select.EPOLLET | select.EPOLLRDHUP)
ep.register(r, select.EPOLLIN | select.EPOLLET)
def show(what, t=0):
    print(what, sorted((('sock' if fd == s.fileno() else 'pipe'), ev) for fd, ev in ep.poll(t)))
show('none')
c.send(b'hello'); os.write(w, b'abc')
show('data', 1)
show('again')
s.recv(2); os.read(r, 1)
show('partial reads')
c.send(b'!'); os.write(w, b'd')
show('more', 1)
c.shutdown(socket.SHUT_WR)
show('shutdown', 1)
`;
const python = '/usr/bin/python3';
describe.runIf(existsSync(python))('Debian python3 (x86_64) with select.epoll and EPOLLET', () => {
  for (const net of [[], ['--net', 'none']]) {
    it(`an edge per arrival on a TCP socket (${net.length ? '--net none' : 'host network'}) and a pipe, none after partial reads, EPOLLRDHUP`, () => {
      const want = spawnSync(python, ['-c', ET_PY], { encoding: 'utf8', timeout: 30_000 });
      const got = runElfrun(python, ['-c', ET_PY], { flags: net });
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(0);
    });
  }
});
