// What the guest sees: --root against Linux's own chroot, escape attempts
// against --root and --sandbox, tmpfs against the host's tmpfs, read-only
// binds against a read-only bind mount, and /dev's devices.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, fixture, haveQemu, runElfrun, runLinux, type TestArch } from '../helpers/oracle.js';

const isRoot = process.getuid?.() === 0;
const canUnshare = isRoot && spawnSync('unshare', ['-m', 'true']).status === 0;
const APPLETS = ['sh', 'cat', 'ls', 'pwd', 'readlink', 'echo', 'ln', 'mkdir', 'rm', 'touch', 'stat', 'find', 'sort', 'test'];

let top = '';
const roots: Record<TestArch, string> = { x86_64: '', arm64: '' };
const SECRET = 'host-secret-7f3a';
let secretPath = '';

/** A small root file system: busybox, applet links, files and links that point out of it. */
function makeRoot(dir: string, arch: TestArch): void {
  for (const d of ['bin', 'etc', 'tmp', 'proc', 'home/u']) mkdirSync(join(dir, d), { recursive: true });
  copyFileSync(fixture(arch, 'busybox'), join(dir, 'bin/busybox'));
  spawnSync('chmod', ['755', join(dir, 'bin/busybox')]);
  for (const a of APPLETS) symlinkSync('busybox', join(dir, 'bin', a));
  writeFileSync(join(dir, 'etc/f'), 'inside the root\n');
  symlinkSync('/etc/f', join(dir, 'abs'));
  symlinkSync('../../../../../../../etc/f', join(dir, 'home/u/rel'));
  symlinkSync(secretPath, join(dir, 'hostabs'));
  symlinkSync('loop2', join(dir, 'loop1'));
  symlinkSync('loop1', join(dir, 'loop2'));
}

beforeAll(() => {
  top = mkdtempSync(join(tmpdir(), 'elfrun-mounts-'));
  secretPath = join(top, 'secret');
  writeFileSync(secretPath, SECRET + '\n');
  for (const arch of ARCHES) {
    roots[arch] = join(top, `root-${arch}`);
    makeRoot(roots[arch], arch);
  }
});
afterAll(() => rmSync(top, { recursive: true, force: true }));

// Paths that stay inside the root whatever they try: .. at /, absolute and
// relative links, and links to the host's own absolute paths.
const CHROOT_SCRIPT = [
  'cat /etc/f /abs /home/u/rel',
  'cat /../../../etc/f',
  'cd /../../..; pwd',
  'cd /home/u; cd ../../../..; pwd; ls',
  `cat ${'/hostabs'} 2>&1 || echo no-hostabs`,
  'cat /loop1 2>&1 || echo loop',
  'readlink /abs; readlink /home/u/rel',
  'ls -a /home/u',
  'find /etc /home -name "*" | sort',
].join('; ');

describe.skipIf(!canUnshare)('--root against Linux chroot', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: the same paths resolve the same way`, () => {
      const r = roots[arch];
      // Linux: a chroot with its own /proc (busybox re-executes itself through /proc/self/exe)
      const native = spawnSync('unshare', ['-m', 'sh', '-c', `mount -t proc proc ${roots.x86_64}/proc && chroot ${roots.x86_64} /bin/sh -c '${CHROOT_SCRIPT}'`], { encoding: 'latin1' });
      const ours = runElfrun('/bin/sh', ['-c', CHROOT_SCRIPT], { flags: ['--root', r] });
      expect(native.status).toBe(0);
      expect({ out: ours.stdout, err: ours.stderr, status: ours.status }).toEqual({ out: native.stdout, err: native.stderr, status: native.status });
      expect(ours.stdout).not.toContain(SECRET);
    });
  }
});

describe('no way out of --root or --sandbox', () => {
  // Every route Linux offers out of a directory tree; none may show the host's secret.
  const attempts = [
    `cat ${'/..'.repeat(20)}${'SECRET'}`,
    'cat /proc/self/root/../../SECRET',
    'cd /proc/self/cwd/../../../..; pwd; cat ./SECRET',
    'cat /proc/1/root/../SECRET',
    'exec 3</; cd /proc/self/fd/3/../..; pwd',
    'cat /proc/self/fd/3/../SECRET 3</',
    'ln -s /../../SECRETDIR /tmp/l && cat /tmp/l/secret',
    'cd /tmp && ln -s ../../../../../../../.. up && cat up/SECRETDIR/secret',
    'cat /dev/fd/0/../../SECRET < /',
  ];
  const script = (dir: string, secret: string): string =>
    attempts.map((a) => `(${a.replace(/SECRETDIR/g, dir.slice(1)).replace(/SECRET/g, secret.slice(1))}) 2>&1; echo "[$?]"`).join('; ');

  for (const arch of ARCHES) {
    it(`${arch}: --root`, () => {
      const r = runElfrun('/bin/sh', ['-c', script(top, secretPath)], { flags: ['--root', roots[arch]] });
      expect(r.stdout).not.toContain(SECRET);
      expect(r.stderr).toBe('');
      expect(r.stdout.match(/\[[1-9]\d*\]/g)?.length).toBeGreaterThanOrEqual(attempts.length - 2);
    });
    it(`${arch}: --sandbox`, () => {
      const bb = fixture(arch, 'busybox');
      const r = runElfrun(bb, ['sh', '-c', script(top, secretPath) + '; ls -a /; cat /etc/passwd'], { flags: ['--sandbox'] });
      expect(r.stdout).not.toContain(SECRET);
      expect(r.stderr).toContain("can't open '/etc/passwd'");
      expect(r.stdout.split('\n').filter((l) => /^(\.|\.\.|dev|proc|tmp|[a-z]+)$/.test(l))).toEqual(expect.arrayContaining(['dev', 'proc', 'tmp']));
    });
  }
});

/** Outcomes of a command, with the one legitimately different thing removed: inode numbers. */
function tmpfsScript(d: string): string {
  return [
    `cd ${d}`,
    'mkdir -p a/b/c; echo hello > a/f; ln a/f a/hard; ln -s f a/sym; mkfifo a/fifo',
    'dd if=/dev/zero of=sparse bs=1 count=1 seek=1048576 2>/dev/null; truncate -s 10M big',
    'stat -c "%n %F %s %b %h %a" . a a/b a/f a/hard a/sym a/fifo sparse big',
    'rmdir a 2>&1; mv a a/b/c/x 2>&1; ln a a2 2>&1; mkdir a 2>&1',
    'mv a/b/c c; mv c a/b; ls -a a a/b',
    'rm a/hard; stat -c "%n %h" a/f; rm -r a/b; stat -c "%n %s %h" a',
    'touch -d @1000000000 a/f; stat -c "%n %X %Y" a/f; echo more >> a/f; test $(stat -c %Y a/f) -gt 1000000000 && echo mtime-updated',
    'chmod 4755 a/f; stat -c "%a" a/f; chmod u-s,g+s a/f; stat -c "%a" a/f',
    'find . | sort; cat a/sym; du -s . a',
  ].join('; ');
}

describe.skipIf(!existsSync('/dev/shm'))('tmpfs against the host tmpfs (/dev/shm)', () => {
  const isTmpfs = spawnSync('stat', ['-f', '-c', '%T', '/dev/shm'], { encoding: 'latin1' }).stdout.trim() === 'tmpfs';
  for (const arch of ARCHES) {
    it.skipIf(!isTmpfs || (arch === 'arm64' && !haveQemu()))(`${arch}: same sizes, link counts, modes and errors`, () => {
      const d = `/dev/shm/elfrun-tmpfs-${arch}-${process.pid}`;
      const bb = fixture(arch, 'busybox');
      rmSync(d, { recursive: true, force: true });
      mkdirSync(d, { mode: 0o755 });
      let native;
      try {
        native = runLinux(arch, bb, ['sh', '-c', tmpfsScript(d)]);
      } finally {
        rmSync(d, { recursive: true, force: true });
      }
      const ours = runElfrun(bb, ['sh', '-c', `chmod 755 ${d}; ` + tmpfsScript(d)], { flags: ['--tmpfs', d] });
      expect(ours.stderr).toBe(native.stderr);
      expect(ours.stdout).toBe(native.stdout);
      expect(ours.status).toBe(native.status);
      expect(existsSync(d)).toBe(false); // nothing reached the host
    });
  }
});

describe.skipIf(!canUnshare)('--bind HOST:GUEST:ro against a read-only bind mount', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: EROFS where Linux gives it`, () => {
      const src = join(top, `ro-src-${arch}`);
      const dst = join(top, `ro-dst-${arch}`);
      mkdirSync(join(src, 'd'), { recursive: true });
      mkdirSync(dst, { recursive: true });
      writeFileSync(join(src, 'f'), 'data\n');
      const bb = fixture(arch, 'busybox');
      const script = `cd ${dst}; cat f; echo x > f; echo x > new; mkdir n; rm f; rmdir d; mv f g; ln -s f s; touch f; chmod 600 f; ln f h; cat f; test -w f && echo writable; stat -f -c %T . >/dev/null; echo end`;
      const q = arch === 'arm64' ? `qemu-aarch64 ${bb}` : bb;
      const native = spawnSync('unshare', ['-m', 'sh', '-c', `mount --bind -o ro ${src} ${dst} && ${q} sh -c '${script}'`], { encoding: 'latin1' });
      const ours = runElfrun(bb, ['sh', '-c', script], { flags: ['--bind', `${src}:${dst}:ro`] });
      expect({ out: ours.stdout, err: ours.stderr, status: ours.status }).toEqual({ out: native.stdout, err: native.stderr, status: native.status });
    });
  }
});

describe('/dev', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: null, zero, full, random, std links`, () => {
      const bb = fixture(arch, 'busybox');
      const script = [
        'head -c 20000 /dev/zero | wc -c',
        'head -c 100000 /dev/urandom | wc -c',
        'echo x > /dev/null; echo $?; cat /dev/null | wc -c',
        'echo x > /dev/full',
        'echo piped | cat /dev/stdin',
        'readlink /dev/stdin /dev/fd',
        'stat -c "%n %F %t %T %a" /dev/null /dev/zero /dev/full /dev/random /dev/urandom',
        'dd if=/dev/zero of=/dev/null bs=4096 count=10 2>&1 | head -1',
        'test -d /dev/shm && echo shm',
      ].join('; ');
      const native = runLinux(arch, bb, ['sh', '-c', script], { standardDev: true });
      const ours = runElfrun(bb, ['sh', '-c', script]);
      expect({ out: ours.stdout, err: ours.stderr, status: ours.status }).toEqual({ out: native.stdout, err: native.stderr, status: native.status });
    });
  }
});

describe('bad mount options', () => {
  it('one line and exit 1 for a missing --root, --bind source or --cwd', () => {
    const bb = fixture('x86_64', 'busybox');
    for (const flags of [['--root', '/no/such/dir'], ['--bind', '/no/such:/x'], ['--cwd', '/no/such'], ['--bind', 'relative']]) {
      const r = runElfrun(bb, ['true'], { flags });
      expect(r.status).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^elfrun: /);
    }
  });
});

describe('O_TMPFILE', () => {
  for (const arch of ARCHES) {
    it.skipIf(arch === 'arm64' && !haveQemu())(`${arch}: unnamed files on a host directory and on tmpfs, named by linkat`, () => {
      const d = join(top, `tmpfile-${arch}`);
      mkdirSync(d, { recursive: true });
      const prog = fixture(arch, 'tmpfile');
      const native = runLinux(arch, prog, [d]);
      expect(native.stdout).toContain('linkat: ok');
      for (const flags of [[], ['--tmpfs', d]]) {
        const ours = runElfrun(prog, [d], { flags });
        expect({ out: ours.stdout, err: ours.stderr, status: ours.status }).toEqual({ out: native.stdout, err: native.stderr, status: native.status });
      }
    });
  }
});
