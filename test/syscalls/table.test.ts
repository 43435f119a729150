// The syscall table itself (no Unicorn needed).
import { describe, expect, it } from 'vitest';
import { DEFS, assemble, buildTable, syscallTable } from '../../src/syscalls/table.js';
import { ARM64_SYSCALLS, X86_64_SYSCALLS } from '../../src/abi/numbers.js';
import { probe, supported } from '../../src/syscalls/handlers/util.js';
import { Args } from '../../src/cpu/args.js';
import { shapeOf } from '../../src/syscalls/signature.js';

describe('syscall table', () => {
  it('every handler names a real syscall of at least one arch', () => {
    const all = new Set([...Object.values(X86_64_SYSCALLS), ...Object.values(ARM64_SYSCALLS)]);
    for (const name of DEFS.keys()) expect(all.has(name), name).toBe(true);
  });

  it('partial entries say what they lack, probes who probes them', () => {
    for (const [name, d] of DEFS) if (d.status === 'partial' || d.status === 'probe') expect(d.note, name).toBeTruthy();
  });

  it('a name declared twice, in two modules, is an error', () => {
    const a = { getpid: supported([], () => 1) };
    const b = { getppid: supported([], () => 0), getpid: probe([], 'declared again') };
    expect(() => assemble([a, b])).toThrow('syscall getpid is declared twice');
    expect([...assemble([a, { getppid: b.getppid }]).keys()]).toEqual(['getpid', 'getppid']);
  });

  it('every implemented syscall (supported, partial, probe) has a trace signature', () => {
    const zero = new Args();
    for (const arch of ['x86_64', 'arm64'] as const) {
      for (const e of syscallTable(arch).entries) {
        if (e.status === 'absent') {
          expect(e.sig, e.name).toBeNull();
          continue;
        }
        expect(e.sig, `${arch} ${e.name}`).not.toBeNull();
        // at most six arguments, each from one of the six registers
        const shape = shapeOf(e.sig!, zero, arch);
        expect(shape.args.length, e.name).toBeLessThanOrEqual(6);
        for (const spec of shape.args) if (typeof spec !== 'string') expect(spec[1], e.name).toBeLessThan(6);
      }
    }
  });

  it('a syscall with no declaration is absent from the table built from the declarations', () => {
    const t = buildTable('x86_64', { 39: 'getpid', 110: 'getppid' }, assemble([{ getpid: supported([], () => 1) }]));
    expect(t.byNr[39]).toMatchObject({ name: 'getpid', status: 'supported', note: '' });
    expect(t.byNr[110]).toMatchObject({ name: 'getppid', status: 'absent', handler: null, sig: null });
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
