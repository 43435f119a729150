// npm run fuzz [-- --arch x86_64|arm64] [--calls N] [--elf N] [--seed S] [--jobs J]
//
// Hostile guests, in bulk. Two fuzzers, both run against bin/elfrun:
//  - syscalls: fixtures/<arch>/sysfuzz (our own fixture) makes random calls
//    with random arguments in children a watchdog restarts, under
//    --on-missing=enosys, until N calls per arch have been made;
//  - elf: busybox with 1-3 random bytes changed in its ELF and program
//    headers, N files per arch, each run as `busybox echo ok`: ELF_BATCH at
//    a time through execve in one guest (fixtures/<arch>/elfexec, our own),
//    which costs a fork and an exec each instead of a new elfrun; a batch
//    whose elfrun misbehaves, or a file that hangs there, is run again on
//    its own, each file by `elfrun run`, to tell which one and why.
// elfrun must never fail itself: no exit 124 (its internal-error status), no
// JS stack or engine notice on stderr, no hang past the time limit. A guest
// may crash or be refused: that is the guest's business. Every failure is
// printed with what reproduces it, and the exit status is 1 if there was any.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The checkout: this file runs from scripts/ (tests) or from dist/scripts/ (npm run fuzz). */
function checkout(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}
const ROOT = checkout();
const ELFRUN = join(ROOT, 'bin', 'elfrun');
export type FuzzArch = 'x86_64' | 'arm64';

/** What a JS exception or an engine notice leaking onto stderr looks like. */
export const INTERNAL = /^\s+at |Error:|node:internal|\bat .*\.js:\d+|TypeError|RangeError|FATAL ERROR|Native stack trace|elfrun: internal/m;

export interface Outcome {
  status: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** One elfrun run, killed at `limitMs`. */
export function runElfrun(args: string[], limitMs: number): Promise<Outcome> {
  return new Promise((done) => {
    const p = spawn(ELFRUN, ['run', ...args], { cwd: ROOT, env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.stdout.on('data', (b: Buffer) => out.push(b));
    p.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      p.kill('SIGKILL');
    }, limitMs);
    p.on('error', (e) => {
      clearTimeout(timer);
      done({ status: null, signal: null, stdout: '', stderr: `cannot start ${ELFRUN}: ${e.message}`, timedOut: false });
    });
    p.on('close', (status, signal) => {
      clearTimeout(timer);
      done({ status, signal, stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1'), timedOut });
    });
  });
}

/** Why an outcome is elfrun's own failure, or null when elfrun behaved. */
export function internalFailure(o: Outcome): string | null {
  if (o.timedOut) return 'hung past the time limit';
  if (o.status === 124) return 'exit status 124 (internal error)';
  if (INTERNAL.test(o.stderr)) return `internal output on stderr: ${JSON.stringify(o.stderr.slice(0, 400))}`;
  return null;
}

export const SYSFUZZ_CHILDREN = 20;
export const SYSFUZZ_COUNT = 500;

/** One sysfuzz run: SYSFUZZ_CHILDREN children of SYSFUZZ_COUNT calls; null, or what went wrong. */
export async function sysfuzzSeed(arch: FuzzArch, seed: number): Promise<string | null> {
  // in a sandbox: the random calls create, rename and remove files, which must not touch the host's
  const args = ['--sandbox', '--on-missing=enosys', join(ROOT, 'fixtures', arch, 'sysfuzz'), String(seed), String(SYSFUZZ_CHILDREN), String(SYSFUZZ_COUNT)];
  // the fixture's own watchdog kills a child after 10 s, so a whole run ends well within this
  const o = await runElfrun(args, 120_000);
  const why = internalFailure(o);
  if (why !== null) return why;
  if (o.status !== 0) return `exit status ${o.status}, stderr ${JSON.stringify(o.stderr.slice(0, 400))}`;
  const want = `${SYSFUZZ_CHILDREN} of ${SYSFUZZ_CHILDREN} children ended\n`;
  if (o.stdout !== want) return `stdout ${JSON.stringify(o.stdout.slice(-400))}`;
  if (o.stderr !== '') return `stderr ${JSON.stringify(o.stderr.slice(0, 400))}`;
  return null;
}

/** xorshift, seeded: the same damage for the same seed. */
function prng(seed: number): { int(n: number): number } {
  let s = (seed * 2654435761) >>> 0 || 1;
  return {
    int(n: number): number {
      s ^= s << 13;
      s >>>= 0;
      s ^= s >>> 17;
      s ^= s << 5;
      s >>>= 0;
      return s % n;
    },
  };
}

/** busybox with 1-3 bytes of its ELF header and program headers changed. */
export function damagedElf(file: Buffer, seed: number): Buffer {
  const r = prng(seed);
  const end = 64 + file.readUInt16LE(56) * file.readUInt16LE(54);
  const b = Buffer.from(file);
  for (let i = 1 + r.int(3); i > 0; i--) {
    const at = r.int(end);
    const kind = r.int(4);
    b[at] = kind === 0 ? r.int(256) : kind === 1 ? b[at]! ^ (1 << r.int(8)) : kind === 2 ? [0, 0xff, 0x80, 0x7f, 1][r.int(5)]! : b[at]! + 1 - 2 * r.int(2);
  }
  return b;
}

/** Does the program (run as `busybox echo ok`) also run past `limitMs` natively (x86_64) or under qemu-aarch64? */
function hangsNatively(arch: FuzzArch, path: string, limitMs: number): Promise<boolean> {
  return new Promise((done) => {
    const p =
      arch === 'x86_64'
        ? spawn(path, ['echo', 'ok'], { argv0: 'busybox', stdio: 'ignore' })
        : spawn('qemu-aarch64', ['-0', 'busybox', path, 'echo', 'ok'], { stdio: 'ignore' });
    const timer = setTimeout(() => {
      p.kill('SIGKILL');
      done(true);
    }, limitMs);
    p.on('error', () => {
      clearTimeout(timer);
      done(false);
    });
    p.on('close', () => {
      clearTimeout(timer);
      done(false);
    });
  });
}

/** damaged files run by one elfrun (fixtures/<arch>/elfexec) */
export const ELF_BATCH = 250;

export interface ElfTally {
  failed: number;
  refused: number;
  ok: number;
  other: number;
  hangs: number;
}

/**
 * One damaged file on its own through `elfrun run` (and natively, if it
 * hangs): counted in `seen`; what went wrong, or null.
 */
async function elfAlone(arch: FuzzArch, path: string, seen: ElfTally): Promise<string | null> {
  let o = await runElfrun(['--argv0', 'busybox', path, 'echo', 'ok'], 30_000);
  if (o.timedOut) {
    // a program that computes for long natively too (qemu-aarch64 runs at
    // elfrun's speed): it is given that time and more, for a loaded machine
    const t0 = Date.now();
    if (!(await hangsNatively(arch, path, 120_000))) o = await runElfrun(['--argv0', 'busybox', path, 'echo', 'ok'], 60_000 + 5 * (Date.now() - t0));
  }
  const why = internalFailure(o);
  // a damaged program may loop forever natively too: then the hang is the guest's
  if (o.timedOut && (await hangsNatively(arch, path, 30_000))) seen.hangs++;
  else if (why !== null) {
    seen.failed++;
    return why;
  } else if ((o.status === 126 || o.status === 127) && /^elfrun: [^\n]*\n$/.test(o.stderr)) seen.refused++;
  else if (o.status === 0 && o.stdout === 'ok\n') seen.ok++;
  else seen.other++;
  return null;
}

/**
 * Damaged files `paths` run in one guest by elfexec; each counted in `seen`.
 * Returns the failures: [path, why]. When elfrun itself fails in a batch,
 * the first file elfexec did not report is the one it was running: it is run
 * again alone in elfexec to confirm it, then the batch goes on after it. A
 * file that hung in the guest is run on its own too (elfAlone), which tells
 * a hang of elfrun's from a program that hangs natively as well.
 */
export async function elfBatch(arch: FuzzArch, paths: string[], seen: ElfTally): Promise<Array<[string, string]>> {
  const bad: Array<[string, string]> = [];
  const exec = join(ROOT, 'fixtures', arch, 'elfexec');
  for (let from = 0; from < paths.length; ) {
    const batch = paths.slice(from);
    // elfexec's own watchdog ends a hung program after 20 s
    const o = await runElfrun([exec, ...batch], 60_000 + 25_000 * 4);
    const lines = o.stdout.split('\n').filter((l) => l !== '');
    for (const [i, line] of lines.entries()) {
      if (i >= batch.length) break;
      const path = batch[i]!;
      const [n, what] = line.split(' ');
      if (Number(n) !== i + 1) bad.push([path, `elfexec reported ${JSON.stringify(line)} for file ${i + 1}`]);
      else if (what === 'exec') seen.refused++;
      else if (line.endsWith(' exit 0')) seen.ok++;
      else if (what === 'hung') {
        const why = await elfAlone(arch, path, seen);
        if (why !== null) bad.push([path, why]);
      } else seen.other++;
    }
    from += lines.length;
    const why = internalFailure(o) ?? (o.status !== 0 ? `exit status ${o.status}` : o.stderr !== '' ? `stderr ${JSON.stringify(o.stderr.slice(0, 400))}` : null);
    if (why === null && lines.length === batch.length) break;
    if (from >= paths.length) {
      bad.push([paths[paths.length - 1]!, `after the last file: ${why ?? 'no report'}`]);
      break;
    }
    // the file elfrun was running when it failed
    const culprit = paths[from]!;
    const alone = await runElfrun([exec, culprit], 60_000);
    seen.failed++;
    bad.push([culprit, internalFailure(alone) ?? `in a batch: ${why ?? 'no report'}; alone: exit ${alone.status}, ${JSON.stringify(alone.stdout + alone.stderr)}`]);
    from++;
  }
  return bad;
}

/** Runs `n` tasks, `jobs` at a time. */
async function pool(n: number, jobs: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(jobs, n) }, async () => {
    while (next < n) await task(next++);
  }));
}

async function main(): Promise<number> {
  const argv = process.argv.slice(2);
  const opt = (name: string, dflt: string): string => {
    const i = argv.indexOf(name);
    return i < 0 ? dflt : argv[i + 1] ?? dflt;
  };
  const num = (name: string, dflt: number): number => {
    const v = Number(opt(name, String(dflt)));
    if (!Number.isInteger(v) || v < 0) {
      process.stderr.write(`fuzz: ${name}: not a count: ${opt(name, '')}\n`);
      process.exit(2);
    }
    return v;
  };
  const arches = opt('--arch', 'x86_64,arm64').split(',') as FuzzArch[];
  const calls = num('--calls', 1_000_000);
  const elfs = num('--elf', 100_000);
  const seed0 = num('--seed', 1);
  const jobs = num('--jobs', 2) || 1;
  let failures = 0;
  const dir = mkdtempSync(join(tmpdir(), 'elfrun-fuzz-'));
  try {
    for (const arch of arches) {
      const runs = Math.ceil(calls / (SYSFUZZ_CHILDREN * SYSFUZZ_COUNT));
      const t0 = Date.now();
      let bad = 0;
      await pool(runs, jobs, async (i) => {
        const seed = seed0 + i;
        const why = await sysfuzzSeed(arch, seed);
        if (why !== null) {
          bad++;
          console.log(`syscalls ${arch} seed ${seed}: ${why}\n  reproduce: bin/elfrun run --sandbox --on-missing=enosys fixtures/${arch}/sysfuzz ${seed} ${SYSFUZZ_CHILDREN} ${SYSFUZZ_COUNT}`);
        }
      });
      console.log(`syscalls ${arch}: ${runs * SYSFUZZ_CHILDREN * SYSFUZZ_COUNT} calls at most (seeds ${seed0}..${seed0 + runs - 1}), ${bad} failing seeds, ${((Date.now() - t0) / 1000).toFixed(0)} s`);
      failures += bad;

      const busybox = readFileSync(join(ROOT, 'fixtures', arch, 'busybox'));
      const t1 = Date.now();
      const seen: ElfTally = { failed: 0, refused: 0, ok: 0, other: 0, hangs: 0 };
      let elfBad = 0;
      await pool(Math.ceil(elfs / ELF_BATCH), jobs, async (b) => {
        const paths: string[] = [];
        for (let i = b * ELF_BATCH; i < Math.min(elfs, (b + 1) * ELF_BATCH); i++) {
          const path = join(dir, `${arch}-${seed0 + i}`);
          writeFileSync(path, damagedElf(busybox, seed0 + i));
          chmodSync(path, 0o755);
          paths.push(path);
        }
        for (const [path, why] of await elfBatch(arch, paths, seen)) {
          elfBad++;
          const keep = join(dir, `keep-${path.slice(dir.length + 1)}`);
          writeFileSync(keep, readFileSync(path));
          console.log(`elf ${arch} seed ${path.slice(path.lastIndexOf('-') + 1)}: ${why}\n  file kept: ${keep}`);
        }
        for (const path of paths) rmSync(path, { force: true });
      });
      if (elfs > 0)
        console.log(`elf ${arch}: ${elfs} damaged files (seeds ${seed0}..${seed0 + elfs - 1}): ${seen.refused} refused, ${seen.ok} ran, ${seen.other} crashed as guests, ${seen.hangs} hung as natively, ${elfBad} internal failures, ${((Date.now() - t1) / 1000).toFixed(0)} s`);
      failures += elfBad;
    }
  } finally {
    // files that showed a failure are kept for reproduction
    if (failures === 0) rmSync(dir, { recursive: true, force: true });
  }
  return failures === 0 ? 0 : 1;
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().then((rc) => process.exit(rc), (e: unknown) => {
    process.stderr.write(`fuzz: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(2);
  });
}
