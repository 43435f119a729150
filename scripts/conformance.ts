// npm run conformance [-- --arch x86_64|arm64] [--json FILE] [--work DIR] [--exclude a,b] [--fetch-only] [applet...]
//
// busybox 1.35.0's own test suite (testsuite/ of Debian's source package, the
// version busybox-static is built from, with Debian's busybox-static .config)
// run against fixtures/<arch>/busybox under elfrun, through a `busybox`
// wrapper in the suite's bindir. The baseline is the same suite run natively
// (x86_64) or under qemu-aarch64 (arm64) on this machine, by this script:
// elfrun is counted against the tests that pass there.
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync, writeFileSync, chmodSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CACHE = process.env.ELFRUN_CACHE ?? join(homedir(), '.cache', 'elfrun');
const SRC = join(CACHE, 'busybox-src');

const argv = process.argv.slice(2);
const opt = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  if (i < 0) return undefined;
  const v = argv[i + 1];
  argv.splice(i, 2);
  return v;
};
const arches = (opt('--arch')?.split(',') ?? ['x86_64', 'arm64']) as Array<'x86_64' | 'arm64'>;
const jsonOut = opt('--json');
// a private directory per run, so that two runs (a test and a user's) never share a suite copy
const userWork = opt('--work') !== undefined;
const workRoot = opt('--work') ?? mkdtempSync(join(tmpdir(), 'elfrun-conformance-'));
const exclude = new Set((opt('--exclude') ?? '').split(',').filter(Boolean));
const fetchOnly = argv.includes('--fetch-only') ? (argv.splice(argv.indexOf('--fetch-only'), 1), true) : false;
const applets = argv;

/** Debian's busybox 1.35.0 source: testsuite/ and debian/config/pkg/static. */
function fetchSource(): string {
  const dir = join(SRC, 'busybox-1.35.0');
  if (existsSync(join(dir, 'testsuite', 'runtest'))) return dir;
  mkdirSync(join(SRC, 'apt', 'lists', 'partial'), { recursive: true });
  const list = join(SRC, 'apt', 'sources.list');
  writeFileSync(
    list,
    'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main\n' +
      'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bookworm-security main\n',
  );
  const o = ['-o', `Dir::Etc::SourceList=${list}`, '-o', 'Dir::Etc::SourceParts=/dev/null', '-o', `Dir::State::Lists=${join(SRC, 'apt', 'lists')}`, '-o', `Dir::Cache=${join(SRC, 'apt')}`, '-o', 'Debug::NoLocking=1', '-q'];
  execFileSync('apt-get', [...o, 'update'], { stdio: 'ignore' });
  execFileSync('apt-get', [...o, 'source', '--download-only', 'busybox=1:1.35.0-4+deb12u1'], { cwd: SRC, stdio: 'ignore' });
  execFileSync('tar', ['xjf', 'busybox_1.35.0.orig.tar.bz2'], { cwd: SRC });
  execFileSync('tar', ['xJf', join(SRC, 'busybox_1.35.0-4+deb12u1.debian.tar.xz'), '-C', dir]);
  return dir;
}

type Result = Map<string, 'PASS' | 'FAIL' | 'SKIPPED' | 'UNTESTED'>;

/**
 * Applets whose tests cannot work through a wrapper script in the suite's
 * bindir, with the reason: not counted (they fail the same way with
 * qemu-user's wrapper, which is why the arm64 baseline never has them).
 */
const NOT_COMPARABLE: Record<string, string> = {
  mdev: 'copies the busybox under test into a chroot jail and runs it there; a wrapper script copied there cannot reach its emulator',
};

/** A fresh copy of the suite with this `busybox` in its bindir. */
function prepare(src: string, work: string, busybox: { link: string } | { script: string }): string {
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  cpSync(join(src, 'testsuite'), join(work, 'testsuite'), { recursive: true });
  // testing.sh builds a host `echo -ne` from scripts/echo.c when /bin/sh's echo lacks -n/-e (dash)
  mkdirSync(join(work, 'scripts'));
  cpSync(join(src, 'scripts', 'echo.c'), join(work, 'scripts', 'echo.c'));
  cpSync(join(src, 'debian', 'config', 'pkg', 'static'), join(work, '.config'));
  if ('link' in busybox) symlinkSync(busybox.link, join(work, 'busybox'));
  else {
    writeFileSync(join(work, 'busybox'), busybox.script, { mode: 0o755 });
    chmodSync(join(work, 'busybox'), 0o755);
  }
  return join(work, 'testsuite');
}

/** Run the suite (two applets at a time, each worker in its own copy); results by "applet: test". */
async function runSuite(src: string, work: string, busybox: { link: string } | { script: string }, label: string): Promise<Result> {
  const dirs = [prepare(src, `${work}-0`, busybox), prepare(src, `${work}-1`, busybox)];
  // one runtest per applet, so each result is filed under its applet
  const list = applets.length
    ? applets
    : readdirSync(dirs[0])
        .filter((f) => f.endsWith('.tests') || statSync(join(dirs[0], f)).isDirectory())
        .map((f) => f.replace(/\.tests$/, ''))
        .filter((a) => !exclude.has(a))
        .sort();
  const results: Result = new Map();
  let n = 0;
  const runOne = (tsdir: string, applet: string): Promise<void> =>
    new Promise((done) => {
      const env = { ...process.env, bindir: dirname(tsdir), tsdir, ELFRUN_QUIET_UNICORN: '1', LC_ALL: 'C', SKIP_KNOWN_BUGS: '1' };
      const child = spawn('sh', ['runtest', applet], { cwd: tsdir, env, stdio: ['ignore', 'pipe', 'ignore'] });
      let buf = '';
      child.stdout.on('data', (d: Buffer) => (buf += d.toString('latin1')));
      child.on('close', () => {
        for (const line of buf.split('\n')) {
          const m = /^(PASS|FAIL|SKIPPED|UNTESTED): (.*)$/.exec(line);
          if (m) {
            results.set(`${applet}: ${m[2]}`, m[1] as 'PASS');
            n++;
          }
        }
        process.stderr.write(`  ${label}: ${applet} done (${n} tests so far)\n`);
        done();
      });
    });
  const queue = [...list];
  const worker = async (tsdir: string): Promise<void> => {
    for (let a = queue.shift(); a !== undefined; a = queue.shift()) await runOne(tsdir, a);
  };
  await Promise.all(dirs.map(worker));
  return results;
}

const appletOf = (test: string): string => test.split(': ')[0];

async function main(): Promise<void> {
  const src = fetchSource();
  if (fetchOnly) {
    console.log(`conformance: busybox source in ${src}`);
    return;
  }
  const elfrun = join(ROOT, 'bin', 'elfrun');
  const report: Record<string, unknown> = {};
  for (const arch of arches) {
    const bb = join(ROOT, 'fixtures', arch, 'busybox');
    // busybox picks the applet from argv[0]: the native baseline is a plain link,
    // the others pass the name on (qemu -0, elfrun --argv0); never call an applet
    // (basename...) in the wrapper: through PATH it is the wrapper itself
    const baseline = arch === 'x86_64' ? { link: bb } : { script: `#!/bin/sh\nexec qemu-aarch64 -0 "\${0##*/}" ${bb} "$@"\n` };
    const underElfrun = { script: `#!/bin/sh\nexec ${elfrun} run --argv0 "\${0##*/}" ${bb} "$@"\n` };
    const oracle = arch === 'x86_64' ? 'native' : 'qemu-aarch64';
    process.stderr.write(`conformance ${arch}: baseline (${oracle})\n`);
    const base = await runSuite(src, join(workRoot, `elfrun-conformance-${arch}-base`), baseline, `${arch} ${oracle}`);
    process.stderr.write(`conformance ${arch}: elfrun\n`);
    const mine = await runSuite(src, join(workRoot, `elfrun-conformance-${arch}-elfrun`), underElfrun, `${arch} elfrun`);
    const perApplet = new Map<string, { pass: number; fail: string[] }>();
    let passed = 0;
    let failed = 0;
    const notComparable = new Map<string, number>();
    for (const [test, r] of base) {
      if (r !== 'PASS') continue;
      const a = appletOf(test);
      if (a in NOT_COMPARABLE) {
        notComparable.set(a, (notComparable.get(a) ?? 0) + 1);
        continue;
      }
      const e = perApplet.get(a) ?? { pass: 0, fail: [] };
      if (mine.get(test) === 'PASS') {
        e.pass++;
        passed++;
      } else {
        e.fail.push(test);
        failed++;
      }
      perApplet.set(a, e);
    }
    console.log(`\n## ${arch} (baseline: ${oracle}; ${[...base.values()].filter((r) => r === 'PASS').length} of ${base.size} tests pass there)`);
    for (const [a, e] of [...perApplet].sort()) console.log(`${a.padEnd(16)} ${e.pass}/${e.pass + e.fail.length}${e.fail.length ? `  failing: ${e.fail.slice(0, 5).join('; ')}${e.fail.length > 5 ? '; ...' : ''}` : ''}`);
    for (const [a, n] of notComparable) console.log(`${a.padEnd(16)} not counted (${n} tests): ${NOT_COMPARABLE[a]}`);
    console.log(`${arch}: ${passed} passed, ${failed} failed`);
    report[arch] = { oracle, passed, failed, baseline: Object.fromEntries(base), elfrun: Object.fromEntries(mine) };
  }
  if (jsonOut) writeFileSync(jsonOut, JSON.stringify(report, null, 2) + '\n');
  if (!userWork) rmSync(workRoot, { recursive: true, force: true });
}

main().catch((e: Error) => {
  process.stderr.write(`conformance: ${e.message}\n`);
  process.exit(2);
});
