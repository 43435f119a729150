// The syscall table itself (no Unicorn needed).
import { describe, expect, it } from 'vitest';
import { DEFS, PROBES, syscallTable } from '../../src/syscalls/table.js';
import { ARM64_SYSCALLS, X86_64_SYSCALLS } from '../../src/abi/numbers.js';

describe('syscall table', () => {
  it('every handler names a real syscall of at least one arch', () => {
    const all = new Set([...Object.values(X86_64_SYSCALLS), ...Object.values(ARM64_SYSCALLS)]);
    for (const name of [...Object.keys(DEFS), ...Object.keys(PROBES)]) expect(all.has(name), name).toBe(true);
  });

  it('partial entries say what they lack', () => {
    for (const [name, d] of Object.entries(DEFS)) if (d.status === 'partial') expect(d.note, name).toBeTruthy();
  });

  it('uses the asm-generic table on arm64 (no open, stat, fork...)', () => {
    const arm = syscallTable('arm64');
    const names = new Set(arm.entries.map((e) => e.name));
    for (const n of ['open', 'stat', 'lstat', 'fork', 'pipe', 'dup2', 'access', 'arch_prctl']) expect(names.has(n), n).toBe(false);
    expect(arm.byNr[56]?.name).toBe('openat');
    expect(arm.byNr[79]?.name).toBe('newfstatat');
    expect(arm.byNr[222]?.name).toBe('mmap');
  });

  it('x86_64 numbers are Linux\'s', () => {
    const x = syscallTable('x86_64');
    expect(x.byNr[0]?.name).toBe('read');
    expect(x.byNr[2]?.name).toBe('open');
    expect(x.byNr[59]?.name).toBe('execve');
    expect(x.byNr[231]?.name).toBe('exit_group');
    expect(x.byNr[262]?.name).toBe('newfstatat');
  });

  it('absent syscalls have no handler, probes answer ENOSYS', () => {
    const x = syscallTable('x86_64');
    const kexec = x.byNr[246]!;
    expect(kexec.status).toBe('absent');
    expect(kexec.handler).toBeNull();
    const rseq = x.byNr[334]!;
    expect(rseq.status).toBe('probe');
  });
});
