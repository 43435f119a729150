// `elfrun run` on files it must refuse (missing, directory, not ELF, other
// machine, 32-bit, dynamic, truncated) and on busybox with damaged headers.
// Whatever the file, elfrun must end, say one line (`elfrun: ...`) when it
// refuses, and never show a JS stack trace or fail internally (exit 124).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ELFRUN, ROOT } from '../helpers/oracle.js';
import { EM_AARCH64, EM_RISCV, elf64, headersEnd, mutate, prng, segmentsEnd, truncated, type Edit } from '../helpers/elfgen.js';

interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

const TIMEOUT = 20_000;

function elfrun(args: string[]): Outcome {
  const r = spawnSync(ELFRUN, ['run', ...args], {
    cwd: ROOT,
    input: '',
    env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' },
    timeout: TIMEOUT,
    killSignal: 'SIGKILL',
  });
  const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT';
  if (r.error && !timedOut) throw r.error;
  return { status: r.status, signal: r.signal, stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), timedOut };
}

/** What a JS exception leaking onto stderr looks like. */
const STACK = /^\s+at |Error:|node:internal|\bat .*\.js:\d+|TypeError|RangeError|\n\s*\^/m;

const show = (what: string, o: Outcome): string =>
  `${what}: status=${o.status} signal=${o.signal} timedOut=${o.timedOut}\nstderr: ${JSON.stringify(o.stderr)}`;

/** elfrun refused the program: 126 or 127 and exactly one `elfrun: ` line. */
function expectRefused(what: string, o: Outcome, codes: number[] = [126, 127]): string {
  const ctx = show(what, o);
  expect(o.timedOut, ctx).toBe(false);
  expect(codes, ctx).toContain(o.status);
  expect(o.stderr, ctx).toMatch(/^elfrun: [^\n]*\n$/);
  expect(o.stderr, ctx).not.toMatch(STACK);
  expect(o.stdout, ctx).toBe('');
  return o.stderr.slice('elfrun: '.length, -1);
}

/**
 * The program may have been refused, run, or crashed; elfrun itself must not
 * have failed. (The guest may exit 127 too: glibc's static start-up does when
 * a damaged PT_GNU_RELRO makes its mprotect fail, natively as well.)
 */
function expectNoInternalError(what: string, o: Outcome): 'refused' | 'ran' {
  const ctx = show(what, o);
  expect(o.timedOut, ctx).toBe(false);
  expect(o.status, ctx).not.toBe(124);
  expect(o.stderr, ctx).not.toMatch(STACK);
  expect(o.stderr, ctx).not.toMatch(/FATAL ERROR|Native stack trace|Segmentation fault|Aborted/);
  if ((o.status === 126 || o.status === 127) && o.stderr.startsWith('elfrun: ')) {
    expectRefused(what, o);
    return 'refused';
  }
  return 'ran';
}

let dir = '';
const write = (name: string, data: Buffer | string, mode = 0o755): string => {
  const p = join(dir, name);
  writeFileSync(p, data);
  chmodSync(p, mode);
  return p;
};

const busybox = (arch: string): Buffer => readFileSync(join(ROOT, 'fixtures', arch, 'busybox'));

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'elfrun-badelf-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('refused programs', () => {
  it('a missing path: 127', () => {
    const p = join(dir, 'no-such-program');
    expect(expectRefused('missing', elfrun([p]), [127])).toBe(`${p}: No such file or directory`);
    expect(expectRefused('missing dir', elfrun([join(dir, 'nodir/prog')]), [127])).toMatch(/No such file or directory$/);
  });

  it('a name not in PATH: 127', () => {
    expect(expectRefused('not in PATH', elfrun(['elfrun-no-such-command-xyz']), [127])).toBe('elfrun-no-such-command-xyz: command not found');
  });

  it('a directory: 126', () => {
    mkdirSync(join(dir, 'subdir'), { recursive: true });
    expect(expectRefused('directory', elfrun([join(dir, 'subdir')]), [126])).toMatch(/cannot execute: is a directory$/);
  });

  it('a text file and an empty file: 126', () => {
    expect(expectRefused('text', elfrun([write('script.sh', '#!/bin/sh\necho hi\n')]), [126])).toMatch(/cannot execute: not an ELF file$/);
    expect(expectRefused('empty', elfrun([write('empty', '')]), [126])).toMatch(/cannot execute: not an ELF file$/);
  });

  it('a RISC-V ELF: 126, naming the machine', () => {
    expect(expectRefused('riscv', elfrun([write('riscv', elf64({ machine: EM_RISCV }))]), [126])).toMatch(
      /cannot execute: ELF for RISC-V is not supported/,
    );
  });

  it('a 32-bit ELF: 126', () => {
    expect(expectRefused('elf32', elfrun([write('elf32', elf64({ class: 1 }))]), [126])).toMatch(/cannot execute: 32-bit ELF is not supported/);
  });

  it('a big-endian ELF: 126', () => {
    expect(expectRefused('msb', elfrun([write('msb', elf64({ data: 2 }))]), [126])).toMatch(/big-endian/);
  });

  it('a dynamic program whose interpreter is missing: 126, naming the interpreter', () => {
    expect(expectRefused('interp', elfrun([write('dyn', elf64({ interp: '/lib/ld-elfrun-missing.so.1' }))]), [126])).toMatch(
      /cannot execute: interpreter \/lib\/ld-elfrun-missing\.so\.1: No such file or directory$/,
    );
  });

  it('a dynamic program whose interpreter is not an ELF file: 126', () => {
    const notElf = write('not-ld.so', Buffer.from('#!/bin/sh\n'));
    expect(expectRefused('bad interp', elfrun([write('dyn2', elf64({ interp: notElf }))]), [126])).toMatch(/cannot execute: interpreter .*not-ld\.so/);
  });

  it('an entry point above the user address space: 126', () => {
    expect(expectRefused('entry', elfrun([write('entry', elf64({ entry: 0x7ffffffff000 }))]), [126])).toMatch(/entry point/);
  });
});

// A program the loader parses but cannot lay out, exec'd by a guest (fixture
// elfexec): Linux finds that past execve's point of no return and kills the
// process with SIGSEGV; elfrun failed internally (exit 124) until it did so
// too. The ELF fuzzer's batches found it (their programs are exec'd by a guest).
describe('execve of a program that cannot be laid out', () => {
  const bad: Array<[string, (machine: number | undefined) => Buffer]> = [
    ['an entry point above the user address space', (machine) => elf64({ machine, entry: 0x7ffffffff000 })],
  ];
  for (const [what, make] of bad)
    for (const [arch, machine] of [['x86_64', undefined], ['arm64', EM_AARCH64]] as const)
      it(`${arch}: ${what}: SIGSEGV, as natively`, () => {
        const p = write(`unlaid-${arch}-${what.length}`, make(machine));
        const o = elfrun([join(ROOT, 'fixtures', arch, 'elfexec'), p]);
        expectNoInternalError(what, o);
        expect(o.stdout).toBe('1 signal 11\n');
        if (arch === 'x86_64' && process.arch === 'x64') {
          const native = spawnSync(join(ROOT, 'fixtures', arch, 'elfexec'), [p], { timeout: TIMEOUT });
          expect(native.stdout.toString()).toBe(o.stdout);
        }
      });
});

describe('synthetic programs that are fine', () => {
  it.each([
    ['x86_64', undefined],
    ['arm64', EM_AARCH64],
  ])('exit(42) on %s', (_arch, machine) => {
    const o = elfrun([write(`exit42-${_arch}`, elf64({ machine }))]);
    expect(o.status, show('exit42', o)).toBe(42);
    expect(o.stderr).toBe('');
  });

  // elfrun checks a program from its first 64 KiB, then the whole file when
  // the headers lie further in: such a file runs natively, and must here too
  it.runIf(process.arch === 'x64')('program headers past the first 64 KiB, as natively', () => {
    const path = write('far-phdrs', elf64({ phoff: 0x12000 }));
    const native = spawnSync(path, [], { timeout: TIMEOUT });
    const o = elfrun([path]);
    expect(o.status, show('far-phdrs', o)).toBe(native.status);
    expect(o.stderr).toBe('');
  });
});

describe('truncated busybox', () => {
  const f = busybox('x86_64');
  const segEnd = segmentsEnd(f); // after this, only section headers are cut: still runs
  const hdrEnd = headersEnd(f);
  const cuts = [
    ...[0, 1, 3, 4, 5, 15, 16, 17, 30, 55, 63], // ELF header
    ...[64, 65, 100, 64 + 56 * 3 + 20, hdrEnd - 1], // program headers
    ...[hdrEnd, 0x6df, 0x1000, 0x1234, 0xfffff, 0x184000, 0x185001, 0x1a0000, 0x1da707, 0x1dc000, segEnd - 1], // segments
    ...[segEnd, segEnd + 1, f.length - 100, f.length - 1], // section data/headers only
  ];

  it('has ~30 cut points spread over the file', () => {
    expect(cuts.length).toBeGreaterThanOrEqual(30);
  });

  it.each(cuts)('cut at %i', (n) => {
    const p = write(`trunc-${n}`, truncated(f, n));
    const o = elfrun(['--argv0', 'busybox', p, 'echo', 'ok']);
    if (n < segEnd) {
      const msg = expectRefused(`cut at ${n}`, o, [126]);
      expect(msg).toMatch(n < 4 ? /not an ELF file/ : /truncated ELF file/);
    } else {
      expect(o.status, show(`cut at ${n}`, o)).toBe(0);
      expect(o.stdout).toBe('ok\n');
    }
  });

  it.each([0x30, 0x100, 0x1b0000, 0x1c2000])('arm64 busybox cut at %i', (n) => {
    const p = write(`trunc-arm64-${n}`, truncated(busybox('arm64'), n));
    expect(expectRefused(`arm64 cut at ${n}`, elfrun([p]), [126])).toMatch(/truncated ELF file/);
  });
});

describe('busybox with random damage to its ELF and program headers', () => {
  /** Seeded: the same 1-3 byte changes every run. */
  function damage(file: Buffer, seed: number): { edits: Edit[]; text: string } {
    const r = prng(seed);
    const end = headersEnd(file);
    const edits: Edit[] = [];
    const n = 1 + r.int(3);
    for (let i = 0; i < n; i++) {
      const offset = r.int(end);
      const old = file[offset];
      const kind = r.int(4);
      const v = kind === 0 ? r.byte() : kind === 1 ? old ^ (1 << r.int(8)) : kind === 2 ? [0, 0xff, 0x80, 0x7f, 1][r.int(5)] : old + 1 - 2 * r.int(2);
      edits.push({ offset, bytes: [v & 0xff] });
    }
    return { edits, text: edits.map((e) => `[${e.offset}]=0x${(e.bytes as number[])[0].toString(16)}`).join(' ') };
  }

  const cases: Array<[string, number]> = [
    ...Array.from({ length: 50 }, (_, i): [string, number] => ['x86_64', 1000 + i]),
    ...Array.from({ length: 12 }, (_, i): [string, number] => ['arm64', 2000 + i]),
  ];

  const seen = { refused: 0, ran: 0, ok: 0 };

  it.each(cases)('%s seed %i', (arch, seed) => {
    const f = busybox(arch);
    const { edits, text } = damage(f, seed);
    const p = write(`mut-${arch}-${seed}`, mutate(f, { writes: edits }));
    const o = elfrun(['--argv0', 'busybox', p, 'echo', 'ok']);
    seen[expectNoInternalError(`${arch} seed ${seed}: ${text}`, o)]++;
    if (o.status === 0 && o.stdout === 'ok\n') seen.ok++;
  });

  it('exercised both refusals and runs', () => {
    // with these seeds: about a quarter refused, most of the rest run normally
    expect(seen.refused).toBeGreaterThan(5);
    expect(seen.ran).toBeGreaterThan(20);
    expect(seen.ok).toBeGreaterThan(10);
  });
});
