// prctl(2): the prctl fixture (every Linux 6.x option: values, effects, the
// errno of the argument checks; capabilities across setuid, subreapers and
// parent-death signals in fork trees, MDWE on mmap/mprotect, PR_SET_MM on
// /proc/self/cmdline, PR_GET_AUXV, syscall user dispatch's SIGSYS) against
// the native run. arm64: qemu-aarch64 7.2 answers most prctls itself
// (EINVAL for what it does not know: PR_GET_TID_ADDRESS, PR_SET_MDWE,
// PR_SET_CHILD_SUBREAPER..., or its own SVE/SME/PAC/MTE CPU's values), so
// it is the oracle only for the capability section; the arch-neutral rest
// is held to the native x86_64 run, and the arm64-only answers to the
// kernel's arm64 code for the CPU the engine models (a Cortex-A72: no SVE,
// SME, PAC, MTE; arm64 has no GENERIC_ENTRY, hence no syscall user
// dispatch; AT_VECTOR_SIZE_ARCH 2). The x86_64 trace is held to strace -f's.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { ELFRUN, fixture, haveFixtures, haveQemu, runElfrun, runLinux } from '../helpers/oracle.js';

const root = process.getuid?.() === 0;
/** the program's own path (argv[0], in cmdline) differs by arch */
const neutral = (s: string): string => s.replace(/\/fixtures\/(x86_64|arm64)\//g, '/fixtures/ARCH/');

/** Lines of a section ("== name" up to the next one). */
function section(out: string, name: string): string[] {
  const lines = out.split('\n');
  const i = lines.indexOf(`== ${name}`);
  if (i < 0) return [];
  const j = lines.findIndex((l, k) => k > i && l.startsWith('== '));
  return lines.slice(i + 1, j < 0 ? undefined : j);
}

// What arm64 Linux answers where x86_64's differs (arch/arm64: sve_set_current_vl and sme_*: EINVAL
// without SVE/SME; set_tagged_addr_ctrl: only PR_TAGGED_ADDR_ENABLE without MTE; ssbd_prctl_get:
// PR_SPEC_ENABLE for a vulnerable CPU, ENODEV for other features; ssbd_prctl_set: ERANGE for an
// unknown control; saved_auxv: 2*(2+24+1) longs; set_syscall_user_dispatch: the !GENERIC_ENTRY stub).
const ARM64_ONLY: Record<string, string> = {
  'GET_TAGGED_ADDR_CTRL': '0',
  'SET_TAGGED_ADDR_CTRL MTE_TCF_SYNC': '-1 EINVAL',
  'SET_TAGGED_ADDR_CTRL 1': '0',
  'GET_TAGGED_ADDR_CTRL#2': '1',
  'SET_TAGGED_ADDR_CTRL 0': '0',
  'GET_TAGGED_ADDR_CTRL arg': '-1 EINVAL',
  'GET_SPECULATION_CTRL STORE_BYPASS': '2',
  'GET_SPECULATION_CTRL INDIRECT_BRANCH': '-1 No such device',
  'SET_SPECULATION_CTRL bad ctrl': '-1 ERANGE',
  'GET_AUXV': '432',
  'GET_AUXV short buffer': '432',
  'GET_AUXV no buffer': '432',
  'SET_SYSCALL_USER_DISPATCH ON': '-1 EINVAL',
  'SET_SYSCALL_USER_DISPATCH OFF': '-1 EINVAL',
};

describe.skipIf(!haveFixtures() || !root)('prctl fixture', () => {
  it('x86_64: as Linux', () => {
    const prog = fixture('x86_64', 'prctl');
    const want = runLinux('x86_64', prog, []);
    expect(want.stdout).toContain("orphan's parent is the subreaper: yes");
    const got = runElfrun(prog, []);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);
  });

  it.skipIf(!haveQemu())('arm64: the capability section as qemu-aarch64', () => {
    const prog = fixture('arm64', 'prctl');
    const want = runLinux('arm64', prog, ['caps']);
    expect(want.stdout).toContain('CapAmb: 0000000000003000');
    const got = runElfrun(prog, ['caps']);
    expect(got.stderr).toBe('');
    expect(got.stdout).toBe(want.stdout);
  });

  it("arm64: the arch-neutral answers as x86_64's native run, the arm64 ones as arm64's kernel code", () => {
    const native = runLinux('x86_64', fixture('x86_64', 'prctl'), []).stdout;
    const got = runElfrun(fixture('arm64', 'prctl'), []);
    expect(got.stderr).toBe('');
    const seen = new Map<string, number>();
    const key = (l: string): string => {
      const k = l.split(' = ')[0];
      const n = (seen.get(k) ?? 0) + 1;
      seen.set(k, n);
      return n > 1 ? `${k}#${n}` : k;
    };
    const arm = (out: string): string[] => {
      seen.clear();
      return out.split('\n').map((l) => {
        const k = key(l);
        return k in ARM64_ONLY && l.includes(' = ') ? `${l.split(' = ')[0]} = ${ARM64_ONLY[k]}` : l;
      });
    };
    // user dispatch never traps on arm64: the blocked close runs (EBADF), as without dispatch
    const want = arm(neutral(native)).map((l) => (l.startsWith('blocked close:') ? 'blocked close: SIGSYS no, si_code 0, si_syscall is close: no, si_errno 0, returned something else' : l));
    expect(neutral(got.stdout).split('\n')).toEqual(want);
    expect(section(got.stdout, 'dispatch')).toContain('close after OFF = -1 EBADF');
  });

  it.skipIf(spawnSync('strace', ['-V']).status !== 0)('x86_64: traced as strace -f traces it', () => {
    const prog = fixture('x86_64', 'prctl');
    // addresses (stack, heap, mappings) differ from run to run; the order of lines between processes too
    const calls = (s: string): string[] =>
      s.split('\n').map((l) => l.replace(/^\[pid +\d+\] /, '').replace(/0x[0-9a-f]{6,}/g, 'ADDR').replace(/ +/g, ' ')).filter((l) => l.startsWith('prctl(')).sort();
    const st = spawnSync('strace', ['-f', '-e', 'trace=prctl', prog], { encoding: 'latin1' });
    const el = spawnSync(ELFRUN, ['trace', '-f', '-e', 'trace=prctl', prog], { encoding: 'latin1' });
    const want = calls(st.stderr);
    expect(want.length).toBeGreaterThan(150);
    expect(calls(el.stderr)).toEqual(want);
  });
});
