// elfrun-wide caps on the command line: --timeout (the whole guest tree is
// killed, exit 124 as coreutils timeout), --max-procs (fork fails with
// EAGAIN past it, as under a native RLIMIT_NPROC) and --max-fds (the guest's
// fs.nr_open). Every run is bounded in time.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ARCHES, ELFRUN, fixture, haveFixtures, linuxDev, runLinux } from '../helpers/oracle.js';

const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };
const run = (args: string[]) => spawnSync(ELFRUN, ['run', ...args], { env, encoding: 'utf8', timeout: 60_000 });
const root = process.getuid?.() === 0;
const haveSetpriv = spawnSync('setpriv', ['--version']).status === 0;

describe.skipIf(!haveFixtures())('elfrun-wide caps', () => {
  for (const arch of ARCHES) {
    it(`--timeout kills a busy tree and exits 124 (${arch})`, () => {
      const t0 = Date.now();
      // a child that sleeps and a parent that computes without syscalls: both must go
      const r = run(['--timeout', '1', fixture(arch, 'busybox'), 'sh', '-c', 'sleep 30 & while :; do :; done']);
      expect(r.status).toBe(124);
      expect(r.stderr).toBe('');
      expect(Date.now() - t0).toBeLessThan(20_000);
    });

    it.skipIf(!root || !haveSetpriv)(`--max-procs: fork fails as under Linux's RLIMIT_NPROC (${arch})`, () => {
      const script = 'for i in 1 2 3 4; do sleep 1 & done; wait; echo after';
      // Linux: a non-root user (nobody, with no other processes) limited to 3 tasks
      const [cmd, ...argv] = linuxDev(['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', 'prlimit', '--nproc=3', fixture('x86_64', 'busybox'), 'sh', '-c', script]);
      const want = spawnSync(cmd!, argv, {
        encoding: 'utf8',
        cwd: '/',
      });
      const got = run(['--max-procs', '3', '--cwd', '/', fixture(arch, 'busybox'), 'sh', '-c', script]);
      expect(got.stdout).toBe(want.stdout);
      expect(got.stderr).toBe(want.stderr);
      expect(got.status).toBe(want.status);
    });

    it(`--max-fds caps RLIMIT_NOFILE, which cannot be raised past it (${arch})`, () => {
      const r = run(['--max-fds', '20', fixture(arch, 'busybox'), 'sh', '-c', 'ulimit -n; ulimit -Hn; ulimit -n 15; ulimit -n; ulimit -n 30 2>/dev/null || echo refused']);
      expect(r.stdout).toBe('20\n20\n15\nrefused\n');
      expect(r.status).toBe(0);
    });
  }

  for (const arch of ARCHES) {
    it(`--max-memory: mmap, brk and fork fail with ENOMEM past the cap, and sysinfo and /proc/meminfo show it (${arch})`, () => {
      // asks for 4 GiB, touching every page, under a 1 GiB cap
      const r = run(['--max-memory', '1G', fixture(arch, 'eatmem'), '4096']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      // ENOMEM, in the words of the fixture's libc (glibc's or musl's)
      const enomem = '(?:Cannot allocate memory|Out of memory)';
      const m = new RegExp(`^mmap failed after (\\d+) MiB: ${enomem}\nsbrk 256M: ${enomem}\nfork: ${enomem}\ntotalram 1024 MiB\n$`).exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      // all but what the program itself already has (its data, stack) of the cap
      expect(Number(m![1])).toBeGreaterThanOrEqual(1024 - 128);
      expect(Number(m![1])).toBeLessThan(1024);
      // shared anonymous memory counts too (strict overcommit accounts it at mmap); a fork copies none of it
      const shared = run(['--max-memory', '1G', fixture(arch, 'eatmem'), '4096', 'shared']);
      const s = new RegExp(`^mmap failed after (\\d+) MiB: ${enomem}\nsbrk 256M: ${enomem}\ntotalram 1024 MiB\n$`).exec(shared.stdout);
      expect(s, shared.stdout).not.toBeNull();
      expect(Number(s![1])).toBeGreaterThanOrEqual(1024 - 128);
      expect(Number(s![1])).toBeLessThan(1024);
      const free = run(['--max-memory', '256M', fixture(arch, 'busybox'), 'sh', '-c', 'head -1 /proc/meminfo; free -m | sed -n 2p']);
      expect(free.stdout).toMatch(/^MemTotal: +262144 kB\nMem: +256 +\d+ +\d+ +0 +0 +\d+\n$/);
      // without the cap: as natively
      const native = runLinux(arch, fixture(arch, 'eatmem'), ['256']);
      expect(native.stdout).toMatch(/^mapped and touched 256 MiB\n/);
      expect(run([fixture(arch, 'eatmem'), '256']).stdout).toBe(native.stdout);
    });

    it(`--max-memory counts tmpfs and memfd data and System V segments (${arch})`, () => {
      // 512 MiB asked of each under a 256 MiB cap: written data, not holes, takes memory; truncation and removal give it back
      const r = run(['--max-memory', '256M', fixture(arch, 'shmemcap'), '512']);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const enomem = '(?:Cannot allocate memory|Out of memory)';
      const m = new RegExp(
        `^memfd: (\\d+) MiB written, then (?:short write|${enomem})\noverwrite at 0: ok\nsparse ftruncate 1T: ok\nfallocate 1024 MiB: ${enomem}\n` +
          `ftruncate 0: ok\nafter truncation: 64 MiB written\nshmget: (\\d+) MiB in segments, then ${enomem}\nshmget after removal: ok\n$`,
      ).exec(r.stdout);
      expect(m, r.stdout).not.toBeNull();
      // what the program has of its own (its buffer, stack) is the rest of the cap
      expect(Number(m![1])).toBeGreaterThanOrEqual(256 - 16);
      expect(Number(m![1])).toBeLessThan(256);
      expect(Number(m![2])).toBeGreaterThanOrEqual(256 - 64 - 16);
      // without the cap: as natively
      const native = runLinux(arch, fixture(arch, 'shmemcap'), ['256']);
      expect(native.stdout).toContain('memfd: 256 MiB written, then none\n');
      expect(run([fixture(arch, 'shmemcap'), '256']).stdout).toBe(native.stdout);
    });
  }

  it('a bad cap is one line and exit 1', () => {
    const r = run(['--max-memory', '12x', fixture('x86_64', 'busybox'), 'true']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('elfrun: --max-memory: not a size of at least 4K: 12x\n');
    for (const [opt, v] of [['--timeout', 'abc'], ['--max-procs', '0'], ['--max-fds', '2.5']]) {
      const r = run([opt, v, fixture('x86_64', 'busybox'), 'true']);
      expect(r.status).toBe(1);
      expect(r.stderr).toMatch(new RegExp(`^elfrun: ${opt}: not a positive [a-z]+: ${v.replace('.', '\\.')}\\n$`));
    }
  });
});
