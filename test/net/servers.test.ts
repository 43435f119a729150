// Real servers and clients from Debian (x86_64, dynamic) over loopback: each
// pair is run natively first, then with the server under elfrun and a host
// client, the client under elfrun against a host server, and both under
// elfrun (--net host and --net none); the bytes the client receives and both
// exit statuses must be the native pair's. Servers listen on 127.0.0.1 (or a
// socket in a temp dir) only, are stopped by a signal and killed at the end;
// every run is bounded in time.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, fixture, haveFixtures } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-servers-'));
// nginx's workers run as nobody: they must reach the files served
chmodSync(dir, 0o755);
const live = new Set<ChildProcess>();
afterAll(() => {
  for (const p of live) p.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
const md5 = (b: Buffer): string => createHash('md5').update(b).digest('hex');
const have = (...paths: string[]): boolean => paths.every((p) => existsSync(p));
const python = '/usr/bin/python3';
const curl = '/usr/bin/curl';
const bb = fixture('x86_64', 'busybox');

/** How a program ended: its exit code, or 128 + the signal that killed it (as elfrun reports a guest's death). */
interface Ended {
  stdout: Buffer;
  stderr: string;
  status: number;
}
function ended(p: ChildProcess, timeout: number): Promise<Ended> {
  const out: Buffer[] = [];
  let err = '';
  p.stdout?.on('data', (d: Buffer) => out.push(d));
  p.stderr?.on('data', (d: Buffer) => (err += d.toString()));
  const timer = setTimeout(() => p.kill('SIGKILL'), timeout);
  return new Promise((resolve) => {
    p.on('close', (code, sig) => {
      clearTimeout(timer);
      live.delete(p);
      resolve({ stdout: Buffer.concat(out), stderr: err, status: code ?? 128 + (sig === null ? 0 : constants.signals[sig]) });
    });
  });
}

/** A command (under elfrun with `flags` when `guest`), run to its end without blocking the event loop. */
function run(guest: boolean, argv: string[], o: { flags?: string[]; input?: Buffer; timeout?: number } = {}): Promise<Ended> {
  const [cmd, args] = guest ? [ELFRUN, ['run', ...(o.flags ?? []), ...argv]] : [argv[0], argv.slice(1)];
  const p = spawn(cmd, args, { env, stdio: ['pipe', 'pipe', 'pipe'], detached: true });
  live.add(p);
  const done = ended(p, o.timeout ?? 90_000);
  p.stdin!.end(o.input ?? Buffer.alloc(0));
  return done;
}

/** A server in the background; `stop` sends it a signal and gives how it ended. */
function serve(guest: boolean, argv: string[], cwd?: string): { stop: (sig?: NodeJS.Signals) => Promise<Ended> } {
  const [cmd, args] = guest ? [ELFRUN, ['run', ...argv]] : [argv[0], argv.slice(1)];
  // a group of its own: lighttpd's master signals its whole group (kill(0, SIGTERM)) as it ends
  const p = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true, cwd });
  live.add(p);
  const done = ended(p, 170_000);
  return {
    stop: (sig = 'SIGTERM') => {
      p.kill(sig);
      const t = setTimeout(() => p.kill('SIGKILL'), 20_000);
      return done.finally(() => clearTimeout(t));
    },
  };
}

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

/** Resolves once something accepts on the port or socket path (tries for up to `ms`). */
function listening(where: number | string, ms = 40_000): Promise<void> {
  const end = Date.now() + ms;
  return new Promise((resolve, reject) => {
    const attempt = (): void => {
      const c = typeof where === 'number' ? connect(where, '127.0.0.1') : connect(where);
      c.on('connect', () => {
        c.destroy();
        resolve();
      });
      c.on('error', () => {
        if (Date.now() > end) reject(new Error(`nothing listens on ${where}`));
        else setTimeout(attempt, 100);
      });
    };
    attempt();
  });
}

// what the servers serve
const www = join(dir, 'www');
mkdirSync(www);
const page = `<html>${'served over loopback. '.repeat(200)}</html>\n`;
const big = randomBytes(3 << 20);
writeFileSync(join(www, 'index.html'), page);
writeFileSync(join(www, 'big.bin'), big);

/** curl's config for `n` requests of one URL (one connection, kept alive), each giving its status and the number of connections it made. */
function manyRequests(name: string, url: string, n: number, unixSocket?: string): string {
  const f = join(dir, name);
  const one = `${unixSocket !== undefined ? `unix-socket = "${unixSocket}"\n` : ''}url = "${url}"\noutput = "/dev/null"\nwrite-out = "%{http_code} %{num_connects}\\n"\n`;
  writeFileSync(f, one.repeat(n));
  return f;
}

type Who = 'native' | 'guest server' | 'guest client';
const PAIRS: Array<[Who, boolean, boolean]> = [
  ['native', false, false],
  ['guest server', true, false],
  ['guest client', false, true],
];

/** nginx.conf in its own temp dir: master and two workers, on a port and a unix socket. */
function nginxConf(port: number): { conf: string; sock: string; prefix: string } {
  const prefix = mkdtempSync(join(dir, 'nginx-'));
  const sock = join(prefix, 'ngx.sock');
  const conf = join(prefix, 'nginx.conf');
  const temp = ['client_body', 'proxy', 'fastcgi', 'uwsgi', 'scgi'].map((t) => `  ${t}_temp_path ${prefix}/${t};\n`).join('');
  writeFileSync(
    conf,
    `daemon off;\nmaster_process on;\nworker_processes 2;\npid ${prefix}/nginx.pid;\nerror_log ${prefix}/error.log notice;\n` +
      `events { worker_connections 64; }\nhttp {\n  access_log off;\n${temp}  keepalive_requests 1000;\n` +
      `  server { listen 127.0.0.1:${port}; listen unix:${sock}; root ${www}; }\n}\n`,
  );
  return { conf, sock, prefix };
}

/** Does elfrun take FIOASYNC on a socket (nginx sets it on its master-to-worker channels, and stops spawning workers without it)? */
const fioasync = (): boolean =>
  have(python) &&
  spawnSync(ELFRUN, ['run', python, '-c', 'import socket,fcntl,termios,struct; a,b=socket.socketpair(); fcntl.ioctl(a, termios.FIOASYNC, struct.pack("i", 1))'], { env, timeout: 60_000 }).status === 0;

describe.runIf(haveFixtures() && have('/usr/sbin/nginx', curl) && fioasync())('nginx (master and 2 workers) and curl', () => {
  it('nginx under elfrun serves the host\'s curl (a page, 3 MiB, 50 requests on one kept-alive connection, a unix socket) and curl under elfrun a host nginx, as the native pair; SIGQUIT ends nginx with its status', async () => {
    const results: Record<string, string[]> = {};
    for (const [who, guestServer, guestClient] of PAIRS) {
      const port = await freePort();
      const { conf, sock, prefix } = nginxConf(port);
      const srv = serve(guestServer, ['/usr/sbin/nginx', '-p', prefix, '-c', conf]);
      await listening(port);
      await listening(sock);
      const base = `http://127.0.0.1:${port}`;
      const got: string[] = [];
      const c1 = await run(guestClient, [curl, '-sS', '--max-time', '30', `${base}/index.html`]);
      got.push(`page ${c1.status} ${c1.stdout.toString() === page}`);
      const c2 = await run(guestClient, [curl, '-sS', '--max-time', '30', `${base}/big.bin`]);
      got.push(`big ${c2.status} ${md5(c2.stdout) === md5(big)}`);
      const c3 = await run(guestClient, [curl, '-sS', '--max-time', '60', '-K', manyRequests(`k-${port}`, `${base}/index.html`, 50)]);
      got.push(`keep-alive ${c3.status} ${c3.stdout.toString()}`);
      const c4 = await run(guestClient, [curl, '-sS', '--max-time', '30', '--unix-socket', sock, 'http://localhost/big.bin']);
      got.push(`unix ${c4.status} ${md5(c4.stdout) === md5(big)}`);
      const c5 = await run(guestClient, [curl, '-sS', '--max-time', '30', '-o', '/dev/null', '-w', '%{http_code}', `${base}/absent`]);
      got.push(`404 ${c5.status} ${c5.stdout.toString()}`);
      // SIGQUIT: graceful shutdown (the master tells the workers, waits for them, exits)
      const end = await srv.stop('SIGQUIT');
      got.push(`nginx exit ${end.status}`);
      results[who] = got;
    }
    expect(results['native'].join('\n')).toContain('keep-alive 0 200 1\n200 0\n');
    expect(results['guest server']).toEqual(results['native']);
    expect(results['guest client']).toEqual(results['native']);
  }, 400_000);

  it('nginx and curl both under elfrun, --net host and --net none (elfrun\'s own lo), as natively', async () => {
    const outs: string[] = [];
    for (const net of ['native', 'host', 'none']) {
      const port = await freePort();
      const { conf, sock, prefix } = nginxConf(port);
      const base = `http://127.0.0.1:${port}`;
      const k = manyRequests(`k-${net}`, `${base}/index.html`, 10);
      const script =
        `/usr/sbin/nginx -p ${prefix} -c ${conf} & ` +
        `while ! ${curl} -s -o /dev/null ${base}/; do sleep 0.2; done; ` +
        `${curl} -sS ${base}/big.bin | md5sum; ${curl} -sS -K ${k} | sort | uniq -c; echo "curl $?"; ` +
        `${curl} -sS --unix-socket ${sock} http://localhost/big.bin | md5sum; ` +
        `kill -QUIT $!; wait $!; echo "nginx $?"`;
      const r = await run(net !== 'native', [bb, 'sh', '-c', script], { flags: ['--net', net], timeout: 240_000 });
      outs.push(`${r.status}\n${r.stdout.toString()}`);
    }
    expect(outs[0]).toContain(`${md5(big)}  -`);
    expect(outs[1]).toBe(outs[0]);
    expect(outs[2]).toBe(outs[0]);
  }, 600_000);
});

describe.runIf(have('/usr/sbin/lighttpd', curl))('lighttpd', () => {
  it('lighttpd (2 workers) under elfrun serves the host\'s curl as it does natively; SIGTERM ends it with its status', async () => {
    const results: string[] = [];
    for (const guest of [false, true]) {
      const port = await freePort();
      const conf = join(dir, `lighttpd-${port}.conf`);
      writeFileSync(
        conf,
        `server.document-root = "${www}"\nserver.bind = "127.0.0.1"\nserver.port = ${port}\nserver.pid-file = "${dir}/lighttpd-${port}.pid"\n` +
          `server.errorlog = "${dir}/lighttpd-${port}.log"\nserver.max-worker = 2\nmimetype.assign = ( ".html" => "text/html", ".bin" => "application/octet-stream" )\n`,
      );
      const srv = serve(guest, ['/usr/sbin/lighttpd', '-D', '-f', conf]);
      await listening(port);
      const base = `http://127.0.0.1:${port}`;
      const a = await run(false, [curl, '-sS', '--max-time', '30', `${base}/index.html`, `${base}/big.bin`]);
      const b = await run(false, [curl, '-sS', '--max-time', '60', '-K', manyRequests(`l-${port}`, `${base}/index.html`, 50)]);
      const c = await run(false, [curl, '-sS', '--max-time', '30', '-o', '/dev/null', '-w', '%{http_code}', '--data-binary', `@${join(www, 'big.bin')}`, `${base}/index.html`]);
      const end = await srv.stop('SIGTERM');
      results.push([a.status, md5(a.stdout), b.status, b.stdout.toString(), c.status, c.stdout.toString(), end.status].join(' '));
    }
    expect(results[0]).toContain(md5(Buffer.concat([Buffer.from(page), big])));
    expect(results[1]).toBe(results[0]);
  }, 300_000);
});

const pyServer = `import socketserver, sys, hashlib
class H(socketserver.StreamRequestHandler):
    def handle(self):
        n = int(self.rfile.readline())
        data = self.rfile.read(n)
        self.wfile.write(hashlib.md5(data).hexdigest().encode() + b'\\n')
        self.wfile.write(data[::-1])
cls = socketserver.ForkingTCPServer if sys.argv[1] == 'fork' else socketserver.ThreadingTCPServer
cls.allow_reuse_address = True
# a backlog for every client at once: with socketserver's 5, a server slower to accept than the
# clients connect (elfrun's, or a native one made slow) overflows the host's listen queue and
# SYN cookies reset some connections (ListenOverflows, SyncookiesFailed in nstat)
cls.request_queue_size = 64
with cls(('127.0.0.1', int(sys.argv[2])), H) as s:
    s.serve_forever()
`;
const pyClient = `import socket, sys, hashlib, threading
port, n, size = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
res = [None] * n
def one(i):
    data = bytes((i * 7 + j) % 251 for j in range(size))
    c = socket.create_connection(('127.0.0.1', port))
    c.sendall(b'%d\\n' % size + data)
    f = c.makefile('rb')
    res[i] = (f.readline().strip().decode() == hashlib.md5(data).hexdigest(), f.read(size + 1) == data[::-1])
    c.close()
ts = [threading.Thread(target=one, args=(i,)) for i in range(n)]
[t.start() for t in ts]
[t.join() for t in ts]
print(sum(1 for r in res if r == (True, True)), 'of', n, 'answered right')
`;

describe.runIf(have(python))('python3 socketserver, http.server, urllib and http.client', () => {
  const srvPy = join(dir, 'srv.py');
  const cliPy = join(dir, 'cli.py');
  writeFileSync(srvPy, pyServer);
  writeFileSync(cliPy, pyClient);

  for (const kind of ['fork', 'thread']) {
    it(`socketserver.${kind === 'fork' ? 'Forking' : 'Threading'}TCPServer: 20 concurrent clients of 200 kB each, server or clients under elfrun, as natively`, async () => {
      const results: Record<string, string> = {};
      for (const [who, guestServer, guestClient] of PAIRS) {
        const port = await freePort();
        const srv = serve(guestServer, [python, srvPy, kind, String(port)]);
        await listening(port);
        const c = await run(guestClient, [python, cliPy, String(port), '20', '200000']);
        const end = await srv.stop('SIGTERM');
        results[who] = `${c.status} ${c.stdout.toString()} server ${end.status}`;
      }
      expect(results['native']).toBe('0 20 of 20 answered right\n server 143');
      expect(results['guest server']).toBe(results['native']);
      expect(results['guest client']).toBe(results['native']);
    }, 300_000);
  }

  it('http.server under elfrun, urllib.request and http.client (kept alive) under elfrun, each against the other side native, as natively', async () => {
    const client = join(dir, 'http-client.py');
    writeFileSync(
      client,
      `import sys, hashlib, urllib.request, http.client
base = 'http://127.0.0.1:%s' % sys.argv[1]
print(hashlib.md5(urllib.request.urlopen(base + '/big.bin').read()).hexdigest())
try:
    urllib.request.urlopen(base + '/absent')
except urllib.error.HTTPError as e:
    print('absent', e.code)
c = http.client.HTTPConnection('127.0.0.1', int(sys.argv[1]))
for i in range(20):
    c.request('GET', '/index.html', headers={'Connection': 'keep-alive'})
    r = c.getresponse()
    b = r.read()
    if i == 19: print(r.status, len(b), r.getheader('Content-Length'))
`,
    );
    const results: Record<string, string> = {};
    for (const [who, guestServer, guestClient] of PAIRS) {
      const port = await freePort();
      // HTTP/1.1, so the connection stays open between http.client's requests
      const srv = serve(guestServer, [python, '-c', `import http.server as h, functools; h.SimpleHTTPRequestHandler.protocol_version = 'HTTP/1.1'; h.ThreadingHTTPServer(('127.0.0.1', ${port}), functools.partial(h.SimpleHTTPRequestHandler, directory=${JSON.stringify(www)})).serve_forever()`]);
      await listening(port);
      const c = await run(guestClient, [python, client, String(port)]);
      const end = await srv.stop('SIGTERM');
      results[who] = `${c.status} ${c.stdout.toString()} server ${end.status}`;
    }
    expect(results['native']).toContain(md5(big));
    expect(results['guest server']).toBe(results['native']);
    expect(results['guest client']).toBe(results['native']);
  }, 300_000);
});

describe.runIf(have('/usr/bin/socat', curl, python))('socat relays', () => {
  it('socat under elfrun relays TCP to a host server, a unix socket to TCP, and UDP datagrams, for host clients, as natively', async () => {
    const results: string[] = [];
    for (const guest of [false, true]) {
      const web = await freePort();
      const srv = serve(false, [python, '-m', 'http.server', '--bind', '127.0.0.1', '--directory', www, String(web)]);
      await listening(web);
      const relay = await freePort();
      const sock = join(dir, `relay-${relay}.sock`);
      const udp = await freePort();
      const r1 = serve(guest, ['/usr/bin/socat', `TCP-LISTEN:${relay},bind=127.0.0.1,reuseaddr,fork`, `TCP:127.0.0.1:${web}`]);
      const r2 = serve(guest, ['/usr/bin/socat', `UNIX-LISTEN:${sock},fork`, `TCP:127.0.0.1:${web}`]);
      const r3 = serve(guest, ['/usr/bin/socat', `UDP-RECVFROM:${udp},bind=127.0.0.1,fork`, 'SYSTEM:tr a-z A-Z']);
      await listening(relay);
      await listening(sock);
      const a = await run(false, [curl, '-sS', '--max-time', '30', `http://127.0.0.1:${relay}/big.bin`, `http://127.0.0.1:${relay}/index.html`]);
      const b = await run(false, [curl, '-sS', '--max-time', '30', '--unix-socket', sock, 'http://localhost/big.bin']);
      // the relay answers each datagram from a forked child (its first may come before the socket is bound: retry)
      let u: Ended = { stdout: Buffer.alloc(0), stderr: '', status: -1 };
      for (let i = 0; i < 20 && u.stdout.length === 0; i++) u = await run(false, ['/usr/bin/socat', '-T', '2', '-', `UDP:127.0.0.1:${udp}`], { input: Buffer.from('datagram over lo\n') });
      const ends = await Promise.all([r1.stop(), r2.stop(), r3.stop()]);
      await srv.stop();
      results.push([a.status, md5(a.stdout), b.status, md5(b.stdout), u.status, u.stdout.toString(), ...ends.map((e) => e.status)].join(' '));
    }
    expect(results[0]).toContain('DATAGRAM OVER LO');
    expect(results[1]).toBe(results[0]);
  }, 300_000);
});

describe.runIf(have('/usr/bin/openssl', curl))('openssl', () => {
  it('openssl s_server under elfrun answers curl over TLS, and s_client under elfrun fetches 3 MiB from a host s_server, as natively', async () => {
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    spawnSync('/usr/bin/openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const results: Record<string, string> = {};
    for (const [who, guestServer, guestClient] of PAIRS) {
      const port = await freePort();
      // -WWW: files of the current directory, over HTTP/1.0
      const srv = serve(guestServer, ['/usr/bin/openssl', 's_server', '-quiet', '-accept', `127.0.0.1:${port}`, '-cert', cert, '-key', key, '-WWW'], www);
      await listening(port);
      const rel = 'big.bin';
      const c = await run(guestClient, ['/usr/bin/openssl', 's_client', '-quiet', '-ign_eof', '-connect', `127.0.0.1:${port}`], { input: Buffer.from(`GET /${rel} HTTP/1.0\r\n\r\n`) });
      const body = c.stdout.subarray(c.stdout.indexOf('\r\n\r\n') + 4);
      const k = await run(guestClient, [curl, '-sS', '-k', '--max-time', '30', `https://127.0.0.1:${port}/${rel}`]);
      const end = await srv.stop('SIGTERM');
      results[who] = `${c.status} ${md5(body)} ${k.status} ${md5(k.stdout)} server ${end.status}`;
    }
    expect(results['native']).toBe(`0 ${md5(big)} 0 ${md5(big)} server 143`);
    expect(results['guest server']).toBe(results['native']);
    expect(results['guest client']).toBe(results['native']);
  }, 300_000);
});

describe.runIf(haveFixtures() && have('/usr/bin/wget', '/usr/bin/socat'))('wget', () => {
  it('wget under elfrun fetches from busybox httpd under elfrun, --net host and --net none, as natively', async () => {
    const outs: string[] = [];
    for (const net of ['native', 'host', 'none']) {
      const port = await freePort();
      const script = `${bb} httpd -f -p 127.0.0.1:${port} -h ${www} & while ! /usr/bin/wget -q -O /dev/null http://127.0.0.1:${port}/; do sleep 0.2; done; /usr/bin/wget -q -O- http://127.0.0.1:${port}/big.bin | md5sum; /usr/bin/wget -q -O- http://127.0.0.1:${port}/absent; echo "wget $?"; kill $!; wait $!; echo "httpd $?"`;
      const r = await run(net !== 'native', [bb, 'sh', '-c', script], { flags: ['--net', net], timeout: 120_000 });
      outs.push(`${r.status}\n${r.stdout.toString()}`);
    }
    expect(outs[0]).toBe(`0\n${md5(big)}  -\nwget 8\nhttpd 143\n`);
    expect(outs[1]).toBe(outs[0]);
    expect(outs[2]).toBe(outs[0]);
  }, 300_000);
});
