// npm run bench: elfrun against native and qemu-user, measured in the same run,
// interleaved (native, qemu, elfrun, native, ...), median of N runs after a
// warm-up, every run's stdout checked against the first native (or qemu) run.
//
//   npm run bench [-- --runs N] [--arch x86_64|arm64] [--only NAME,...] [--tiny] [--variant LABEL:VAR=VALUE,...]
//
// --tiny: one run of each, small inputs (CI proves the script works; no timing claims).
// --variant: one more elfrun column, run with these environment variables
// (e.g. `--variant nopreempt:ELFRUN_PREEMPT=0`), interleaved with the others,
// and its ratio to the plain elfrun column.
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, existsSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const ELFRUN = join(ROOT, 'bin/elfrun');
type Arch = 'x86_64' | 'arm64';

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const tiny = argv.includes('--tiny');
const runs = tiny ? 1 : Number(opt('--runs') ?? 5);
const arches: Arch[] = opt('--arch') ? [opt('--arch') as Arch] : ['x86_64', 'arm64'];
const only = opt('--only')?.split(',');
const variantOpt = opt('--variant');
const extra: { label: string; env: Record<string, string> } | null = variantOpt
  ? {
      label: variantOpt.split(':')[0],
      env: Object.fromEntries(variantOpt.slice(variantOpt.indexOf(':') + 1).split(',').map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)])),
    }
  : null;

// ---- deterministic inputs -------------------------------------------------------

const dir = join(tmpdir(), `elfrun-bench${tiny ? '-tiny' : ''}`);
mkdirSync(dir, { recursive: true });
function prng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>>= 0);
  };
}
function input(name: string, make: () => Buffer): string {
  const p = join(dir, name);
  if (!existsSync(p)) writeFileSync(p, make());
  return p;
}
const MB = 1 << 20;
const BIG = tiny ? 1 : 64;
const TEXT = tiny ? 1 : 16;
const LINES = tiny ? 2000 : 200000;
const DD = tiny ? 2000 : 200000;
const PPID = tiny ? 10000 : 1000000;
/** spin-wait hand-offs between two threads (fixture spinwait) */
const SPINS = tiny ? 100 : 5000;
const big = input('random.bin', () => {
  const r = prng(1);
  const b = Buffer.alloc(BIG * MB);
  for (let i = 0; i < b.length; i += 4) b.writeUInt32LE(r(), i);
  return b;
});
const words = ['alpha', 'beta', 'gamma', 'delta', 'epsilon', 'zeta', 'eta', 'theta', 'iota', 'kappa', 'lambda', 'mu'];
const text = input('text.txt', () => {
  const r = prng(2);
  const lines: string[] = [];
  let size = 0;
  while (size < TEXT * MB) {
    const l = Array.from({ length: 3 + (r() % 9) }, () => words[r() % words.length]).join(' ') + ` ${r() % 100000}`;
    lines.push(l);
    size += l.length + 1;
  }
  return Buffer.from(lines.join('\n') + '\n');
});
const sortIn = input('sort.txt', () => {
  const r = prng(3);
  return Buffer.from(Array.from({ length: LINES }, () => `${words[r() % 12]} ${r() % 1000000}`).join('\n') + '\n');
});

// 500 files of varied sizes for the pipeline; a bindir of busybox applet links
// per arch; for qemu, wrappers that run an exec'd child under qemu too.
const filesDir = join(dir, 'files');
if (!existsSync(filesDir)) {
  mkdirSync(filesDir);
  const r = prng(4);
  for (let i = 0; i < 500; i++) writeFileSync(join(filesDir, `f${String(i).padStart(3, '0')}.txt`), Buffer.alloc(r() % 5000, 'x'));
}
function bindir(arch: Arch, forQemu: boolean): string {
  const d = join(dir, `bin-${arch}${forQemu ? '-qemu' : ''}`);
  mkdirSync(d, { recursive: true });
  // made for this checkout's busybox each time: the exec'd program must be the
  // file the shell runs (an exec of another copy maps and translates it anew)
  const bb = join(ROOT, 'fixtures', arch, 'busybox');
  const qemu = arch === 'x86_64' ? 'qemu-x86_64' : 'qemu-aarch64';
  const prog = join(d, 'true');
  rmSync(prog, { force: true });
  // qemu-user turns a guest execve into a host execve: wrap the child so it is emulated too
  if (forQemu) writeFileSync(prog, `#!/bin/sh\nexec ${qemu} ${bb} true "$@"\n`, { mode: 0o755 });
  else symlinkSync(bb, prog);
  return d;
}
const FORKS = tiny ? 20 : 300;
const NET_MB = tiny ? 4 : 256;
const HTTP_N = tiny ? 20 : 1000;
/** a native server the guest→host row sends to (the host's own netbench, x86_64) */
const SINK_PORT = 40000 + (process.pid % 20000);
const sink = existsSync(join(ROOT, 'fixtures/x86_64/netbench')) && process.arch === 'x64' ? spawn(join(ROOT, 'fixtures/x86_64/netbench'), ['sink', String(SINK_PORT)], { stdio: 'ignore' }) : null;
// the sink must not keep Node's event loop alive once the rows are done
sink?.unref();
process.on('exit', () => sink?.kill('SIGKILL'));
const LOOP = tiny ? 1000 : 100000;

// ---- workloads ------------------------------------------------------------------

interface Workload {
  name: string;
  args: (bb: string, arch: Arch, variant: 'native' | 'qemu' | 'elfrun') => string[];
  /** binary other than busybox */
  prog?: (arch: Arch) => string;
  /** something elfrun lacks that the workload needs: the row is skipped and says what */
  needs?: string;
}

const fixture = (arch: Arch, name: string): string => join(ROOT, 'fixtures', arch, name);
const workloads: Workload[] = [
  { name: 'true', args: () => ['true'] },
  { name: `md5sum ${BIG}M`, args: () => ['md5sum', big] },
  { name: `sha256sum ${BIG}M`, args: () => ['sha256sum', big] },
  { name: `gzip -c ${TEXT}M`, args: () => ['gzip', '-c', text] },
  { name: `sort ${LINES} lines`, args: () => ['sort', sortIn] },
  { name: `dd bs=1 count=${DD}`, args: () => ['dd', 'if=/dev/zero', 'of=/dev/null', 'bs=1', `count=${DD}`] },
  { name: `getppid x${PPID}`, prog: (a) => fixture(a, 'getppid'), args: () => [String(PPID)] },
  { name: `spin hand-offs x${SPINS}`, prog: (a) => fixture(a, 'spinwait'), args: () => [String(SPINS)] },
  { name: 'pipeline ls|awk|sort|head', args: () => ['sh', '-c', `ls -l ${filesDir} | awk '{print $5}' | sort -n | head -5`] },
  { name: `shell loop ${LOOP}`, args: () => ['sh', '-c', `i=0; while [ $i -lt ${LOOP} ]; do i=$((i+1)); done; echo $i`] },
  { name: `fork+exit+wait x${FORKS}`, args: () => ['sh', '-c', `i=0; while [ $i -lt ${FORKS} ]; do (exit 0); i=$((i+1)); done; echo $i`] },
  { name: `fork+execve true x${FORKS}`, args: (_bb, arch, v) => ['sh', '-c', `i=0; while [ $i -lt ${FORKS} ]; do ${bindir(arch, v === 'qemu')}/true; i=$((i+1)); done; echo $i`] },
  { name: `TCP guest→guest ${NET_MB}M`, prog: (a) => fixture(a, 'netbench'), args: () => ['tcp', String(NET_MB)] },
  { name: `TCP guest→host ${NET_MB}M`, prog: (a) => fixture(a, 'netbench'), args: () => ['tcpto', String(SINK_PORT), String(NET_MB)], ...(sink === null ? { needs: 'a native netbench sink (x86_64 host)' } : {}) },
  { name: `HTTP requests x${HTTP_N}`, prog: (a) => fixture(a, 'netbench'), args: () => ['http', String(HTTP_N)] },
];

interface Sample {
  ms: number;
  out: string;
  status: number | null;
}

function once(cmd: string, args: string[], env: Record<string, string> = {}): Sample {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { maxBuffer: 1 << 30, env: { ...process.env, ELFRUN_QUIET_UNICORN: '1', ...env } });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  return { ms, out: createHash('sha256').update(r.stdout ?? '').digest('hex'), status: r.status };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const fmt = (ms: number | null): string => (ms === null ? '—' : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(1)} ms`);
const ratio = (a: number | null, b: number | null): string => (a === null || b === null ? '—' : `${(a / b).toFixed(2)}×`);

let broken = 0;
for (const arch of arches) {
  const bb = fixture(arch, 'busybox');
  const qemu = arch === 'x86_64' ? 'qemu-x86_64' : 'qemu-aarch64';
  const hasNative = arch === process.arch.replace('x64', 'x86_64');
  console.log(`\n## ${arch}: median of ${runs} run(s) after a warm-up, interleaved; ratios are elfrun/native and elfrun/${qemu}`);
  console.log(`(under ${qemu}, an exec'd child is a host script that runs it under ${qemu} too, since qemu-user turns a guest execve into a host execve)`);
  const x = extra === null ? '' : ` ${extra.label} | ${extra.label}÷elfrun |`;
  console.log(`| workload | native | qemu | elfrun | ÷native | ÷qemu |${x}`);
  console.log(`| --- | --- | --- | --- | --- | --- |${extra === null ? '' : ' --- | --- |'}`);
  const geo: number[] = [];
  for (const w of workloads) {
    if (only && !only.some((o) => w.name.startsWith(o))) continue;
    if (w.needs) {
      console.log(`| ${w.name} | — | — | — | — | — |  (needs ${w.needs}, which elfrun lacks)`);
      continue;
    }
    const prog = w.prog ? w.prog(arch) : bb;
    const variants: Array<[string, string, string[]]> = [];
    if (hasNative) variants.push(['native', prog, w.args(bb, arch, 'native')]);
    variants.push(['qemu', qemu, [prog, ...w.args(bb, arch, 'qemu')]]);
    variants.push(['elfrun', ELFRUN, ['run', prog, ...w.args(bb, arch, 'elfrun')]]);
    if (extra !== null) variants.push([extra.label, ELFRUN, ['run', prog, ...w.args(bb, arch, 'elfrun')]]);
    const times: Record<string, number[]> = { native: [], qemu: [], elfrun: [], ...(extra === null ? {} : { [extra.label]: [] }) };
    let expected: Sample | null = null;
    for (let i = 0; i <= runs; i++) {
      for (const [label, cmd, a] of variants) {
        const s = once(cmd, a, extra !== null && label === extra.label ? extra.env : {});
        expected ??= s;
        if (s.out !== expected.out || s.status !== expected.status) {
          console.error(`bench: ${arch} ${w.name}: ${label} output differs from ${variants[0][0]} (status ${s.status} vs ${expected.status})`);
          broken++;
          continue;
        }
        if (i > 0 || tiny) times[label].push(s.ms); // run 0 is the warm-up
      }
    }
    const m = (k: string): number | null => (times[k].length ? median(times[k]) : null);
    const [n, q, e] = [m('native'), m('qemu'), m('elfrun')];
    if (e !== null && q !== null) geo.push(e / q);
    const v = extra === null ? '' : ` ${fmt(m(extra.label))} | ${ratio(m(extra.label), e)} |`;
    console.log(`| ${w.name} | ${fmt(n)} | ${fmt(q)} | ${fmt(e)} | ${ratio(e, n)} | ${ratio(e, q)} |${v}`);
  }
  if (geo.length)
    console.log(`\n${arch}: geometric mean elfrun/qemu over ${geo.length} rows: ${Math.exp(geo.reduce((s, x) => s + Math.log(x), 0) / geo.length).toFixed(2)}×`);
}
if (broken) {
  console.error(`bench: ${broken} run(s) gave wrong output`);
  process.exit(1);
}
sink?.kill('SIGKILL');
