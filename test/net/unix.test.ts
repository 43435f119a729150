// AF_UNIX sockets: our fixture against Linux (natively on x86_64, qemu-user
// for arm64), Debian's python3 using them as programs do (socketpair of
// every type, a server and client on a path, fd passing, multiprocessing's
// AF_UNIX Listener with a handle sent to a child, socketserver), socket
// inodes shown by ls -l on tmpfs and host directories, and the traces of the
// socket calls against strace -f's.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash, randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { ARCHES, ELFRUN, checkoutInTmp, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-unix-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/**
 * qemu-user hands the kernel a control buffer of its own for recvmsg, so a
 * guest's too-small buffer is not what the kernel sees, and it does not pass
 * SO_PEERGROUPS on: those lines of the arm64 oracle are taken from the
 * native (x86_64) kernel's run instead.
 */
const QEMU_CMSG = /^(recv 4 fds in room for 2|fds installed|recv fds room for the header only|SO_PEERGROUPS[^:]*):/;

for (const arch of ARCHES) {
  const canRun = haveFixtures() && (arch === 'x86_64' || haveQemu());
  describe.runIf(canRun)(`AF_UNIX on ${arch}`, () => {
    /** Linux's output of the fixture (for arm64, qemu's, with the lines qemu changes taken from the native kernel). */
    const linux = (args: string[]): string => {
      const want = runLinux(arch, fixture(arch, 'unixsock'), args).stdout;
      if (arch === 'x86_64') return want;
      const native = runLinux('x86_64', fixture('x86_64', 'unixsock'), args).stdout.split('\n');
      return want
        .split('\n')
        .map((l) => (QEMU_CMSG.test(l) ? (native.find((n) => n.startsWith(l.slice(0, l.indexOf(':') + 1))) ?? l) : l))
        .join('\n');
    };

    it('unixsock: paths, abstract names, autobind, listen/accept, datagrams, seqpacket, SCM_RIGHTS and credentials, as Linux', () => {
      const got = runElfrun(fixture(arch, 'unixsock'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(linux([]));
      expect(got.status).toBe(0);
    });

    it.skipIf(checkoutInTmp)('unixsock on a tmpfs /tmp, with the permission checks of connect and bind', () => {
      // from /: the checkout may itself be under /tmp, which the tmpfs hides
      const got = runElfrun(fixture(arch, 'unixsock'), ['perm'], { flags: ['--tmpfs', '/tmp'], cwd: '/' });
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(linux(['perm']));
      expect(got.stdout).toContain('unprivileged connect to a 0755 socket: EACCES');
      expect(got.status).toBe(0);
    });
  });
}

const python = '/usr/bin/python3';
describe.runIf(existsSync(python) && haveFixtures())('Debian python3 (x86_64, dynamic) over AF_UNIX', () => {
  const script = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  /** The script natively and under elfrun: the same output. */
  const same = (file: string, flags: string[] = []): string => {
    const want = spawnSync(python, [file], { env, timeout: 60_000 });
    const got = runElfrun(python, [file], { flags, timeout: 120_000 });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout.toString());
    return got.stdout;
  };

  it('socket.socketpair of every type, a server and client on a path, send_fds/recv_fds', () => {
    const out = same(
      script(
        'pairs.py',
        `import socket, os, stat, tempfile
a, b = socket.socketpair()
a.sendall(b'hello'); print('pair', b.recv(10))
for t in (socket.SOCK_DGRAM, socket.SOCK_SEQPACKET):
    x, y = socket.socketpair(socket.AF_UNIX, t)
    x.send(b'one'); x.send(b'two'); print(t, y.recv(10), y.recv(10))
d = tempfile.mkdtemp()
path = os.path.join(d, 'sock')
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(path); srv.listen(1)
print('socket inode', stat.S_ISSOCK(os.stat(path).st_mode))
c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM); c.connect(path)
s, addr = srv.accept()
print('accept addr', repr(addr), 'names', s.getsockname() == path, c.getpeername() == path)
c.sendall(b'ping'); print(s.recv(4))
r, w = os.pipe()
socket.send_fds(s, [b'fd'], [r])
msg, fds, flags, _ = socket.recv_fds(c, 10, 1)
os.write(w, b'through'); print('fds', msg, len(fds), os.read(fds[0], 10))
c.close(); s.close(); srv.close(); os.unlink(path); os.rmdir(d)
`,
      ),
    );
    expect(out).toContain("fds b'fd' 1 b'through'");
  });

  it('multiprocessing: an AF_UNIX Listener, a forked Client, a handle sent to it (SCM_RIGHTS), a Pipe', () => {
    const out = same(
      script(
        'mp.py',
        `import multiprocessing as mp, os, tempfile
from multiprocessing.connection import Listener, Client
from multiprocessing import reduction
def child(addr):
    with Client(addr, family='AF_UNIX') as c:
        c.send(('hello', 42))
        fd = reduction.recv_handle(c)
        print('child got', os.read(fd, 20), flush=True)
if __name__ == '__main__':
    mp.set_start_method('fork')
    d = tempfile.mkdtemp(); addr = os.path.join(d, 'l')
    with Listener(addr, family='AF_UNIX') as l:
        p = mp.Process(target=child, args=(addr,)); p.start()
        with l.accept() as c:
            print('parent got', c.recv(), flush=True)
            r, w = os.pipe(); os.write(w, b'handle passed')
            reduction.send_handle(c, r, p.pid)
        p.join(); print('exit', p.exitcode)
    a, b = mp.Pipe(); a.send([1, 2, 3]); print('pipe', b.recv())
    os.rmdir(d)
`,
      ),
    );
    expect(out).toContain("child got b'handle passed'");
  });

  it('asyncio: a unix server (epoll) answering 50 concurrent clients', () => {
    const out = same(
      script(
        'aio.py',
        `import asyncio, os, tempfile
async def main():
    d = tempfile.mkdtemp(); p = os.path.join(d, 's')
    async def handle(r, w):
        w.write((await r.readline()).upper()); await w.drain(); w.close()
    srv = await asyncio.start_unix_server(handle, p)
    async def one(i):
        r, w = await asyncio.open_unix_connection(p)
        w.write(b'client %d\\n' % i); await w.drain()
        line = await r.readline(); w.close(); return line
    res = await asyncio.gather(*(one(i) for i in range(50)))
    print(len(res), res[0], res[49])
    srv.close(); await srv.wait_closed(); os.unlink(p); os.rmdir(d)
asyncio.run(main())
`,
      ),
    );
    expect(out).toBe("50 b'CLIENT 0\\n' b'CLIENT 49\\n'\n");
  });

  it('socketserver.UnixStreamServer serving a forked client; ls -l shows the socket on tmpfs and on a host directory', () => {
    const bb = fixture('x86_64', 'busybox');
    const text = (where: string): string => `import os, socket, socketserver, subprocess, threading
where = ${JSON.stringify(where)}
path = os.path.join(where, 'srv.sock')
class Echo(socketserver.StreamRequestHandler):
    def handle(self):
        self.wfile.write(self.rfile.readline().upper())
srv = socketserver.UnixStreamServer(path, Echo)
threading.Thread(target=srv.serve_forever, daemon=True).start()
if os.fork() == 0:
    c = socket.socket(socket.AF_UNIX); c.connect(path); c.sendall(b'hello server\\n')
    print('client', c.makefile().readline().strip(), flush=True); os._exit(0)
os.wait()
print(subprocess.run([${JSON.stringify(bb)}, 'ls', '-l', path], capture_output=True, text=True).stdout.split()[0])
srv.shutdown(); srv.server_close(); os.unlink(path)
`;
    const host = mkdtempSync(join(dir, 'h-'));
    expect(same(script('ss-host.py', text(host)))).toBe('client HELLO SERVER\nsrwxr-xr-x\n');
    // on an in-memory file system of the guest's own (none natively: compared with the host run)
    const got = runElfrun(python, [script('ss-tmpfs.py', text('/mnt/t'))], { flags: ['--tmpfs', '/mnt/t'], timeout: 120_000 });
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe('client HELLO SERVER\nsrwxr-xr-x\n');
  });
});

describe.runIf(existsSync(python))('AF_UNIX between the guest and the host', () => {
  /** A command run to its end without blocking the event loop. */
  const run = (cmd: string, args: string[]): Promise<{ stdout: string; stderr: string }> =>
    new Promise((resolve) => {
      const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      const timer = setTimeout(() => p.kill('SIGKILL'), 60_000);
      p.stdout.on('data', (d: Buffer) => (out += d.toString()));
      p.stderr.on('data', (d: Buffer) => (err += d.toString()));
      p.on('close', () => {
        clearTimeout(timer);
        resolve({ stdout: out, stderr: err });
      });
    });
  const server = (path: string): string => {
    const f = join(dir, 'hostsrv.py');
    writeFileSync(
      f,
      `import socket, os
path = ${JSON.stringify(path)}
srv = socket.socket(socket.AF_UNIX); srv.bind(path); srv.listen(1)
print('ready', flush=True)
c, _ = srv.accept()
c.sendall(c.recv(100).upper()); c.close()
`,
    );
    return f;
  };
  const client = (path: string): string => {
    const f = join(dir, 'guestcli.py');
    writeFileSync(
      f,
      `import socket
c = socket.socket(socket.AF_UNIX); c.connect(${JSON.stringify(path)})
print('peer', c.getpeername() == ${JSON.stringify(path)})
c.sendall(b'hello'); print(c.recv(100))
`,
    );
    return f;
  };
  /** Start a server, wait until it says it listens, run the client: the client's output. */
  async function meet(serverCmd: string[], clientCmd: string[]): Promise<string> {
    const srv = spawn(serverCmd[0]!, serverCmd.slice(1), { env, stdio: ['ignore', 'pipe', 'pipe'] });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the server did not start')), 30_000);
      srv.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('ready')) {
          clearTimeout(timer);
          resolve();
        }
      });
    });
    const c = await run(clientCmd[0]!, clientCmd.slice(1));
    srv.kill('SIGKILL');
    expect(c.stderr).toBe('');
    return c.stdout;
  }

  it.runIf(existsSync('/usr/bin/socat'))('Debian socat: 3 MB from one elfrun to another through a guest listener on a host path', async () => {
    const src = join(dir, 'socat-in.bin');
    const dst = join(dir, 'socat-out.bin');
    const data = randomBytes(3 << 20);
    writeFileSync(src, data);
    const path = join(dir, 'socat.sock');
    const srv = spawn(ELFRUN, ['run', '/usr/bin/socat', '-u', `UNIX-LISTEN:${path}`, `OPEN:${dst},creat,trunc`], { env, stdio: 'ignore' });
    const done = new Promise<void>((resolve) => srv.on('close', () => resolve()));
    const end = Date.now() + 30_000;
    while (!existsSync(path) && Date.now() < end) await new Promise((r) => setTimeout(r, 100));
    const c = await run(ELFRUN, ['run', '/usr/bin/socat', '-u', `OPEN:${src}`, `UNIX-CONNECT:${path}`]);
    expect(c.stderr).toBe('');
    await done;
    expect(md5(readFileSync(dst))).toBe(md5(data));
  });

  it('a guest client reaches a host daemon on its socket path', async () => {
    const path = join(dir, 'host-daemon.sock');
    expect(await meet([python, server(path)], [ELFRUN, 'run', python, client(path)])).toBe("peer True\nb'HELLO'\n");
  });

  it('a host client reaches a guest listener bound on a host path', async () => {
    const path = join(dir, 'guest-daemon.sock');
    expect(await meet([ELFRUN, 'run', python, server(path)], [python, client(path)])).toBe("peer True\nb'HELLO'\n");
  });
});

describe.runIf(haveFixtures() && spawnSync('strace', ['-V']).status === 0)('AF_UNIX calls in traces', () => {
  it('elfrun trace prints the unixsock fixture\'s socket calls as strace does (sockaddr_un, lengths, errors)', () => {
    const calls = 'socket,bind,listen,connect,accept4,accept,shutdown,getsockname,getpeername,socketpair,sendto,recvfrom';
    // autobound names are random, the fixture's abstract names end with its pid; stack addresses are the runner's; errno 95 is
    // named ENOTSUP by elfrun's generated errno table where strace says EOPNOTSUPP
    const norm = (text: string): string[] =>
      text
        .split('\n')
        .map((l) => l.replace(/^\d+ +/, '').replace(/^\[pid +\d+\] /, '').replace(/@"[0-9a-f]{5}"/g, '@"AUTO"').replace(/-\d{8}"/g, '-PID"').replace(/elfrun-unixsock-[A-Za-z0-9]{6}/g, 'D').replace(/0x[0-9a-f]+/g, 'ADDR').replace(/ +=/, ' ='))
        .filter((l) => l !== '' && !/^(\+\+\+|---)|resumed>|unfinished/.test(l));
    const st = join(dir, 'strace.txt');
    const el = join(dir, 'elfrun.txt');
    spawnSync('strace', ['-f', '-qq', '-e', `trace=${calls}`, '-o', st, fixture('x86_64', 'unixsock')], { timeout: 60_000 });
    spawnSync(ELFRUN, ['trace', '-f', '-e', `trace=${calls}`, '-o', el, fixture('x86_64', 'unixsock')], { env, timeout: 60_000 });
    // up to the first fork, whose processes' lines interleave as they happen to run
    const untilFork = (ls: string[]): string[] => ls.slice(0, ls.findIndex((l) => l.startsWith('connect(3, ') && l.endsWith('EINVAL (Invalid argument)')) + 1);
    const want = untilFork(norm(readFileSync(st, 'latin1')));
    expect(want.length).toBeGreaterThan(40);
    expect(untilFork(norm(readFileSync(el, 'latin1')))).toEqual(want);
  });

  it('and its messages\' control data (SCM_RIGHTS, SCM_CREDENTIALS) and SO_PEERCRED, as strace decodes them', () => {
    const calls = 'sendmsg,recvmsg,getsockopt';
    // the first process's calls only (its children's interleave as they run); pids are the runs' own
    const norm = (text: string): string[] => {
      const lines = text.split('\n').filter((l) => l !== '');
      const first = /^(\d+) /.exec(lines[0] ?? '')?.[1];
      return lines
        .filter((l) => l.startsWith(`${first} `) && !/resumed>|unfinished| (---|\+\+\+) /.test(l))
        .map((l) => l.replace(/^\d+ +/, '').replace(/pid=\d+/g, 'pid=P').replace(/0x[0-9a-f]+/g, 'ADDR').replace(/ +=/, ' ='));
    };
    const st = join(dir, 'strace-msg.txt');
    const el = join(dir, 'elfrun-msg.txt');
    spawnSync('strace', ['-f', '-qq', '-e', `trace=${calls}`, '-o', st, fixture('x86_64', 'unixsock')], { timeout: 60_000 });
    spawnSync(ELFRUN, ['trace', '-f', '-e', `trace=${calls}`, '-o', el, fixture('x86_64', 'unixsock')], { env, timeout: 60_000 });
    const want = norm(readFileSync(st, 'latin1'));
    expect(want.some((l) => l.includes('cmsg_type=SCM_RIGHTS, cmsg_data=['))).toBe(true);
    expect(want.some((l) => l.includes('cmsg_type=SCM_CREDENTIALS, cmsg_data={pid=P'))).toBe(true);
    expect(norm(readFileSync(el, 'latin1'))).toEqual(want);
  });
});
