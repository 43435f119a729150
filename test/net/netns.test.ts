// --net none: the guest's own empty network, only lo. Our loopback fixture
// against Linux in an empty network namespace (unshare -n with lo up), busybox
// servers and clients guest to guest, and a host client that must not reach a
// guest listener. Every run is bounded in time and stays on loopback.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, canUnshareNet, ELFRUN, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-netns-'));
const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
const www = join(dir, 'www');
spawnSync('mkdir', ['-p', www]);
const page = `<html>${'only the guest sees this page. '.repeat(300)}</html>\n`;
writeFileSync(join(www, 'index.html'), page);

/** What a host client connecting to 127.0.0.1:port gets: 'connected' or the error's code. */
function hostConnect(port: number): Promise<string> {
  return new Promise((resolve) => {
    const c = connect(port, '127.0.0.1');
    const timer = setTimeout(() => (c.destroy(), resolve('timeout')), 5000);
    c.on('connect', () => (clearTimeout(timer), c.destroy(), resolve('connected')));
    c.on('error', (e: NodeJS.ErrnoException) => (clearTimeout(timer), resolve(e.code ?? 'error')));
  });
}

for (const arch of ARCHES) {
  const canRun = haveFixtures() && canUnshareNet() && (arch === 'x86_64' || haveQemu());
  describe.runIf(canRun)(`--net none on ${arch}`, () => {
    const bb = fixture(arch, 'busybox');

    it('loopnet: TCP and UDP between guest processes on lo and the errors off it, as Linux in an empty network namespace', () => {
      const want = runLinux(arch, fixture(arch, 'loopnet'), [], { privateNet: true });
      const got = runElfrun(fixture(arch, 'loopnet'), [], { flags: ['--net', 'none'] });
      expect(want.status).toBe(0);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });

    it('elfrun compare --net none runs the oracle in an empty network namespace too', () => {
      const r = spawnSync(ELFRUN, ['compare', '--net', 'none', fixture(arch, 'loopnet')], { env, timeout: 120_000 });
      expect(r.stdout.toString()).toMatch(/^identical/);
      expect(r.status).toBe(0);
    });

    it('busybox httpd and wget, nc -l and nc, guest to guest; wget off lo and to a closed port fails as Linux', () => {
      const script = [
        `httpd -f -p 127.0.0.1:8089 -h ${www} & sleep 0.5`,
        'wget -q -O- http://127.0.0.1:8089/index.html; echo "wget $?"',
        'kill $!',
        'echo over-nc | nc -l -p 8090 & sleep 0.3',
        'nc 127.0.0.1 8090 </dev/null; wait',
        'wget -q -O- http://10.1.2.3/; echo "wget off lo $?"',
        'wget -q -O- http://127.0.0.1:9/; echo "wget closed port $?"',
      ].join('\n');
      // the host's busybox natively is the reference for both arches (under qemu-user its applets' re-exec is qemu's)
      const want = runLinux('x86_64', fixture('x86_64', 'busybox'), ['sh', '-c', script], { privateNet: true, timeout: 30_000 });
      const got = runElfrun(bb, ['sh', '-c', script], { flags: ['--net', 'none'], timeout: 60_000 });
      expect(want.stdout).toContain(page);
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr).toBe(want.stderr);
    });

    it('nc moves 10 MiB each way between guest processes with the same md5', () => {
      const data = randomBytes(10 << 20);
      const file = join(dir, `data-${arch}`);
      writeFileSync(file, data);
      // each listener's or client's stdin stays open a while (nc shuts its sending side down at EOF)
      const script = [
        // a listener is waited for in netstat (a probe connection would be nc -l's only one)
        `sleep 4 | nc -l -p 9100 > ${file}.up & until netstat -tln | grep -q ':9100 '; do sleep 0.1; done`,
        `nc 127.0.0.1 9100 < ${file}; wait`,
        `nc -l -p 9101 < ${file} & until netstat -tln | grep -q ':9101 '; do sleep 0.1; done`,
        `sleep 4 | nc 127.0.0.1 9101 > ${file}.down; wait`,
        `md5sum ${file}.up ${file}.down | cut -d' ' -f1`,
      ].join('\n');
      const got = runElfrun(bb, ['sh', '-c', script], { flags: ['--net', 'none'], timeout: 60_000 });
      const sum = createHash('md5').update(data).digest('hex');
      expect(got.stdout).toBe(`${sum}\n${sum}\n`);
    });

    it('the network holds only lo: busybox ip addr, ip link, ip route and ip -6 route (netlink) as Linux\'s', () => {
      const script = 'ip addr; ip link; ip route; ip -6 route; echo done';
      const want = runLinux('x86_64', fixture('x86_64', 'busybox'), ['sh', '-c', script], { privateNet: true });
      const got = runElfrun(bb, ['sh', '-c', script], { flags: ['--net', 'none'] });
      expect(want.stdout).toContain('127.0.0.1/8');
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr).toBe(want.stderr);
    });

    it('/proc/net as netstat -tln, netstat -rn, ifconfig and ifconfig -a read it, and its tcp tables, as Linux\'s (inodes and kernel pointers normalised)', () => {
      const script = [
        `httpd -p 127.0.0.1:8089 -h ${www}; nc -l -p 8080 & sleep 0.5`,
        'netstat -tln; netstat -uln; netstat -rn; ifconfig; ifconfig -a; ifconfig eth0',
        'cat /proc/net/tcp /proc/net/tcp6 /proc/net/udp /proc/net/udp6 /proc/net/route /proc/net/if_inet6 /proc/net/dev; ls /proc/net/unix',
        'kill %1; kill $(pidof httpd); echo done',
      ].join('\n');
      // a socket line's inode and %pK pointer (10th and 12th fields), and the padding after them to the line's fixed width
      const norm = (s: string): string =>
        s
          .replace(/^(\s*\d+: (?:\S+\s+){8})\d+ (\d+) [0-9a-f]{16}/gm, '$1INO $2 PTR')
          .replace(/^(\s*\d+: .*PTR.*?) +$/gm, '$1');
      const want = runLinux('x86_64', fixture('x86_64', 'busybox'), ['sh', '-c', script], { privateNet: true, timeout: 30_000 });
      const got = runElfrun(bb, ['sh', '-c', script], { flags: ['--net', 'none'], timeout: 60_000 });
      expect(want.stdout).toContain('LISTEN');
      expect(norm(got.stdout)).toBe(norm(want.stdout));
      expect(got.stderr).toBe(want.stderr);
    });

    it('netstat -xl, netstat -x and /proc/net/unix list the guest\'s bound AF_UNIX sockets as Linux\'s (inodes and pointers normalised)', () => {
      const sockDir = mkdtempSync(join(dir, 'unix-'));
      const hostBb = fixture('x86_64', 'busybox');
      const script = 'netstat -xl; netstat -x; cat /proc/net/unix';
      // an empty network namespace's /proc/net/unix holds only the program's sockets
      const want = runLinux(arch, fixture(arch, 'unixlisten'), [sockDir, hostBb, 'sh', '-c', script], { privateNet: true });
      // Linux lists them in its hash table's order, which varies from run to run: compared as sorted lines
      const norm = (s: string): string =>
        s
          .replace(/^[0-9a-f]{16}:/gm, 'PTR:')
          .replace(/\b\d{5,}\b/g, 'INO')
          .split('\n')
          .sort()
          .join('\n');
      expect(want.stdout).toContain('LISTENING');
      for (const net of ['none', 'host']) {
        const got = runElfrun(fixture(arch, 'unixlisten'), [sockDir, fixture(arch, 'busybox'), 'sh', '-c', script], { flags: ['--net', net] });
        expect(norm(got.stdout)).toBe(norm(want.stdout));
      }
    });

    it('procnet: /proc/net/tcp, udp and udp6 lines of listeners, connections and UDP sockets as Linux\'s (slots, ephemeral ports, inodes, pointers and order normalised)', () => {
      const norm = (s: string): string =>
        s
          .replace(/^ *\d+: /gm, 'SL: ')
          .replace(/:([89A-F][0-9A-F]{3})\b/g, ':EPH')
          .replace(/^(SL: (?:\S+\s+){8})\d+ (\d+) [0-9a-f]{16}/gm, '$1INO $2 PTR')
          .replace(/ +$/gm, '')
          .split('\n')
          .sort()
          .join('\n');
      const want = runLinux(arch, fixture(arch, 'procnet'), [], { privateNet: true });
      const got = runElfrun(fixture(arch, 'procnet'), [], { flags: ['--net', 'none'] });
      expect(want.stdout).toContain('0100007F:1B59');
      expect(norm(got.stdout)).toBe(norm(want.stdout));
    });

    it('with --net host, /proc/net/dev and route are the host\'s', () => {
      const script = 'cut -d: -f1 /proc/net/dev; cut -f1,2 /proc/net/route';
      const want = runLinux('x86_64', fixture('x86_64', 'busybox'), ['sh', '-c', script]);
      const got = runElfrun(bb, ['sh', '-c', script]);
      expect(got.stdout).toBe(want.stdout);
    });

    it('a host server on 127.0.0.1 is out of a --net none guest\'s reach', async () => {
      const srv = createServer((c) => c.end('HTTP/1.0 200 OK\r\n\r\nhost\n'));
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
      const a = srv.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      const got = await new Promise<string>((resolve) => {
        const p = spawn(ELFRUN, ['run', '--net', 'none', bb, 'wget', '-q', '-O-', `http://127.0.0.1:${port}/`], { env });
        let out = '';
        const timer = setTimeout(() => p.kill('SIGKILL'), 30_000);
        p.stdout.on('data', (d: Buffer) => (out += d.toString()));
        p.stderr.on('data', (d: Buffer) => (out += d.toString()));
        p.on('close', (code) => (clearTimeout(timer), resolve(`${out}exit ${code}`)));
      });
      // the oracle: the same wget in an empty network namespace, from where the host server is out of reach too
      const want = runLinux('x86_64', fixture('x86_64', 'busybox'), ['wget', '-q', '-O-', `http://127.0.0.1:${port}/`], { privateNet: true });
      srv.close();
      expect(want.stderr).toContain('Connection refused');
      expect(got).toBe(`${want.stdout}${want.stderr}exit ${want.status}`);
    });

    it('a guest listener on 127.0.0.1 is invisible from the host, under --net none and by default under --sandbox', async () => {
      for (const flags of [['--net', 'none'], ['--sandbox']]) {
        const port = 20000 + Math.floor(Math.random() * 10000);
        // the guest reaches its own listener, then waits while the host tries
        const guest = spawn(ELFRUN, ['run', ...flags, bb, 'sh', '-c', `nc -l -p ${port} </dev/null & sleep 0.5; nc 127.0.0.1 ${port} </dev/null && echo guest-reached; sleep 1.5; echo done`], { env });
        servers.push(guest);
        let out = '';
        guest.stdout.on('data', (d: Buffer) => (out += d.toString()));
        await new Promise((r) => setTimeout(r, 1000));
        expect(await hostConnect(port)).toBe('ECONNREFUSED');
        await new Promise((r) => guest.on('close', r));
        expect(out).toBe('guest-reached\ndone\n');
      }
    });
  });
}

const python = '/usr/bin/python3';
const pyScript = `
import http.server, threading, urllib.request, socket, sys, os
os.chdir(sys.argv[1])
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
srv = http.server.HTTPServer(("127.0.0.1", 0), Quiet)
threading.Thread(target=srv.serve_forever, daemon=True).start()
print(len(urllib.request.urlopen("http://127.0.0.1:%d/index.html" % srv.server_address[1], timeout=20).read()))
print(socket.getaddrinfo("localhost", 80, proto=socket.IPPROTO_TCP, flags=socket.AI_ADDRCONFIG))
s = socket.socket(socket.AF_INET6); s.bind(("::1", 0)); s.listen()
c = socket.create_connection(("::1", s.getsockname()[1])); a, peer = s.accept()
c.sendall(b"x" * 1000000); c.close()
n = 0
while True:
    d = a.recv(65536)
    if not d: break
    n += len(d)
print(n, peer[0])
try:
    socket.create_connection(("192.0.2.1", 80), timeout=5)
except OSError as e:
    print("off lo:", e.errno)
srv.shutdown()
`;
describe.runIf(existsSync(python) && canUnshareNet())('--net none with Debian\'s python3', () => {
  it('http.server and urllib.request, getaddrinfo with AI_ADDRCONFIG, an IPv6 transfer and a connection off lo, as Linux in an empty network namespace', () => {
    const want = runLinux('x86_64', python, ['-c', pyScript, www], { privateNet: true });
    const got = runElfrun(python, ['-c', pyScript, www], { flags: ['--net', 'none'] });
    expect(want.stdout).toContain('1000000 ::1');
    expect(got.stdout).toBe(want.stdout);
    expect(got.stderr).toBe(want.stderr);
  });
});
