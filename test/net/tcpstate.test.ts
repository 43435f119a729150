// TCP close states on elfrun's own lo (--net none) against Linux in an empty
// network namespace (unshare -n with lo up): our tcpstates fixture reading
// /proc/net/tcp and tcp6 on both arches, and iproute2's ss (sock_diag
// netlink) listing TCP and UDP sockets through a connection's close.
import { afterAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, canUnshareNet, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-tcpstate-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

for (const arch of ARCHES) {
  describe.runIf(haveFixtures() && canUnshareNet() && (arch === 'x86_64' || haveQemu()))(`TCP states on ${arch}`, () => {
    it('tcpstates: ESTABLISHED, FIN_WAIT2/CLOSE_WAIT, TIME_WAIT for the first to close, an orphan FIN_WAIT2, a reset, IPv6, in /proc/net/tcp and tcp6 as Linux', () => {
      const want = runLinux(arch, fixture(arch, 'tcpstates'), [], { privateNet: true });
      const got = runElfrun(fixture(arch, 'tcpstates'), [], { flags: ['--net', 'none'] });
      expect(want.stdout).toContain('tcp TIME_WAIT 9201 -> 9200');
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });
  });
}

const python = '/usr/bin/python3';
const ss = '/usr/bin/ss';
describe.runIf(existsSync(python) && existsSync(ss) && canUnshareNet())('ss (iproute2, sock_diag) under --net none', () => {
  it('ss -tan and ss -uan through a connection\'s close, and ss -tln, as Linux in an empty network namespace', () => {
    const script = join(dir, 'states.py');
    writeFileSync(
      script,
      `import socket, subprocess, time
def ss(label, *args):
    out = subprocess.run([${JSON.stringify(ss)}, *args], capture_output=True, text=True).stdout.split('\\n')
    print(label, out[0].split()[0], sorted(' '.join(l.split()[0:1] + l.split()[3:5]) for l in out[1:] if l.strip()))
l = socket.socket(); l.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); l.bind(('127.0.0.1', 9100)); l.listen()
l6 = socket.socket(socket.AF_INET6); l6.bind(('::1', 9110)); l6.listen()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(('127.0.0.1', 9120))
u2 = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u2.bind(('127.0.0.1', 9121)); u2.connect(('127.0.0.1', 9120))
c = socket.socket(); c.bind(('127.0.0.1', 9101)); c.connect(('127.0.0.1', 9100)); a, _ = l.accept()
ss('established', '-tan')
ss('listening', '-tln')
ss('udp', '-uan')
c.shutdown(socket.SHUT_WR); time.sleep(0.1)
ss('client shut wr', '-tan')
a.close(); time.sleep(0.1)
ss('server closed', '-tan')
c.close(); time.sleep(0.1)
ss('client closed', '-tan')
ss('time-wait only', '-tan', 'state', 'time-wait')
print(subprocess.run([${JSON.stringify(ss)}, '-tln'], capture_output=True, text=True).stdout, end='')
`,
    );
    const want = runLinux('x86_64', python, [script], { privateNet: true });
    const got = runElfrun(python, [script], { flags: ['--net', 'none'] });
    expect(want.stdout).toContain("'TIME-WAIT 127.0.0.1:9101 127.0.0.1:9100'");
    expect(got.stdout).toBe(want.stdout);
    expect(got.stderr).toBe(want.stderr);
  });
});
