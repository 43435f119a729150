// seccomp: the seccomp fixture (strict mode, every filter action, stacked
// filters and their precedence, SECCOMP_RET_TRAP's siginfo and ucontext,
// arch and argument checks, inheritance over fork and execve,
// /proc/self/status, the checks of seccomp(2)) under elfrun against the
// native x86_64 run. qemu-aarch64 gives its guests no seccomp (its prctl
// refuses PR_SET_SECCOMP with EINVAL and seccomp(2) is ENOSYS there), so the
// arm64 build is held to the native x86_64 run too: the fixture prints
// nothing that differs between the arches (numbers, not libc's wording).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ARCHES, ELFRUN, fixture, haveFixtures, runElfrun, runLinux } from '../helpers/oracle.js';

/** strace -f's lines with each call another task interrupted (unfinished, then resumed) joined again */
function joined(s: string): string[] {
  const open = new Map<string, string>();
  const out: string[] = [];
  for (const line of s.split('\n')) {
    const m = /^(?:\[pid +(\d+)\] )?(.*)$/.exec(line)!;
    const pid = m[1] ?? '', text = m[2];
    const u = /^(.*) <unfinished \.\.\.>$/.exec(text);
    const r = /^<\.\.\. \w+ resumed>(.*)$/.exec(text);
    if (u) open.set(pid, u[1]);
    else if (r && open.has(pid)) {
      out.push(open.get(pid)! + r[1]);
      open.delete(pid);
    } else out.push(text);
  }
  return out;
}

/** the seccomp calls, SIGSYS signals and kills of a trace -f, without addresses and tids (TSYNC's result), sorted (children interleave) */
const seccompLines = (s: string): string[] =>
  joined(s)
    .map((l) => l.replace(/0x[0-9a-f]+/g, 'ADDR').replace(/ +/g, ' ').replace(/\) = [1-9]\d*$/, ') = TID'))
    .filter((l) => /seccomp\(|SECCOMP|SIGSYS \{|killed by/.test(l))
    .sort();

const root = process.getuid?.() === 0;

describe.skipIf(!haveFixtures() || !root)('seccomp fixture', () => {
  const want = runLinux('x86_64', fixture('x86_64', 'seccomp'), []);
  it('the native run covers every case', () => {
    expect(want.status).toBe(0);
    expect(want.stdout).toContain('strict: killed by signal 9');
    expect(want.stdout).toContain('SIGSYS code 1 errno 4660 syscall-is-getpriority 1 arch-ok 1 addr-set 1 return-reg-ok 1');
    expect(want.stdout).toContain('after exec Seccomp_filters:\t1');
  });
  for (const arch of ARCHES) {
    it(`${arch}: as native x86_64 Linux`, () => {
      const got = runElfrun(fixture(arch, 'seccomp'), []);
      expect(got.stderr).toBe('');
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(0);
    });
  }
  it('x86_64: traced as strace -f traces it (calls, SIGSYS siginfo, kills)', () => {
    const prog = fixture('x86_64', 'seccomp');
    const st = spawnSync('strace', ['-f', prog], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-f', prog], { encoding: 'latin1' });
    const want = seccompLines(st.stderr);
    expect(want.some((l) => l.includes('si_code=SYS_SECCOMP, si_errno=4660'))).toBe(true);
    expect(seccompLines(el.stderr)).toEqual(want);
  });
});

// file(1) (libmagic) as a real program. Upstream file sandboxes itself with
// seccomp; Debian 12's file 5.44 is built without it (strace shows no
// seccomp call), so this checks the program, not its sandbox.
describe.skipIf(!existsSync('/usr/bin/file'))('file(1)', () => {
  it('file /bin/ls prints what it prints natively', () => {
    const want = spawnSync('/usr/bin/file', ['/bin/ls'], { encoding: 'latin1' });
    const got = runElfrun('/usr/bin/file', ['/bin/ls']);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);
  });
});
