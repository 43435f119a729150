// File locks against Linux: the locks fixture (flock, POSIX and OFD record
// locks, leases' two answers, /proc/locks and fdinfo) on a host directory and
// on tmpfs, compared with the native run; and the guest's locks against a
// host process's, with util-linux flock(1), python3's fcntl and sqlite3.
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const dir = mkdtempSync(join(tmpdir(), 'elfrun-locks-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sub = (name: string): string => {
  const d = join(dir, name);
  rmSync(d, { recursive: true, force: true });
  spawnSync('mkdir', ['-p', d]);
  return d;
};

describe('the locks fixture', () => {
  // oracle: native x86_64 for both arches (the answers do not depend on the
  // arch; the fixture prints errno names, the same under musl and glibc)
  const want = runLinux('x86_64', fixture('x86_64', 'locks'), [sub('native')]);
  it('runs natively', () => {
    expect(want.status).toBe(0);
  });
  for (const arch of ARCHES) {
    it(`${arch}: on a host directory, as Linux`, () => {
      const got = runElfrun(fixture(arch, 'locks'), [sub(`host-${arch}`)]);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(0);
    });
    it(`${arch}: on tmpfs, as Linux`, () => {
      const d = sub(`tmpfs-${arch}`);
      const got = runElfrun(fixture(arch, 'locks'), [d], { flags: ['--tmpfs', d] });
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(0);
    });
  }
  it.runIf(haveQemu())('arm64: qemu-aarch64 (Linux\'s own answers for arm64) agrees, but for the exec it cannot follow', () => {
    const q = runLinux('arm64', fixture('arm64', 'locks'), [sub('qemu')]);
    const noExec = (s: string): string => s.replace(/ {2}after exec:[^]*?(?=OFD locks:)/, '');
    expect(noExec(q.stdout)).toBe(noExec(want.stdout));
  });
});

/** Run a host command in the background until it has printed `ready` (or exits); resolves with a stop function. */
function hostHolder(cmd: string, args: string[], ready: string): Promise<() => Promise<void>> {
  return new Promise((resolve, reject) => {
    const p = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    p.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes(ready)) resolve(() => new Promise((r) => (p.exitCode !== null ? r() : p.on('exit', () => r()))));
    });
    p.on('error', reject);
  });
}

const have = (p: string): boolean => existsSync(p);

describe('against host processes', () => {
  it.runIf(have('/usr/bin/flock'))('flock(1): a host holder makes the guest\'s -n fail and its blocking flock wait; the host sees the guest\'s lock', async () => {
    const f = join(dir, 'flock1');
    writeFileSync(f, '');
    const done = await hostHolder('/usr/bin/flock', [f, '-c', 'echo held; sleep 1.5'], 'held');
    expect(runElfrun('/usr/bin/flock', ['-n', f, 'true']).status).toBe(1);
    const t0 = Date.now();
    const got = runElfrun('/usr/bin/flock', [f, 'echo', 'got']);
    expect(got.stdout).toBe('got\n');
    expect(Date.now() - t0).toBeGreaterThan(500);
    await done();
    const guest = spawn('bin/elfrun', ['run', '/usr/bin/flock', f, '-c', 'echo held; sleep 1.5'], { stdio: ['ignore', 'pipe', 'inherit'] });
    await new Promise<void>((r) => guest.stdout.on('data', (d: Buffer) => d.toString().includes('held') && r()));
    expect(spawnSync('/usr/bin/flock', ['-n', f, 'true']).status).toBe(1);
    await new Promise((r) => guest.on('exit', r));
    expect(spawnSync('/usr/bin/flock', ['-n', f, 'true']).status).toBe(0);
  });

  const py = '/usr/bin/python3';
  const script = join(dir, 'lockf.py');
  writeFileSync(
    script,
    [
      'import fcntl, struct, sys, time',
      "f = open(sys.argv[1], 'r+')",
      "if sys.argv[2] == 'hold':",
      '    fcntl.lockf(f, fcntl.LOCK_EX, 10, 0)',
      "    print('held', flush=True); time.sleep(1.5)",
      'else:',
      '    try:',
      "        fcntl.lockf(f, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0); print('got it')",
      "    except OSError as e: print('busy', e.errno)",
      "    t, w, s, l, p = struct.unpack('hhqqi4x', fcntl.fcntl(f, fcntl.F_GETLK, struct.pack('hhqqi4x', fcntl.F_WRLCK, 0, 0, 1, 0)))",
      "    print('getlk', t, s, l, 'pid -1' if p == -1 else 'a pid' if p > 0 else p)",
      "    fcntl.lockf(f, fcntl.LOCK_EX, 10, 0); print('then locked')",
      '',
    ].join('\n'),
  );
  it.runIf(have(py))('python3 fcntl.lockf: host and guest see each other\'s record locks, and a blocking lockf waits for the other', async () => {
    const f = join(dir, 'lockf');
    writeFileSync(f, 'x');
    let done = await hostHolder(py, [script, f, 'hold'], 'held');
    // a host process's POSIX lock: F_GETLK names its pid
    expect(runElfrun(py, [script, f, 'try']).stdout).toBe('busy 11\ngetlk 1 0 10 a pid\nthen locked\n');
    await done();
    done = await hostHolder('bin/elfrun', ['run', py, script, f, 'hold'], 'held');
    // the guest's lock is a host OFD lock: l_pid -1
    expect(spawnSync(py, [script, f, 'try']).stdout.toString()).toBe('busy 11\ngetlk 1 0 10 pid -1\nthen locked\n');
    await done();
  });

  it.runIf(have('/usr/bin/sqlite3'))('sqlite3: a host process and guest processes write one database, on a host file and on tmpfs', async () => {
    const writer = join(dir, 'sqw.sh');
    writeFileSync(writer, 'i=0; while [ $i -lt 15 ]; do sqlite3 -cmd ".timeout 20000" "$1" "begin immediate; insert into t values(\'$2\'); commit;" || echo fail; i=$((i+1)); done\n');
    const d = sub('sqlite');
    const db = join(d, 'db');
    spawnSync('/usr/bin/sqlite3', [db, 'create table t(x text)']);
    const host = spawn('sh', [writer, db, 'host'], { stdio: ['ignore', 'pipe', 'inherit'] });
    let hostOut = '';
    host.stdout.on('data', (b: Buffer) => (hostOut += b.toString()));
    const bb = fixture('x86_64', 'busybox');
    const guest = await new Promise<string>((resolve) => {
      const g = spawn('bin/elfrun', ['run', bb, 'sh', '-c', `sh ${writer} ${db} guest1 & sh ${writer} ${db} guest2; wait`], { stdio: ['ignore', 'pipe', 'inherit'] });
      let out = '';
      g.stdout.on('data', (b: Buffer) => (out += b.toString()));
      g.on('exit', () => resolve(out));
    });
    await new Promise((r) => (host.exitCode !== null ? r(0) : host.on('exit', r)));
    expect(guest + hostOut).toBe('');
    expect(spawnSync('/usr/bin/sqlite3', [db, 'select x, count(*) from t group by x']).stdout.toString()).toBe('guest1|15\nguest2|15\nhost|15\n');
    // on tmpfs: the guest's processes alone
    const t = sub('sqlite-tmpfs');
    const got = runElfrun(bb, ['sh', '-c', `sqlite3 ${t}/db 'create table t(x text)'; sh ${writer} ${t}/db a & sh ${writer} ${t}/db b; wait; sqlite3 ${t}/db 'select x, count(*) from t group by x'`], { flags: ['--tmpfs', t] });
    expect(got.stdout).toBe('a|15\nb|15\n');
  }, 120_000);
});
