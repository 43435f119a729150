// AF_INET/AF_INET6 on the host's network: our socket fixture against Linux,
// and real servers and clients (busybox httpd, wget and nc; Debian's curl
// and python3) talking guest to guest, guest to host and host to guest.
// Servers listen on loopback only; every run is bounded in time.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-inet-'));
const servers: ChildProcess[] = [];
afterAll(() => {
  for (const s of servers) s.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');

/** A loopback port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves once something accepts on the port (tries for up to `ms`). */
function listening(port: number, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const c = connect(port, '127.0.0.1');
      c.on('connect', () => {
        c.destroy();
        resolve();
      });
      c.on('error', () => {
        if (Date.now() > end) reject(new Error(`nothing listens on ${port}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

/**
 * Resolves once the host's /proc/net/tcp or tcp6 shows a listener on the
 * port, without connecting (a connection would be nc -l's only one).
 */
async function listensOn(port: number, ms = 15_000): Promise<void> {
  const hex = `:${port.toString(16).toUpperCase().padStart(4, '0')} `;
  const end = Date.now() + ms;
  for (;;) {
    const tables = ['/proc/net/tcp', '/proc/net/tcp6'].map((f) => (existsSync(f) ? readFileSync(f, 'latin1') : ''));
    if (tables.some((t) => t.split('\n').some((l) => l.split(/\s+/)[2]?.endsWith(hex.trim()) && l.split(/\s+/)[4] === '0A'))) return;
    if (Date.now() > end) throw new Error(`nothing listens on ${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** A server in the background (killed at the end of the file). */
function background(cmd: string, args: string[], stdin: 'pipe' | 'ignore' = 'ignore'): ChildProcess {
  const p = spawn(cmd, args, { env, stdio: [stdin, 'pipe', 'pipe'] });
  servers.push(p);
  return p;
}

/** A command run to its end without blocking the event loop (so in-process servers can answer). */
function run(cmd: string, args: string[], input?: Buffer, timeout = 60_000): Promise<{ stdout: Buffer; stderr: string; status: number | null }> {
  return new Promise((resolve) => {
    const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
    p.stdout.on('data', (d: Buffer) => out.push(d));
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.on('close', (status) => {
      clearTimeout(timer);
      resolve({ stdout: Buffer.concat(out), stderr: err, status });
    });
    p.stdin.end(input ?? Buffer.alloc(0));
  });
}

const www = join(dir, 'www');
spawnSync('mkdir', ['-p', www]);
const page = `<html>${'elfrun serves this page. '.repeat(400)}</html>\n`;
writeFileSync(join(www, 'index.html'), page);

for (const arch of ARCHES) {
  const canRun = haveFixtures() && (arch === 'x86_64' || haveQemu());
  describe.runIf(canRun)(`AF_INET on ${arch}`, () => {
    const bb = fixture(arch, 'busybox');

    it('inetsock: TCP, non-blocking connect, an edge-triggered accept loop, half-close, UDP, mmsg, IPv6 and the errors, as Linux', () => {
      const want = runLinux(arch, fixture(arch, 'inetsock'), []);
      const got = runElfrun(fixture(arch, 'inetsock'), []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });

    it('busybox httpd under elfrun serves wget under elfrun (guest to guest) and the host\'s curl (host client)', async () => {
      const port = await freePort();
      const srv = background(ELFRUN, ['run', bb, 'httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', www]);
      await listening(port);
      const w = await run(ELFRUN, ['run', bb, 'wget', '-q', '-O-', `http://127.0.0.1:${port}/index.html`]);
      expect(w.stderr).toBe('');
      expect(w.stdout.toString()).toBe(page);
      if (existsSync('/usr/bin/curl')) {
        const c = await run('/usr/bin/curl', ['-sS', '--max-time', '20', `http://127.0.0.1:${port}/index.html`]);
        expect(c.stdout.toString()).toBe(page);
        const missing = await run('/usr/bin/curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--max-time', '20', `http://127.0.0.1:${port}/nothing`]);
        expect(missing.stdout.toString()).toBe('404');
      }
      srv.kill('SIGKILL');
    });

    it('wget under elfrun fetches from a host server (guest client)', async () => {
      const port = await freePort();
      // the host's own busybox httpd, natively (x86_64 is the host's arch)
      const srv = background(fixture('x86_64', 'busybox'), ['httpd', '-f', '-p', `127.0.0.1:${port}`, '-h', www]);
      await listening(port);
      const w = await run(ELFRUN, ['run', bb, 'wget', '-q', '-O-', `http://127.0.0.1:${port}/index.html`]);
      expect(w.stdout.toString()).toBe(page);
      srv.kill('SIGKILL');
    });

    it('nc moves 10 MiB each way with the same md5 (guest to guest, guest to host, host to guest)', async () => {
      const data = randomBytes(10 << 20);
      writeFileSync(join(dir, 'data'), data);
      const hostNc = fixture('x86_64', 'busybox');
      for (const [server, client] of [
        [ELFRUN, ELFRUN],
        [hostNc, ELFRUN],
        [ELFRUN, hostNc],
      ] as const) {
        const port = await freePort();
        const sArgs = server === ELFRUN ? ['run', bb, 'nc', '-l', '-p', String(port)] : ['nc', '-l', '-p', String(port)];
        const cArgs = client === ELFRUN ? ['run', bb, 'nc', '127.0.0.1', String(port)] : ['nc', '127.0.0.1', String(port)];
        // the listener's stdin stays open (nc would shut its sending side down at EOF)
        const srv = background(server === ELFRUN ? ELFRUN : hostNc, sArgs, 'pipe');
        const got: Buffer[] = [];
        srv.stdout!.on('data', (d: Buffer) => got.push(d));
        const done = new Promise<void>((resolve) => srv.stdout!.on('end', () => resolve()));
        await listensOn(port);
        const c = await run(client === ELFRUN ? ELFRUN : hostNc, cArgs, data);
        expect(c.status).toBe(0);
        await done;
        expect(md5(Buffer.concat(got)), `${server === ELFRUN ? 'guest' : 'host'} server, ${client === ELFRUN ? 'guest' : 'host'} client`).toBe(md5(data));
        srv.kill('SIGKILL');
      }
    });
  });
}

const python = '/usr/bin/python3';
describe.runIf(existsSync(python))('Debian python3 (x86_64, dynamic) over AF_INET', () => {
  const script = (name: string, text: string): string => {
    const p = join(dir, name);
    writeFileSync(p, text);
    return p;
  };
  const py = (file: string): Promise<{ stdout: Buffer; stderr: string; status: number | null }> => run(ELFRUN, ['run', python, file], undefined, 90_000);

  it('http.server and urllib.request in one process, threads serving', async () => {
    const f = script(
      'serve_http.py',
      `import functools, http.server, threading, urllib.request, os
os.chdir(${JSON.stringify(www)})
class Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *a): pass
srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), functools.partial(Quiet, directory=${JSON.stringify(www)}))
threading.Thread(target=srv.serve_forever, daemon=True).start()
body = urllib.request.urlopen('http://127.0.0.1:%d/index.html' % srv.server_address[1], timeout=20).read()
print(len(body), body == open('index.html', 'rb').read())
srv.shutdown()
`,
    );
    const r = await py(f);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(`${Buffer.byteLength(page)} True\n`);
  });

  it('asyncio: a TCP echo server with 100 concurrent clients', async () => {
    const f = script(
      'tcp_echo.py',
      `import asyncio
async def handle(r, w):
    data = await r.read(1024)
    w.write(data); await w.drain(); w.close()
async def client(port, i):
    r, w = await asyncio.open_connection('127.0.0.1', port)
    w.write(b'client %d' % i); await w.drain()
    got = await r.read(1024); w.close()
    return got == b'client %d' % i
async def main():
    srv = await asyncio.start_server(handle, '127.0.0.1', 0)
    port = srv.sockets[0].getsockname()[1]
    ok = await asyncio.gather(*(client(port, i) for i in range(100)))
    print(sum(ok))
    srv.close(); await srv.wait_closed()
asyncio.run(main())
`,
    );
    const r = await py(f);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe('100\n');
  });

  it('getaddrinfo, getifaddrs-based interface listing and socket options give what Linux gives', async () => {
    const f = script(
      'net_names.py',
      `import socket
print(sorted(set((ai[0].name, ai[4][0]) for ai in socket.getaddrinfo('localhost', 80))))
print(sorted(set((ai[0].name, ai[4][0]) for ai in socket.getaddrinfo('127.0.0.1', 80, flags=socket.AI_ADDRCONFIG))))
print([n for i, n in socket.if_nameindex()])
s = socket.socket(); print(s.getsockopt(socket.SOL_SOCKET, socket.SO_TYPE), s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
`,
    );
    const want = spawnSync(python, [f], { encoding: 'utf8' });
    const r = await py(f);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toBe(want.stdout);
  });
});


describe.runIf(haveFixtures() && spawnSync('strace', ['-V']).status === 0)('socket calls in traces', () => {
  it('elfrun trace prints the inetsock fixture\'s socket calls as strace does (sockaddrs, levels, options, protocols)', () => {
    const calls = 'socket,bind,listen,connect,accept4,accept,shutdown,setsockopt,getsockopt,sendto,recvfrom';
    // ports are the kernel's, stack addresses the runner's; a call cut by another process's line is left out
    const norm = (text: string): string[] =>
      text
        .split('\n')
        .map((l) => l.replace(/^\d+ +/, '').replace(/^\[pid +\d+\] /, '').replace(/htons\(\d+\)/g, 'htons(P)').replace(/sa_data="[^"]*"/g, 'sa_data=D').replace(/0x[0-9a-f]+/g, 'ADDR').replace(/ +=/, ' ='))
        .filter((l) => l !== '' && !/^(\+\+\+|---)|resumed>|unfinished/.test(l));
    const st = join(dir, 'strace.txt');
    const el = join(dir, 'elfrun.txt');
    spawnSync('strace', ['-f', '-qq', '-e', `trace=${calls}`, '-o', st, fixture('x86_64', 'inetsock')], { timeout: 60_000 });
    spawnSync(ELFRUN, ['trace', '-f', '-e', `trace=${calls}`, '-o', el, fixture('x86_64', 'inetsock')], { env, timeout: 60_000 });
    // up to the forked part, whose two processes' lines interleave as they happen to run
    const untilFork = (ls: string[]): string[] => ls.slice(0, ls.lastIndexOf('listen(3, 16) = 0') + 1);
    const want = untilFork(norm(readFileSync(st, 'latin1')));
    expect(want.length).toBeGreaterThan(40);
    expect(untilFork(norm(readFileSync(el, 'latin1')))).toEqual(want);
  });
});
