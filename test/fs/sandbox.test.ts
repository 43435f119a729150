// Escapes: under --sandbox (with a --bind of a scratch host directory) and
// under --root, the escape fixture tries to reach a canary host file outside
// what it was given (`..` past / and past the bind, absolute, climbing and
// looping symlinks of its own and of the host's in the bound directory,
// /proc/self/{root,cwd,exe,fd/0,map_files}, /proc/<a host pid>, openat2 with
// each RESOLVE_* flag, hard links, its stdin, exec, a rename race). The
// canary never shows, and the host tree outside is unchanged afterwards.
// Under --root, what Linux itself defines (`..` at a chroot's root, openat2's
// errnos, links...) is compared with a native run under unshare -m + chroot,
// for every line that does not involve /proc (the chroot has none).
import { afterAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, lstatSync, renameSync, mkdirSync, mkdtempSync, openSync, closeSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, fixture, haveFixtures } from '../helpers/oracle.js';

const CANARY = `CANARY-${process.pid}-${Date.now()}`;
const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** names, types, modes, link targets and contents of a host tree, as one hash */
function treeHash(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      h.update(`${p}\0${st.mode}\0${st.nlink}\0`);
      if (st.isSymbolicLink()) h.update(readlinkSync(p));
      else if (st.isDirectory()) walk(p);
      else h.update(readFileSync(p));
    }
  };
  walk(dir);
  return h.digest('hex');
}

/** A scratch tree: outside/ (the canary and the guest's stdin) and a guest directory with the host's own links in it. */
function scratch(): { base: string; outside: string; secret: string; stdin: string; guestDir: (d: string) => void } {
  const base = mkdtempSync(join(tmpdir(), 'elfrun-escape-'));
  dirs.push(base);
  const outside = join(base, 'outside');
  mkdirSync(outside);
  const secret = join(outside, 'secret');
  writeFileSync(secret, `${CANARY} secret\n`, { mode: 0o755 });
  const stdin = join(outside, 'stdin.txt');
  writeFileSync(stdin, 'STDIN-OK\n');
  const guestDir = (d: string): void => {
    mkdirSync(d, { recursive: true });
    writeFileSync(join(d, 'inside'), 'inside-ok\n');
    symlinkSync(secret, join(d, 'abs'));
    symlinkSync(`../../../../../../..${secret}`, join(d, 'climb'));
    symlinkSync(outside, join(d, 'absdir'));
    symlinkSync('loop', join(d, 'loop'));
  };
  return { base, outside, secret, stdin, guestDir };
}

function run(cmd: string, args: string[], stdin: string): { stdout: string; stderr: string; status: number | null } {
  const fd = openSync(stdin, 'r');
  try {
    const r = spawnSync(cmd, args, { stdio: [fd, 'pipe', 'pipe'], encoding: 'latin1', timeout: 120_000, cwd: '/' });
    return { stdout: r.stdout, stderr: r.stderr, status: r.status };
  } finally {
    closeSync(fd);
  }
}

function expectContained(out: { stdout: string; stderr: string; status: number | null }): void {
  expect(out.stderr).toBe('');
  expect(out.status).toBe(0);
  expect(out.stdout).not.toContain(CANARY);
  expect(out.stdout).not.toContain('errno 0\n');
  expect(out.stdout).toContain('inside: read "inside-ok "');
  expect(out.stdout).toContain('rename race: opened 0, canaries 0');
  expect(out.stdout).toContain('map_files opened: some, canaries: 0');
  // the host gave stdin: the guest may read it, and nothing beside it
  expect(out.stdout).toContain('/proc/self/fd/0 (stdin, given by the host): read "STDIN-OK "');
  expect(out.stdout).toMatch(/\/proc\/self\/fd\/0\/\.\.\/secret: errno 20\n/);
}

const root = process.getuid?.() === 0;

describe.skipIf(!haveFixtures())('escape attempts', () => {
  for (const arch of ARCHES) {
    it(`${arch}: --sandbox with a --bind reaches nothing outside the bind`, () => {
      const s = scratch();
      const bound = join(s.base, 'bound');
      s.guestDir(bound);
      const before = treeHash(s.outside);
      const out = run(ELFRUN, ['run', '--sandbox', '--bind', `${bound}:/data`, fixture(arch, 'escape'), s.secret, '/data', String(process.pid)], s.stdin);
      expectContained(out);
      // host processes are not the guest's: no /proc/<host pid>
      expect(out.stdout).toContain('host pid\'s cmdline: errno 2\n');
      expect(out.stdout).toContain('stat canary: missing');
      expect(treeHash(s.outside)).toBe(before);
    });

    it.runIf(root)(`${arch}: --root reaches nothing outside its root, and answers as Linux's chroot`, () => {
      const s = scratch();
      const r = join(s.base, 'root');
      s.guestDir(join(r, 'data'));
      mkdirSync(join(r, 'bin'));
      copyFileSync(fixture(arch, 'escape'), join(r, 'bin', 'escape'));
      spawnSync('chmod', ['755', join(r, 'bin', 'escape')]);
      const before = treeHash(s.outside);
      const args = ['/bin/escape', s.secret, '/data', String(process.pid)];
      const out = run(ELFRUN, ['run', '--root', r, ...args], s.stdin);
      expectContained(out);
      expect(treeHash(s.outside)).toBe(before);
      if (arch === 'x86_64') {
        const want = run('unshare', ['-m', 'chroot', r, ...args], s.stdin);
        expect(want.status).toBe(0);
        expect(want.stdout).not.toContain(CANARY);
        const noProc = (text: string): string[] => text.split('\n').filter((l) => !/proc|fd 0|map_files|host pid/.test(l));
        expect(noProc(out.stdout)).toEqual(noProc(want.stdout));
        expect(noProc(want.stdout).length).toBeGreaterThan(40);
      }
    });
  }

  it('a host process that swaps a bound directory for a link to the outside mid-run gives the guest nothing outside', async () => {
    // the VFS looked the directory up a moment before (and keeps it for a while): the host call must still not follow the host's new link
    const s = scratch();
    const bound = join(s.base, 'bound');
    mkdirSync(join(bound, 'd'), { recursive: true });
    writeFileSync(join(bound, 'd', 'secret'), 'benign\n');
    const before = treeHash(s.outside);
    const loop = 'i=0; while [ $i -lt 2000 ]; do cat /data/d/secret; i=$((i+1)); done 2>/dev/null; echo done';
    const child = spawn(ELFRUN, ['run', '--sandbox', '--bind', `${bound}:/data`, fixture('x86_64', 'busybox'), 'sh', '-c', loop], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (b: Buffer) => (out += b.toString('latin1')));
    const exited = new Promise<number | null>((res) => child.on('exit', res));
    // swap once the guest has read the benign file through the directory
    for (let i = 0; i < 200 && !out.includes('benign'); i++) await new Promise((r) => setTimeout(r, 25));
    renameSync(join(bound, 'd'), join(s.base, 'old-d'));
    symlinkSync(s.outside, join(bound, 'd'));
    expect(await exited).toBe(0);
    expect(out).toContain('benign');
    expect(out).toContain('done');
    expect(out).not.toContain(CANARY);
    expect(treeHash(s.outside)).toBe(before);
  }, 120_000);
});

