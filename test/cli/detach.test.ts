// A daemon outlives the command that started it: `elfrun run PROG` returns
// to the shell as PROG ends (its status, or its signal), while the processes
// PROG left behind run on in elfrun's worker, which the front (the process
// the shell waits for, dist/native/elfrun-front) has handed them to. Native
// runs of the same programs are the oracle.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, ROOT, fixture, haveFixtures } from '../helpers/oracle.js';
import { Machine } from '../../src/index.js';

const haveFront = existsSync(join(ROOT, 'dist/native/elfrun-front'));
const dir = mkdtempSync(join(tmpdir(), 'elfrun-detach-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
const bbNative = fixture('x86_64', 'busybox');

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** A TCP port on 127.0.0.1 that nothing listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a !== null ? a.port : 0));
    });
  });
}

/** Host processes whose command line matches, by pgrep -f. */
const pgrep = (pattern: string): number[] =>
  spawnSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);

/** Wait until `done` holds (polling), at most `ms`. */
async function until(done: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (done()) return true;
    await sleep(50);
  }
  return done();
}

/** A file's content, or null while it does not exist. */
const read = (f: string): string | null => (existsSync(f) ? readFileSync(f, 'latin1') : null);

/** `cmd` run as a shell runs it, with how long until it returned. */
function timed(cmd: string, args: string[]): { status: number | null; signal: string | null; stdout: string; stderr: string; ms: number } {
  const t0 = Date.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', env, cwd: ROOT, timeout: 60_000 });
  return { status: r.status, signal: r.signal, stdout: r.stdout, stderr: r.stderr, ms: Date.now() - t0 };
}

describe.skipIf(!haveFront || !haveFixtures())('daemons outlive elfrun run', () => {
  for (const arch of ARCHES) {
    const bb = fixture(arch, 'busybox');

    it(`${arch}: busybox httpd (daemonizing) returns, serves a host curl, and ends when the worker gets SIGTERM`, async () => {
      const www = join(dir, `www-${arch}`);
      mkdirSync(www, { recursive: true });
      writeFileSync(join(www, 'index.html'), `served for ${arch}\n`);
      const fetch = (port: number): string => spawnSync('curl', ['-s', '-m', '5', `http://127.0.0.1:${port}/`], { encoding: 'utf8' }).stdout;

      // natively: httpd forks its daemon and returns at once
      const nport = await freePort();
      const native = timed(bbNative, ['httpd', '-p', `127.0.0.1:${nport}`, '-h', www]);
      expect(native.status).toBe(0);
      const want = fetch(nport);
      for (const pid of pgrep(`httpd -p 127.0.0.1:${nport} `)) process.kill(pid, 'SIGTERM');
      expect(want).toBe(`served for ${arch}\n`);

      const port = await freePort();
      const got = timed(ELFRUN, ['run', bb, 'httpd', '-p', `127.0.0.1:${port}`, '-h', www]);
      expect({ status: got.status, stdout: got.stdout, stderr: got.stderr }).toEqual({ status: native.status, stdout: native.stdout, stderr: native.stderr });
      expect(got.ms).toBeLessThan(20_000);
      try {
        expect(await until(() => fetch(port) === want, 10_000)).toBe(true);
        // the worker stands for the daemon on the host: its SIGTERM goes to every guest process
        const workers = pgrep(`elfrun run ${bb} httpd -p 127.0.0.1:${port} `);
        expect(workers).toHaveLength(1);
        process.kill(workers[0], 'SIGTERM');
        expect(await until(() => pgrep(`elfrun run ${bb} httpd -p 127.0.0.1:${port} `).length === 0, 10_000)).toBe(true);
        expect(fetch(port)).toBe('');
      } finally {
        for (const pid of pgrep(`elfrun run ${bb} httpd -p 127.0.0.1:${port} `)) process.kill(pid, 'SIGKILL');
      }
    });

    it(`${arch}: sh -c '(sleep 1; ...) & echo started' returns at once; the sleep goes on, its parent the host's (getppid as natively)`, async () => {
      // the subshell lets go of stdout and stderr, so that the caller's pipes end with sh
      const script = (f: string): string => `(sleep 1; echo "parent $PPID" > ${f}) >/dev/null 2>&1 & echo started`;
      const nf = join(dir, `native-${arch}`);
      const native = timed(bbNative, ['sh', '-c', script(nf)]);
      expect(await until(() => read(nf) !== null, 10_000)).toBe(true);
      const f = join(dir, `elfrun-${arch}`);
      const got = timed(ELFRUN, ['run', bb, 'sh', '-c', script(f)]);
      expect({ status: got.status, stdout: got.stdout, stderr: got.stderr }).toEqual({ status: native.status, stdout: native.stdout, stderr: native.stderr });
      // it returned before the sleep ended, and the sleep ended afterwards
      expect(read(f)).toBeNull();
      expect(await until(() => read(f) !== null && read(f)!.endsWith('\n'), 10_000)).toBe(true);
      expect(read(f)).toBe(read(nf));
    });

    it(`${arch}: the first process's exit status and fatal signal, with a child left running`, () => {
      const bg = 'sleep 3 </dev/null >/dev/null 2>&1 &';
      for (const s of [`${bg} exit 3`, `${bg} kill -TERM $$`, `${bg} kill -KILL $$`, 'exit 5', 'kill -SEGV $$']) {
        const native = timed(bbNative, ['sh', '-c', s]);
        const got = timed(ELFRUN, ['run', bb, 'sh', '-c', s]);
        expect({ s, status: got.status, signal: got.signal, stderr: got.stderr }).toEqual({ s, status: native.status, signal: native.signal, stderr: native.stderr });
        expect(got.ms).toBeLessThan(2500); // not after the sleep's 3 seconds
      }
    });
  }

  // bash's job control on a pty: the job is the front, which stops as the guest stops and continues it on fg
  it('^Z in an interactive bash stops the job (jobs says Stopped), fg continues it, ^C ends it with 130, as natively', () => {
    const session = (run: string): string => {
      const r = spawnSync('python3', [
        join(ROOT, 'test/helpers/ptydrive.py'),
        'e:$ ', 'w:$R sleep 3\\n', 's:1', 'w:\\x1a', 'e:$ ', 'w:jobs\\n', 'e:$ ', 'w:fg\\n', 's:0.5', 'w:\\x03', 'e:$ ', 'w:echo st=$?\\n', 'e:$ ', 'w:exit\\n',
        '--', 'env', 'PS1=$ ', `R=${run}`, 'bash', '--norc', '-i',
      ], { cwd: ROOT, env: { ...env, TERM: 'dumb' }, timeout: 90_000 });
      return r.stdout.toString('latin1');
    };
    const want = session(bbNative);
    expect(want).toContain('Stopped                 $R sleep 3');
    expect(want).toContain('st=130');
    expect(session(`${ELFRUN} run ${bbNative}`)).toBe(want);
  });

  it('a front killed by SIGKILL while the first process lives takes the worker with it', async () => {
    const front = spawn(ELFRUN, ['run', bbNative, 'sleep', '30'], { env, stdio: 'ignore' });
    const worker = (): number[] => spawnSync('pgrep', ['-P', String(front.pid)], { encoding: 'utf8' }).stdout.split('\n').filter(Boolean).map(Number);
    expect(await until(() => worker().length === 1, 10_000)).toBe(true);
    const w = worker()[0];
    const alive = (): boolean => spawnSync('kill', ['-0', String(w)]).status === 0 && !readFileSync(`/proc/${w}/stat`, 'latin1').includes(') Z ');
    expect(alive()).toBe(true);
    front.kill('SIGKILL');
    expect(await until(() => !existsSync(`/proc/${w}`) || !alive(), 5000)).toBe(true);
  });

  it('without the front (Node run directly), the processes left behind end with the first one, as before', async () => {
    const f = join(dir, 'nofront');
    const r = spawnSync(process.execPath, [ELFRUN, 'run', '--debug', bbNative, 'sh', '-c', `(sleep 0.3; echo late > ${f}) & echo started`], { encoding: 'utf8', env, timeout: 60_000 });
    expect(r.stdout).toBe('started\n');
    expect(r.stderr).toMatch(/^elfrun: no front \(dist\/native\/elfrun-front/);
    await sleep(800);
    expect(read(f)).toBeNull();
  });
});

describe.skipIf(!haveFixtures())('the library: MachineOptions.orphans', () => {
  const script = (f: string): string => `(sleep 0.3; echo "late $PPID" > ${f}) & echo first; exit 4`;
  it("'live': run() resolves with the first process's state once the last one ended; initExit names those left", async () => {
    const f = join(dir, 'lib-live');
    const m = new Machine({ program: bbNative, argv: ['sh', '-c', script(f)], env: [], orphans: 'live', stdio: { stdout: 'buffer' } });
    const told: Array<{ pid: number; state: unknown; live: number[] }> = [];
    m.on('initExit', (e) => told.push(e));
    const state = await m.run();
    expect(state).toEqual({ kind: 'exited', code: 4 });
    expect(m.stdout!.toString()).toBe('first\n');
    expect(told).toHaveLength(1);
    expect(told[0].pid).toBe(m.task.pid);
    expect(told[0].state).toEqual({ kind: 'exited', code: 4 });
    expect(told[0].live.length).toBeGreaterThan(0);
    expect(read(f)).toMatch(/^late \d+\n$/);
  });
  it("'die' (the default): they end with it, as before", async () => {
    const f = join(dir, 'lib-die');
    const m = new Machine({ program: bbNative, argv: ['sh', '-c', script(f)], env: [], stdio: { stdout: 'buffer' } });
    let told = 0;
    m.on('initExit', () => told++);
    expect(await m.run()).toEqual({ kind: 'exited', code: 4 });
    await sleep(600);
    expect(read(f)).toBeNull();
    expect(told).toBe(0);
  });
});
