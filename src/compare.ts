// elfrun compare: run a program under elfrun and under an oracle (the native
// host, qemu-user, or a recorded golden file) and report the differences in
// stdout, stderr, exit status and, optionally, the files it left behind.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

export interface RunOutcome {
  stdout: string;
  stderr: string;
  status: number | null;
  signal: string | null;
  files?: Record<string, string>;
}

export interface Golden extends RunOutcome {
  command: string[];
  oracle: string;
  arch: string;
}

export class OracleUnavailable extends Error {}

export interface CompareOptions {
  elfrun: string;
  program: string;
  args: string[];
  arch: 'x86_64' | 'arm64';
  oracle: string;
  stdin: Buffer;
  cwd: string;
  sandboxCopy?: string;
  ignoreStderr: RegExp[];
  normalizeArch: boolean;
  env: NodeJS.ProcessEnv;
  /** the network both runs get: the host's, or (none) an empty one with only lo up (the oracle under unshare -n) */
  net?: 'host' | 'none';
}

const QEMU: Record<string, string> = { x86_64: 'qemu-x86_64', arm64: 'qemu-aarch64' };
const hostArch = process.arch === 'x64' ? 'x86_64' : process.arch === 'arm64' ? 'arm64' : process.arch;

function available(cmd: string): boolean {
  return spawnSync(cmd, ['--version'], { stdio: 'ignore' }).status === 0;
}

/** Snapshot a directory tree: path -> a description of its content. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isSymbolicLink()) out[rel] = `symlink -> ${readlinkSync(p)}`;
      else if (st.isDirectory()) {
        out[rel] = `dir ${(st.mode & 0o7777).toString(8)}`;
        walk(p);
      } else if (st.isFile()) out[rel] = `file ${(st.mode & 0o7777).toString(8)} ${readFileSync(p).toString('base64')}`;
      else out[rel] = `special ${st.mode.toString(8)}`;
    }
  };
  walk(dir);
  return out;
}

function run(cmd: string, args: string[], o: CompareOptions): RunOutcome {
  let cwd = o.cwd;
  let copy: string | null = null;
  if (o.sandboxCopy) {
    copy = mkdtempSync(join(tmpdir(), 'elfrun-compare-'));
    cpSync(o.sandboxCopy, copy, { recursive: true, preserveTimestamps: true, verbatimSymlinks: true });
    cwd = copy;
  }
  try {
    const r = spawnSync(cmd, args, { cwd, input: o.stdin, env: o.env, maxBuffer: 1 << 30, timeout: 600_000 });
    if (r.error) throw r.error;
    return {
      stdout: r.stdout.toString('latin1'),
      stderr: r.stderr.toString('latin1'),
      status: r.status,
      signal: r.signal,
      files: copy ? snapshot(copy) : undefined,
    };
  } finally {
    if (copy) rmSync(copy, { recursive: true, force: true });
  }
}

/** An oracle command in a new network namespace whose lo is up (--net none's network), or as it is. */
function inNet(o: CompareOptions, cmd: string, args: string[]): [string, string[]] {
  if (o.net !== 'none') return [cmd, args];
  if (spawnSync('unshare', ['-n', 'sh', '-c', 'ip link set lo up'], { stdio: 'ignore', timeout: 10_000 }).status !== 0)
    throw new OracleUnavailable('--net none needs an empty network namespace for the oracle: unshare -n (as root, or with user namespaces) and ip');
  return ['unshare', ['-n', 'sh', '-c', 'ip link set lo up && exec "$@"', 'sh', cmd, ...args]];
}

/** Run the program under the oracle (never a golden file). */
export function runOracle(o: CompareOptions): RunOutcome {
  if (o.oracle === 'native') {
    if (o.arch !== hostArch) throw new OracleUnavailable(`the native oracle needs a ${hostArch} program on this ${hostArch} host; this one is ${o.arch} (use --oracle qemu)`);
    return run(...inNet(o, o.program, o.args), o);
  }
  if (o.oracle === 'qemu') {
    const q = QEMU[o.arch];
    if (!available(q)) throw new OracleUnavailable(`${q} is not installed (Debian's qemu-user package provides it)`);
    return run(...inNet(o, q, [o.program, ...o.args]), o);
  }
  throw new OracleUnavailable(`unknown oracle '${o.oracle}' (native, qemu or golden:FILE)`);
}

export function runElfrun(o: CompareOptions): RunOutcome {
  return run(o.elfrun, ['run', ...(o.net ? ['--net', o.net] : []), o.program, ...o.args], o);
}

export function readGolden(file: string): Golden {
  if (!existsSync(file)) throw new OracleUnavailable(`golden file ${file} does not exist (record one with --record)`);
  return JSON.parse(readFileSync(file, 'utf8')) as Golden;
}

export function writeGolden(file: string, o: CompareOptions, r: RunOutcome): void {
  const g: Golden = { command: [o.program, ...o.args], oracle: o.oracle, arch: o.arch, ...r };
  writeFileSync(file, JSON.stringify(g, null, 2) + '\n');
}

function normalize(r: RunOutcome, o: CompareOptions): RunOutcome {
  let { stdout, stderr } = r;
  if (o.normalizeArch) {
    const arch = /\b(x86_64|x86-64|aarch64|arm64)\b/g;
    stdout = stdout.replace(arch, 'ARCH');
    stderr = stderr.replace(arch, 'ARCH');
  }
  if (o.ignoreStderr.length) stderr = stderr.split(/(?<=\n)/).filter((l) => !o.ignoreStderr.some((re) => re.test(l.replace(/\n$/, '')))).join('');
  return { ...r, stdout, stderr };
}

/** A unified diff of two texts (whole-file context when small; LCS over lines). */
export function unifiedDiff(a: string, b: string, nameA: string, nameB: string): string {
  const x = a.split(/(?<=\n)/);
  const y = b.split(/(?<=\n)/);
  if (x.length * y.length > 4e6) {
    let i = 0;
    while (i < x.length && i < y.length && x[i] === y[i]) i++;
    return `--- ${nameA}\n+++ ${nameB}\n(too large for a full diff) first difference at line ${i + 1}:\n-${x[i] ?? '(end)'}\n+${y[i] ?? '(end)'}\n`;
  }
  const n = x.length;
  const m = y.length;
  const lcs: Uint32Array[] = Array.from({ length: n + 1 }, () => new Uint32Array(m + 1));
  for (let i = n - 1; i >= 0; i--) for (let j = m - 1; j >= 0; j--) lcs[i][j] = x[i] === y[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
  const ops: Array<[' ' | '-' | '+', string]> = [];
  let i = 0;
  let j = 0;
  while (i < n || j < m) {
    if (i < n && j < m && x[i] === y[j]) {
      ops.push([' ', x[i++]]);
      j++;
    } else if (i < n && (j >= m || lcs[i + 1][j] >= lcs[i][j + 1])) ops.push(['-', x[i++]]);
    else ops.push(['+', y[j++]]);
  }
  const show = (s: string): string => (s.endsWith('\n') ? s : `${s}\n\\ No newline at end of file\n`);
  const lines = ops.map(([op, s]) => op + show(s));
  // keep 3 lines of context around changes
  const keep = ops.map((_, k) => ops.slice(Math.max(0, k - 3), k + 4).some(([op]) => op !== ' '));
  let out = `--- ${nameA}\n+++ ${nameB}\n`;
  let skipping = false;
  lines.forEach((l, k) => {
    if (keep[k]) {
      out += l;
      skipping = false;
    } else if (!skipping) {
      out += '@@\n';
      skipping = true;
    }
  });
  return out;
}

export interface CompareReport {
  identical: boolean;
  oracle: string;
  arch: string;
  status: { oracle: number | null; elfrun: number | null };
  signal: { oracle: string | null; elfrun: string | null };
  stdoutDiff: string | null;
  stderrDiff: string | null;
  filesDiffer: string[];
}

export function compareOutcomes(want: RunOutcome, got: RunOutcome, o: CompareOptions): CompareReport {
  const w = normalize(want, o);
  const g = normalize(got, o);
  const filesDiffer: string[] = [];
  if (w.files && g.files) {
    for (const k of new Set([...Object.keys(w.files), ...Object.keys(g.files)])) if (w.files[k] !== g.files[k]) filesDiffer.push(k);
  }
  const stdoutDiff = w.stdout === g.stdout ? null : unifiedDiff(w.stdout, g.stdout, `stdout (${o.oracle})`, 'stdout (elfrun)');
  const stderrDiff = w.stderr === g.stderr ? null : unifiedDiff(w.stderr, g.stderr, `stderr (${o.oracle})`, 'stderr (elfrun)');
  return {
    identical: stdoutDiff === null && stderrDiff === null && w.status === g.status && w.signal === g.signal && filesDiffer.length === 0,
    oracle: o.oracle,
    arch: o.arch,
    status: { oracle: w.status, elfrun: g.status },
    signal: { oracle: w.signal, elfrun: g.signal },
    stdoutDiff,
    stderrDiff,
    filesDiffer: filesDiffer.sort(),
  };
}

export function formatReport(r: CompareReport): string {
  if (r.identical) return `identical (${r.arch}, oracle ${r.oracle}): stdout, stderr and exit status match\n`;
  let s = `different (${r.arch}, oracle ${r.oracle}):\n`;
  const st = (status: number | null, sig: string | null): string => (sig ? `killed by ${sig}` : `exit ${status}`);
  if (r.status.oracle !== r.status.elfrun || r.signal.oracle !== r.signal.elfrun)
    s += `exit status: ${r.oracle} ${st(r.status.oracle, r.signal.oracle)}, elfrun ${st(r.status.elfrun, r.signal.elfrun)}\n`;
  if (r.stdoutDiff) s += r.stdoutDiff;
  if (r.stderrDiff) s += r.stderrDiff;
  if (r.filesDiffer.length) s += `files that differ afterwards: ${r.filesDiffer.join(', ')}\n`;
  return s;
}
