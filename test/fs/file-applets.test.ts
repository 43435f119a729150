// busybox's file applets under elfrun against Linux (the native x86_64
// busybox; qemu-aarch64 for arm64, which hands every syscall to the host
// kernel), in fresh temporary directories: stdout, stderr and exit status of
// every command, and for commands that change files the whole resulting tree
// (names, types, modes, owners, sizes, contents, symlink targets, link counts,
// hard-link sharing, and mtimes where the command must preserve or set them).
//
// Read-only commands run the oracle and elfrun on the SAME directory, so
// inode numbers, device numbers and atimes agree. Commands that change files
// run twice at the same absolute path: copy the template there, run the
// oracle, snapshot, delete; copy the template there again, run elfrun,
// snapshot; then compare. Nothing expected is written down here: Linux says
// what is right.
//
// Cases run concurrently (each in its own directory), at most two programs
// at a time: elfrun is CPU-bound, and the suite's other files run alongside.
//
// A case where elfrun is known to differ stays in, marked it.fails with the
// cause (FsCase.fails). FILE_APPLETS_SELFCHECK=1 compares Linux with itself
// instead, to check that nothing that legitimately varies is compared.
import { afterAll, beforeAll, describe, it } from 'vitest';
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ARCHES, ELFRUN, fixture, haveQemu, type RunResult, type TestArch } from '../helpers/oracle.js';
import { buildTemplate, copyTree, freshCopy, settleAtimes, snapshot, type Entry, type SnapshotOpts } from '../helpers/tree.js';

const isRoot = process.getuid?.() === 0;

let base = ''; // everything lives under here
let template = ''; // the pristine tree, never run in
let ro = ''; // a copy the read-only commands share (never changed after set-up)
// Another copy for the stat cases that print atimes: nothing else runs there,
// so no concurrent reader moves an atime between the oracle's run and elfrun's.
let roAtime = '';
const caseDir = (arch: TestArch, slug: string): string => join(base, 'cases', `${arch}-${slug}`);

beforeAll(() => {
  base = mkdtempSync(join(tmpdir(), 'elfrun-file-applets-'));
  template = join(base, 'template');
  buildTemplate(template);
  ro = join(base, 'ro');
  copyTree(template, ro);
  makeMany(join(ro, 'many'));
  roAtime = join(base, 'ro-atime');
  copyTree(template, roAtime);
  settleAtimes(roAtime);
  mkdirSync(join(base, 'cases'));
});

afterAll(() => {
  if (!base) return;
  rmSync(base, { recursive: true, force: true });
  if (existsSync('/dev/shm')) for (const n of readdirSync('/dev/shm')) if (n.startsWith(`${basename(base)}-`)) rmSync(join('/dev/shm', n), { recursive: true, force: true });
});

interface Outcome {
  cmd: string;
  stdout: string;
  stderr: string;
  status: number | null;
  signal: NodeJS.Signals | null;
}

const outcome = (args: string[], r: RunResult, norm: (s: string) => string = (s) => s): Outcome => ({
  cmd: args.join(' '),
  stdout: norm(r.stdout),
  stderr: norm(r.stderr),
  status: r.status,
  signal: r.signal,
});

type Runner = 'linux' | 'elfrun';

// FILE_APPLETS_SELFCHECK=1 runs the oracle against itself instead of elfrun:
// a failure then means the test compares something that legitimately varies
// between two runs and must be normalised or left out.
const second: Runner = process.env.FILE_APPLETS_SELFCHECK ? 'linux' : 'elfrun';

// At most this many programs at once.
const SLOTS = 2;
let busy = 0;
const waiting: Array<() => void> = [];
async function slot<T>(fn: () => Promise<T>): Promise<T> {
  if (busy >= SLOTS) await new Promise<void>((r) => waiting.push(r));
  else busy++;
  try {
    return await fn();
  } finally {
    const next = waiting.shift();
    if (next) next();
    else busy--;
  }
}

/**
 * runLinux and runElfrun from helpers/oracle.ts, without blocking: the same
 * commands (native busybox with argv0 = its path, qemu-aarch64, bin/elfrun
 * run), environment and time limits.
 */
function run(who: Runner, arch: TestArch, args: string[], cwd: string, input?: string | Buffer): Promise<RunResult> {
  const bb = fixture(arch, 'busybox');
  const [cmd, argv, argv0, timeout] =
    who === 'elfrun'
      ? [ELFRUN, ['run', bb, ...args], undefined, 120_000]
      : arch === 'x86_64'
        ? [bb, args, bb, 60_000]
        : ['qemu-aarch64', [bb, ...args], undefined, 60_000];
  return slot(
    () =>
      new Promise<RunResult>((resolve, reject) => {
        const child = spawn(cmd, argv, { cwd, argv0, env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' }, timeout });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on('data', (b: Buffer) => out.push(b));
        child.stderr.on('data', (b: Buffer) => err.push(b));
        child.stdin.on('error', () => {}); // EPIPE when the program does not read its input
        child.stdin.end(input ?? '');
        child.on('error', reject);
        child.on('close', (status, signal) =>
          resolve({ stdout: Buffer.concat(out).toString('latin1'), stderr: Buffer.concat(err).toString('latin1'), status, signal }),
        );
      }),
  );
}

// ---------------------------------------------------------------------------
// Read-only commands: one shared directory, the oracle then elfrun.

interface ReadCase {
  name: string;
  args: string[];
  input?: string;
  /** The output shows atimes: run in roAtime. */
  atime?: true;
}

const md5 = (s: string | Buffer): string => createHash('md5').update(s).digest('hex');

// a file name longer than NAME_MAX (255)
const LONG = 'n'.repeat(300);

// 1500 entries with long names: several getdents64 calls' worth
function makeMany(dir: string): void {
  mkdirSync(dir);
  for (let i = 0; i < 1500; i++) writeFileSync(join(dir, `entry-${String(i).padStart(4, '0')}-${'x'.repeat(i % 60)}`), `${i}\n`);
}

// md5sum -c's input: two right sums (of the template's src/a.txt), one wrong, one missing file
function md5Input(): string {
  const a = md5('hello\nworld\nhello again\n');
  return [`${a}  src/a.txt`, `${a}  src/lnk`, `${md5('wrong')}  file.txt`, `${md5('')}  no-such`, ''].join('\n');
}

const readCases: ReadCase[] = [
  // ls
  { name: 'ls -l', args: ['ls', '-l'] },
  { name: 'ls -l src', args: ['ls', '-l', 'src'] },
  { name: 'ls -la --full-time', args: ['ls', '-la', '--full-time'] },
  { name: 'ls -la --full-time src src/sub', args: ['ls', '-la', '--full-time', 'src', 'src/sub'] },
  { name: 'ls -i', args: ['ls', '-i', 'src'] },
  { name: 'ls -lia', args: ['ls', '-lia', 'src'] },
  { name: 'ls -lR', args: ['ls', '-lR'] },
  { name: 'ls -lL (follow symlinks, one dangling)', args: ['ls', '-lL', 'src'] },
  { name: 'ls -ld on a symlink to a dir', args: ['ls', '-ld', 'src/dirlink', 'src/dirlink/'] },
  { name: 'ls -1F', args: ['ls', '-1F', 'src'] },
  { name: 'ls -ln (numeric ids)', args: ['ls', '-ln', 'src/sub'] },
  { name: 'ls missing', args: ['ls', 'no-such', 'src/no-such'] },
  { name: 'ls ENOTDIR', args: ['ls', 'src/a.txt/', 'src/a.txt/x'] },
  { name: 'ls ELOOP and ENAMETOOLONG', args: ['ls', '-L', 'src/loop', 'src/loop/x', LONG] },
  { name: 'ls -l a FIFO', args: ['ls', '-l', 'special'] },
  { name: 'ls -1 a directory bigger than one getdents64 buffer', args: ['ls', '-1', 'many'] },
  { name: 'ls -l a big directory', args: ['ls', '-l', 'many'] },
  // stat
  { name: "stat -c '%n %s %a %F %h %i %X %Y'", atime: true, args: ['stat', '-c', '%n %s %a %F %h %i %X %Y', 'src/a.txt', 'src/hard', 'src/lnk', 'src/dangling', 'src/sub', 'src/b.bin', 'src/empty', 'ro.txt', '.'] },
  { name: 'stat -L -c', args: ['stat', '-L', '-c', '%n %s %a %F %h %i %Y', 'src/lnk', 'src/dirlink', 'src/a.txt'] },
  { name: 'stat -c owners, blocks, devices, names', args: ['stat', '-c', '%A|%u|%g|%U|%G|%b|%B|%o|%N|%t|%T|%d|%D|%f', 'src/a.txt', 'src/lnk', 'src/sub', 'other'] },
  { name: 'stat -c times as text', atime: true, args: ['stat', '-c', '%n %x | %y | %z | %Z', 'src/a.txt', 'src/sub', 'src/lnk'] },
  { name: 'stat (default format)', atime: true, args: ['stat', 'src/a.txt', 'src/lnk', 'src/sub', 'ro.txt'] },
  { name: 'stat -t (terse)', atime: true, args: ['stat', '-t', 'src/b.bin', 'src/sub'] },
  { name: 'stat -f -c (file system)', args: ['stat', '-f', '-c', '%n %t %T %s %S %l %i', '.'] },
  { name: 'stat missing and ENOTDIR', args: ['stat', 'no-such', 'src/a.txt/x', 'src/a.txt'] },
  { name: 'stat ELOOP and ENAMETOOLONG', args: ['stat', '-L', 'src/loop', LONG, 'src/loop'] },
  { name: 'stat a FIFO and odd names', args: ['stat', '-c', '%n %F %a %s %h %i', 'special/fifo', 'src/sub/with space.txt', 'src/sub/café'] },
  // find
  { name: 'find . -name ... -type f -newer ...', args: ['find', '.', '-name', '*.txt', '-type', 'f', '-newer', 'src/a.txt'] },
  { name: 'find -type l', args: ['find', 'src', '-type', 'l'] },
  { name: 'find -type d -name', args: ['find', '.', '-type', 'd', '-name', '*e*'] },
  { name: 'find -newer a directory', args: ['find', 'src', '-newer', 'src/sub/c.txt'] },
  { name: 'find -perm -size', args: ['find', 'src', '-perm', '600', '-o', '-size', '+10k'] },
  { name: 'find -maxdepth -o', args: ['find', 'src', '-maxdepth', '1', '(', '-name', '*.sh', '-o', '-name', 'empty', ')'] },
  { name: 'find -L (follow symlinks)', args: ['find', '-L', 'src', '-type', 'f'] },
  { name: 'find -links 2', args: ['find', 'src', '-type', 'f', '-links', '2'] },
  { name: 'find -exec (in-process applet)', args: ['find', 'src/sub', '-type', 'f', '-exec', 'echo', 'got', '{}', ';'] },
  { name: 'find missing', args: ['find', 'no-such', 'src/a.txt/x'] },
  { name: 'find -type p', args: ['find', '.', '-type', 'p'] },
  { name: 'find a big directory', args: ['find', 'many', '-name', '*7*'] },
  // du
  { name: 'du -s', args: ['du', '-s', '.'] },
  { name: 'du -s several', args: ['du', '-s', 'src', 'other', 'file.txt'] },
  { name: 'du -sk', args: ['du', '-sk', 'src'] },
  { name: 'du -a', args: ['du', '-a', 'src'] },
  { name: 'du -sL', args: ['du', '-sL', 'src'] },
  { name: 'du missing', args: ['du', '-s', 'no-such'] },
  { name: 'du -s a big directory', args: ['du', '-s', 'many'] },
  // readlink, realpath
  { name: 'readlink', args: ['readlink', 'src/lnk', 'src/dirlink', 'src/dangling'] },
  { name: 'readlink on a non-link', args: ['readlink', 'src/a.txt'] },
  { name: 'readlink -f', args: ['readlink', '-f', 'src/lnk', 'src/dirlink/deep/../c.txt', 'src/dangling', '.', '..', 'src/no-such'] },
  { name: 'readlink -f of a missing directory', args: ['readlink', '-f', 'no-such/x/y'] },
  { name: 'realpath', args: ['realpath', 'src/lnk', 'src/dirlink', 'src/dirlink/deep', '.', 'src/../other'] },
  { name: 'realpath missing', args: ['realpath', 'no-such/x'] },
  { name: 'readlink -f of a symlink loop', args: ['readlink', '-f', 'src/loop'] },
  { name: 'realpath of a symlink loop', args: ['realpath', 'src/loop'] },
  // md5sum, wc
  { name: 'md5sum', args: ['md5sum', 'src/a.txt', 'src/b.bin', 'src/hard', 'src/lnk', 'src/empty'] },
  { name: 'md5sum missing and directory', args: ['md5sum', 'no-such', 'src', 'file.txt'] },
  { name: 'md5sum -c', args: ['md5sum', '-c'], input: md5Input() },
  { name: 'wc', args: ['wc', 'src/a.txt', 'src/sub/c.txt', 'src/b.bin', 'src/empty'] },
  { name: 'wc -l -w -c -L', args: ['wc', '-lwcL', 'src/sub/c.txt', 'file.txt'] },
  { name: 'wc missing and directory', args: ['wc', 'no-such', 'src', 'file.txt'] },
  // others that only read
  { name: 'cat ENOTDIR', args: ['cat', 'src/a.txt/x'] },
  { name: 'cat EISDIR', args: ['cat', 'src'] },
  { name: 'cat ELOOP', args: ['cat', 'src/loop'] },
  { name: 'tar tvf of a missing archive', args: ['tar', 'tvf', 'no-such.tar'] },
  { name: 'cpio -o (same inodes: the raw archive must match)', args: ['cpio', '-o', '-H', 'newc'], input: 'src\nsrc/a.txt\nsrc/hard\nsrc/lnk\nsrc/sub\nsrc/sub/c.txt\nsrc/b.bin\nother\nspecial/fifo\n' },
  { name: 'gzip -c to stdout', args: ['gzip', '-c', 'src/b.bin', 'src/a.txt'] },
  { name: 'gunzip -c a non-gzip file', args: ['gunzip', '-c', 'file.txt'] },
];

// ---------------------------------------------------------------------------
// Commands that change the file system.

interface Step {
  args: string[];
  cwd?: string; // relative to the case directory
  input?: string | Buffer;
}

interface FsCase {
  name: string;
  steps: Step[];
  /** Applied to the fresh copy before the first step (the same for both runs). */
  prepare?: (d: string) => void;
  /** Applied after the last step, before the snapshot (e.g. give back permissions). */
  after?: (d: string) => void;
  snap?: SnapshotOpts;
  /** Normalise stdout and stderr (only what legitimately differs between two runs). */
  norm?: (s: string) => string;
  /** Why the case cannot run here. */
  skip?: string;
  /** A known difference from Linux (it.fails): on which arches, and what goes wrong. */
  fails?: { arch: TestArch[]; why: string };
}

// Where a command must keep (or set) an mtime, compare it. Directories whose
// entries the command changed get 'now', and so do files it wrote: leave those out.
const filesUnder =
  (...prefixes: string[]) =>
  (p: string, e: Entry): boolean =>
    e.type === 'file' && prefixes.some((x) => p === x || p.startsWith(`${x}/`));
const allUnder =
  (...prefixes: string[]) =>
  (p: string, e: Entry): boolean =>
    e.type !== 'symlink' && prefixes.some((x) => p === x || p.startsWith(`${x}/`));
const notIn =
  (...paths: string[]) =>
  (p: string, e: Entry): boolean =>
    e.type === 'file' && !paths.includes(p);

// A directory on another file system, the same for both runs of a case and
// unique to the case (named after the test's temporary directory and the
// case's own); steps name it SHM_PLACEHOLDER, and outputs show it back so.
const SHM_PLACEHOLDER = '@SHM@';
const shmDir = (d: string): string => join('/dev/shm', `${basename(base)}-${basename(d)}`);
function otherFs(): boolean {
  try {
    return existsSync('/dev/shm') && statSync('/dev/shm').dev !== statSync(tmpdir()).dev;
  } catch {
    return false;
  }
}

// dd reports its own elapsed time and speed: those differ from run to run.
const ddNorm = (s: string): string => s.replace(/copied, [0-9.]+ seconds, [0-9.]+ ?[KMGT]?B\/s/g, 'copied, <elapsed>');
// mktemp's names end in six random characters.
const mktempNorm = (s: string): string => s.replace(/(tmp\.|dir\.|t-)[A-Za-z0-9]{6}/g, '$1<random>');

const fsCases: FsCase[] = [
  {
    name: 'cp -a',
    steps: [
      { args: ['cp', '-a', 'src', 'dst'] },
      { args: ['cp', '-a', 'file.txt', 'ro.txt', 'other/'] },
      { args: ['cp', '-a', 'src/lnk', 'src/dangling', 'other/'] },
      { args: ['cp', '-a', 'special', 'dst-special'] },
    ],
    // cp -a keeps every mtime but its symlinks' (busybox sets no times on a link)
    snap: { mtime: (p, e) => allUnder('dst', 'dst-special')(p, e) || filesUnder('src', 'other')(p, e) },
  },
  {
    name: 'cp -r',
    steps: [{ args: ['cp', '-r', 'src', 'dst'] }, { args: ['cp', '-r', 'src/sub', 'other'] }],
    snap: { mtime: filesUnder('src') },
  },
  {
    name: 'cp onto an existing file (shared by a hard link), and errors',
    steps: [
      { args: ['cp', 'file.txt', 'src/a.txt'] },
      { args: ['cp', 'src', 'dst'] },
      { args: ['cp', 'no-such', 'x'] },
      { args: ['cp', 'file.txt', 'src/a.txt/x'] },
      { args: ['cp', 'file.txt', 'src/b.bin', 'not-a-dir'] },
    ],
    snap: { mtime: notIn('src/a.txt', 'src/hard') },
  },
  {
    name: 'mv onto an existing file and into a dir',
    steps: [
      { args: ['mv', 'file.txt', 'src/empty'] },
      { args: ['mv', 'src/a.txt', 'src/run.sh', 'other/'] },
      { args: ['mv', 'src/sub', 'other'] },
      { args: ['mv', 'src/lnk', 'src/renamed-link'] },
      { args: ['mv', 'special/fifo', 'src/sub/deep/'] },
    ],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'mv errors',
    steps: [
      { args: ['mv', 'no-such', 'x'] },
      { args: ['mv', 'src/sub', 'ro.txt'] },
      { args: ['mv', 'src/a.txt', 'src/no-dir/x'] },
      { args: ['mv', 'src', 'src/sub/'] },
    ],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'rm -rf',
    steps: [{ args: ['rm', '-rf', 'src/sub', 'other', 'no-such', 'src/dirlink'] }, { args: ['rm', '-f', 'src/hard'] }],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'rm -rf a directory bigger than one getdents64 buffer',
    prepare: (d) => makeMany(join(d, 'src/many')),
    steps: [{ args: ['rm', '-rf', 'src/many'] }, { args: ['rmdir', 'src/sub/deep'] }],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'rm errors',
    steps: [{ args: ['rm', 'src/sub'] }, { args: ['rm', 'no-such'] }, { args: ['rm', '-r', 'no-such', 'src/a.txt/x'] }],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'mkdir -p',
    steps: [
      { args: ['mkdir', '-p', 'a/b/c', 'src/sub/deep', 'src/new'] },
      { args: ['mkdir', '-m', '711', 'm'] },
      { args: ['mkdir', '-p', '-m', '700', 'x/y/z'] },
    ],
    snap: { mtime: filesUnder('src') },
  },
  {
    name: 'mkdir errors: EEXIST, ENOTDIR, ENOENT',
    steps: [
      { args: ['mkdir', 'src'] },
      { args: ['mkdir', 'src/a.txt/x'] },
      { args: ['mkdir', '-p', 'src/a.txt/x'] },
      { args: ['mkdir', 'q/r'] },
      { args: ['mkdir', 'src/lnk'] },
      { args: ['mkdir', LONG] },
      { args: ['mkdir', 'src/loop/x'] },
    ],
    snap: { mtime: (p, e) => e.type !== 'symlink' },
  },
  {
    name: 'rmdir (and ENOTEMPTY, ENOTDIR, ENOENT)',
    prepare: (d) => mkdirSync(join(d, 'a/b/c'), { recursive: true }),
    steps: [
      { args: ['rmdir', 'other'] },
      { args: ['rmdir', 'src'] },
      { args: ['rmdir', 'src/sub/deep'] },
      { args: ['rmdir', 'src/a.txt'] },
      { args: ['rmdir', 'no-such'] },
      { args: ['rmdir', '-p', 'a/b/c'] },
      { args: ['rmdir', 'src/dirlink'] },
    ],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'ln -s',
    steps: [
      { args: ['ln', '-s', 'a.txt', 'src/l2'] },
      { args: ['ln', '-s', '/no/such/abs', 'abs'] },
      { args: ['ln', '-s', '../file.txt', 'src/sub/up'] },
      { args: ['ln', '-sf', 'other', 'src/lnk'] },
      { args: ['ln', '-s', 'a.txt', 'src/l2'] },
      { args: ['ln', '-s', 'src/a.txt', 'other/'] },
      { args: ['ln', '-sfn', 'other', 'src/dirlink'] },
      { args: ['cat', 'src/sub/up', 'src/l2'] },
    ],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'ln (hard links)',
    steps: [
      { args: ['ln', 'src/a.txt', 'h3'] },
      { args: ['ln', 'file.txt', 'other/'] },
      { args: ['ln', 'src/sub', 'x'] },
      { args: ['ln', 'no-such', 'x'] },
      { args: ['ln', 'file.txt', 'src/a.txt'] },
      { args: ['ln', '-f', 'file.txt', 'src/empty'] },
      { args: ['stat', '-c', '%n %h', 'h3', 'src/a.txt', 'file.txt', 'other/file.txt'] },
    ],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'chmod -R',
    steps: [
      { args: ['chmod', '-R', 'go-rwx,u+x', 'src'] },
      { args: ['chmod', '-R', '0751', 'other', 'no-such'] },
      { args: ['chmod', '4755', 'src/run.sh'] },
      { args: ['chmod', 'a=r', 'src/lnk'] },
      { args: ['stat', '-c', '%n %a %A', 'src/run.sh', 'src/a.txt', 'src/sub', 'src/sub/deep/d.txt', 'other'] },
    ],
    snap: { mtime: (p, e) => e.type !== 'symlink' },
  },
  {
    name: 'touch -d',
    steps: [
      { args: ['touch', '-d', '2001-02-03 04:05:06', 'src/a.txt'] },
      { args: ['touch', '-d', '@1000000000', 'file.txt'] },
      { args: ['touch', '-c', '-d', '2010-01-01 00:00', 'not-created'] },
      { args: ['touch', '-m', '-d', '1999-12-31 23:59:59', 'src/sub'] },
      { args: ['touch', '-a', '-d', '1998-01-01 10:00:00', 'src/empty'] },
      { args: ['touch', '-h', '-d', '1997-01-01 10:00:00', 'src/lnk'] },
      { args: ['touch', '-d', 'bogus date', 'x'] },
      { args: ['touch', 'src/a.txt/x'] },
      { args: ['stat', '-c', '%n %Y %X', 'src/a.txt', 'src/hard', 'file.txt', 'src/sub', 'src/empty', 'src/lnk'] },
    ],
    // touch changes no directory's entries here: every mtime is known
    snap: { mtime: () => true },
  },
  {
    // touch first tries utimensat(AT_FDCWD, path, times, 0); on ENOENT it
    // creates the file and sets its times through the fd, as futimens does:
    // utimensat(fd, NULL, times, 0)
    name: 'touch -d and touch -r creating the file',
    steps: [
      { args: ['touch', '-d', '2001-02-03 04:05:06', 'new1', 'file.txt'] },
      { args: ['touch', '-r', 'src/a.txt', 'new2'] },
      { args: ['stat', '-c', '%n %Y %X %s', 'new1', 'new2', 'file.txt'] },
    ],
    snap: { mtime: (p, e) => e.type !== 'symlink' },
  },
  {
    name: 'truncate -s',
    steps: [
      { args: ['truncate', '-s', '10', 'src/a.txt'] },
      { args: ['truncate', '-s', '1k', 'src/empty', 'new'] },
      { args: ['truncate', '-s', '0', 'src/b.bin'] },
      { args: ['truncate', '-c', '-s', '5', 'not-created'] },
      { args: ['truncate', '-s', '5', 'src/sub'] },
      { args: ['truncate', '-s', '5', 'no-dir/x'] },
    ],
    snap: { mtime: notIn('src/a.txt', 'src/hard', 'src/empty', 'new', 'src/b.bin') },
  },
  {
    name: 'dd with bs/count/skip/seek and conv=notrunc',
    steps: [
      { args: ['dd', 'if=src/b.bin', 'of=out.bin', 'bs=512', 'count=3', 'skip=2', 'seek=1'] },
      { args: ['dd', 'if=src/a.txt', 'of=src/b.bin', 'bs=4', 'count=2', 'seek=3', 'conv=notrunc'] },
      { args: ['dd', 'if=src/a.txt', 'of=file.txt', 'bs=3', 'seek=2'] },
      { args: ['dd', 'if=src/b.bin', 'bs=1000', 'count=2', 'skip=5'] },
      { args: ['dd', 'bs=7', 'count=3', 'of=stdin.out'], input: 'from standard input, more than 21 bytes\n' },
      { args: ['dd', 'if=src/b.bin', 'of=ibs.out', 'ibs=100', 'obs=300', 'count=7', 'status=noxfer'] },
      { args: ['dd', 'if=no-such', 'of=x'] },
      { args: ['dd', 'if=src/a.txt', 'of=src/sub'] },
    ],
    norm: ddNorm,
    snap: { mtime: notIn('out.bin', 'src/b.bin', 'file.txt', 'stdin.out', 'ibs.out') },
  },
  {
    name: 'tar cf, tar tvf, tar xf',
    steps: [
      { args: ['tar', 'cf', 't.tar', 'src', 'file.txt', 'special'] },
      { args: ['tar', 'tvf', 't.tar'] },
      { args: ['tar', 'xf', '../t.tar'], cwd: 'other' },
      { args: ['tar', 'xvf', 't.tar', '-C', 'other', 'file.txt'] },
    ],
    snap: { mtime: (p, e) => (e.type === 'file' || e.type === 'fifo') && p !== 't.tar' },
  },
  {
    name: 'gzip, gunzip',
    // the .gz files and what gunzip writes get 'now'; gzip -k leaves file.txt as it was
    steps: [
      { args: ['gzip', 'src/b.bin', 'src/sub/c.txt'] },
      { args: ['gzip', '-k', 'file.txt'] },
      { args: ['gzip', 'src/lnk'] },
      { args: ['gzip', 'no-such'] },
      { args: ['gunzip', 'src/b.bin.gz'] },
      { args: ['gunzip', '-c', 'src/sub/c.txt.gz'] },
      { args: ['gunzip', 'ro.txt'] },
    ],
    snap: { mtime: (p, e) => e.type === 'file' && !p.endsWith('.gz') && p !== 'src/b.bin' },
  },
  {
    name: 'cpio -o, cpio -t, cpio -i',
    steps: [
      {
        // --renumber-inodes --ignore-devno: the copies of the template live on fresh inodes for each run
        args: ['cpio', '-o', '-H', 'newc', '-F', 'a.cpio', '--renumber-inodes', '--ignore-devno'],
        input: 'src\nsrc/a.txt\nsrc/hard\nsrc/lnk\nsrc/dangling\nsrc/sub\nsrc/sub/c.txt\nsrc/sub/café\nsrc/sub/deep\nsrc/sub/deep/d.txt\nsrc/b.bin\nfile.txt\nspecial\nspecial/fifo\n',
      },
      { args: ['cpio', '-tv', '-F', 'a.cpio'] },
      { args: ['cpio', '-idm', '-F', '../a.cpio'], cwd: 'other' },
      { args: ['cpio', '-i', '-F', '../a.cpio', 'file.txt'], cwd: 'other' },
      { args: ['cpio', '-iu', '-F', 'a.cpio', 'file.txt'] },
    ],
    // cpio -iu without -m rewrites file.txt 'now'
    snap: { mtime: (p, e) => e.type === 'file' && p !== 'a.cpio' && p !== 'file.txt' },
  },
  {
    name: 'mktemp',
    steps: [
      { args: ['mktemp', '-p', '.'] },
      { args: ['mktemp', '-d', '-p', '.', 'dir.XXXXXX'] },
      { args: ['mktemp', 'src/t-XXXXXX'] },
      { args: ['mktemp', '-u', '-p', '.'] },
      { args: ['mktemp', '-p', 'no-such-dir'] },
      { args: ['mktemp', 'src/bad-XXX'] },
    ],
    norm: mktempNorm,
    snap: { rename: mktempNorm, mtime: (p, e) => filesUnder('src')(p, e) && !p.includes('<random>') },
  },
  {
    name: 'mkfifo',
    steps: [
      { args: ['mkfifo', 'p1'] },
      { args: ['mkfifo', '-m', '600', 'p2', 'src/p3'] },
      { args: ['mkfifo', 'src/a.txt'] },
      { args: ['mkfifo', 'no-dir/p'] },
      { args: ['stat', '-c', '%n %F %a %s', 'p1', 'p2', 'src/p3'] },
      { args: ['ls', '-1F', 'src'] },
    ],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    // /dev/shm is another file system: rename(2) and link(2) fail with EXDEV,
    // and mv falls back to copying and removing. One shell runs it all (busybox
    // sh forks for these applets and does not exec, so qemu-aarch64 can follow).
    name: 'mv and ln across file systems (EXDEV)',
    skip: otherFs() ? undefined : '/dev/shm is missing or on the same file system as the temporary directory',
    prepare: (d) => rmSync(shmDir(d), { recursive: true, force: true }),
    after: (d) => rmSync(shmDir(d), { recursive: true, force: true }),
    steps: [
      {
        args: [
          'sh',
          '-c',
          `mkdir ${SHM_PLACEHOLDER}; mv src/sub file.txt src/lnk ${SHM_PLACEHOLDER}; echo mv=$?; ln src/a.txt ${SHM_PLACEHOLDER}/hard; echo ln=$?; ` +
            `mv ${SHM_PLACEHOLDER}/sub ${SHM_PLACEHOLDER}/file.txt ${SHM_PLACEHOLDER}/lnk other/; echo back=$?; rmdir ${SHM_PLACEHOLDER}; echo rmdir=$?`,
        ],
      },
    ],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    // The same file system for every program, as on Linux: what one command
    // leaves in /dev/shm the next one finds.
    name: '/dev/shm keeps what one command leaves there for the next',
    skip: existsSync('/dev/shm') ? undefined : 'no /dev/shm',
    prepare: (d) => rmSync(shmDir(d), { recursive: true, force: true }),
    after: (d) => rmSync(shmDir(d), { recursive: true, force: true }),
    steps: [
      { args: ['mkdir', SHM_PLACEHOLDER] },
      { args: ['mv', 'file.txt', SHM_PLACEHOLDER] },
      { args: ['ls', '-l', SHM_PLACEHOLDER] },
      { args: ['mv', `${SHM_PLACEHOLDER}/file.txt`, 'other/'] },
      { args: ['rmdir', SHM_PLACEHOLDER] },
    ],
    snap: { mtime: (p, e) => e.type === 'file' },
  },
  {
    name: 'permission denied (EACCES) as non-root',
    skip: isRoot ? 'running as root: root passes every permission check, so there is no EACCES to compare' : undefined,
    prepare: (d) => {
      chmodSync(join(d, 'other'), 0o555);
      chmodSync(join(d, 'src/sub'), 0o000);
      chmodSync(join(d, 'src/b.bin'), 0o000);
    },
    after: (d) => {
      chmodSync(join(d, 'other'), 0o700);
      chmodSync(join(d, 'src/sub'), 0o750);
      chmodSync(join(d, 'src/b.bin'), 0o600);
    },
    steps: [
      { args: ['cat', 'src/b.bin'] },
      { args: ['touch', 'other/new'] },
      { args: ['mkdir', 'other/x'] },
      { args: ['cp', 'file.txt', 'other/'] },
      { args: ['ls', 'src/sub'] },
      { args: ['stat', '-c', '%n', 'src/sub/c.txt'] },
      { args: ['rm', '-f', 'src/sub/c.txt'] },
      { args: ['mv', 'file.txt', 'other/'] },
      { args: ['dd', 'if=file.txt', 'of=src/b.bin'] },
    ],
    norm: ddNorm,
    snap: { mtime: (p, e) => e.type === 'file' },
  },
];

// ---------------------------------------------------------------------------

const slug = (s: string): string => s.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 40);
if (new Set(fsCases.map((c) => slug(c.name))).size !== fsCases.length) throw new Error('two cases would share a directory');

async function runCase(who: Runner, arch: TestArch, c: FsCase, d: string): Promise<{ outcomes: Outcome[]; tree: Entry[] }> {
  freshCopy(template, d);
  c.prepare?.(d);
  const outcomes: Outcome[] = [];
  for (const s of c.steps) {
    const shm = shmDir(d);
    const args = s.args.map((a) => a.replaceAll(SHM_PLACEHOLDER, shm));
    const norm = (x: string): string => (c.norm ? c.norm(x) : x).replaceAll(shm, SHM_PLACEHOLDER);
    outcomes.push(outcome(s.args, await run(who, arch, args, s.cwd ? join(d, s.cwd) : d, s.input), norm));
  }
  c.after?.(d);
  const tree = snapshot(d, c.snap);
  rmSync(d, { recursive: true, force: true });
  return { outcomes, tree };
}

for (const arch of ARCHES) {
  describe.skipIf(arch === 'arm64' && !haveQemu())(`busybox file applets on ${arch}`, () => {
    describe.concurrent('read-only, on one shared directory', () => {
      for (const c of readCases) {
        it(c.name, async ({ expect }) => {
          const cwd = c.atime ? roAtime : ro;
          const want = outcome(c.args, await run('linux', arch, c.args, cwd, c.input));
          const got = outcome(c.args, await run(second, arch, c.args, cwd, c.input));
          expect(got).toEqual(want);
        });
      }
    });

    describe.concurrent('changing files, each run in a fresh copy at the same path', () => {
      for (const c of fsCases) {
        const known = second === 'elfrun' && c.fails?.arch.includes(arch) ? c.fails.why : undefined;
        const test = known ? it.fails : it.skipIf(c.skip !== undefined);
        const title = c.name + (c.skip ? ` (skipped: ${c.skip})` : '') + (known ? ` (known difference: ${known})` : '');
        test(title, async ({ expect }) => {
          const d = caseDir(arch, slug(c.name));
          const want = await runCase('linux', arch, c, d);
          const got = await runCase(second, arch, c, d);
          expect(got.outcomes).toEqual(want.outcomes);
          expect(got.tree).toEqual(want.tree);
        });
      }
    });
  });
}
