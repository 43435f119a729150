// elfrun's command line.
import { Command, Option } from 'commander';
import { accessSync, constants, fstatSync, openSync, readFileSync, realpathSync, statSync, writeFileSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import koffi from './host/ffi.js';
import { RLIMIT_CORE } from './abi/resource.js';
import { SIG_DFL } from './abi/signal.js';

export const EXIT = {
  /** the program was not found */
  NOT_FOUND: 127,
  /** the program cannot be executed (not ELF, wrong arch, corrupt, dynamic...) */
  CANNOT_EXEC: 126,
  /** the guest called a syscall (or used a feature) elfrun does not implement */
  UNIMPLEMENTED: 125,
  /** elfrun itself failed (a bug: please report it) */
  INTERNAL: 124,
  /** a bad option (a --root, --bind or --cwd that does not exist...), as commander exits for its own */
  USAGE: 1,
} as const;

const EXIT_HELP = `
Exit status:
  the guest's own exit status; 128+N if the guest was killed by signal N
  (elfrun then kills itself with signal N, as qemu-user does, so a parent
  shell sees the same thing as for a native run)
  ${EXIT.NOT_FOUND}  the program was not found
  ${EXIT.CANNOT_EXEC}  the program cannot be executed (not an ELF file, another machine,
       32-bit, truncated or corrupt, a missing or bad interpreter)
  ${EXIT.UNIMPLEMENTED}  the guest called a syscall elfrun does not implement (a line on
       stderr names it: syscall, number, arch, pid, pc); see --on-missing
  ${EXIT.INTERNAL}  elfrun failed internally (a bug)
  ${EXIT.USAGE}    a bad option, e.g. a --root, --bind or --cwd that does not exist
       (one line on stderr names it)`;

/** What is wrong with the engine loaded (unpatched, stale), as one line on stderr. */
function engineWarning(engineNotice: () => string | null): void {
  const n = engineNotice();
  if (n !== null) process.stderr.write(`elfrun: warning: ${n}\n`);
}

const INJECT_HELP =
  "tamper with syscalls as strace -e inject= does (repeatable): SET[:error=ERRNO|:retval=N][:signal=SIG][:delay_enter=D][:delay_exit=D][:when=FIRST[..LAST][+[STEP]]], " +
  'SET a comma list of syscalls or all (! for all but those), D in microseconds or with s/ms/us/ns; error and retval skip the call; traces mark such calls (INJECTED)';

function die(code: number, msg: string): never {
  process.stderr.write(`elfrun: ${msg}\n`);
  process.exit(code);
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** Like execvp: a name without '/' is looked up in PATH. */
function findProgram(prog: string): string {
  if (prog.includes('/')) return prog;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, prog);
    try {
      if (statSync(p).isFile()) {
        accessSync(p, constants.X_OK);
        return p;
      }
    } catch {
      /* next */
    }
  }
  return die(EXIT.NOT_FOUND, `${prog}: command not found`);
}

function buildEnv(sets: string[], unsets: string[], clear: boolean): string[] {
  const env = new Map<string, string>();
  if (!clear) for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env.set(k, v);
  for (const u of unsets) env.delete(u);
  for (const s of sets) {
    const i = s.indexOf('=');
    if (i <= 0) die(2, `-E expects VAR=VALUE, got '${s}'`);
    env.set(s.slice(0, i), s.slice(i + 1));
  }
  return [...env].map(([k, v]) => `${k}=${v}`);
}

/**
 * Point stdout and stderr at /dev/null where they are regular files. The
 * koffi addon's C++ static destructors fsync fds 1 and 2 when the process
 * exits, which forced the guest's output file to disk (26 ms for 64 MiB
 * here, far more on a slow disk); a native process's exit flushes nothing.
 * All output is in the file already. Pipes and terminals stay (fsync does
 * nothing there, and Node restores a terminal's mode at exit).
 */
function keepExitFromSyncing(): void {
  let devnull = -1;
  for (const fd of [1, 2]) {
    try {
      if (!fstatSync(fd).isFile()) continue;
      if (devnull < 0) devnull = openSync('/dev/null', 'w');
      koffi.load('libc.so.6').func('int dup2(int oldfd, int newfd)')(devnull, fd);
    } catch {
      /* closed or unknown: nothing to keep from syncing */
    }
  }
}

/** End elfrun as the guest ended: same exit status, or death by the same signal. */
function exitLike(state: { kind: 'exited'; code: number } | { kind: 'signaled'; signal: number }): never {
  if (state.kind === 'exited') {
    keepExitFromSyncing();
    process.exit(state.code);
  }
  const libc = koffi.load('libc.so.6');
  const signal = libc.func('intptr_t signal(int sig, intptr_t handler)');
  const raise = libc.func('int raise(int sig)');
  // No core file for the emulator: the guest's crash is not elfrun's.
  const setrlimit = libc.func('int setrlimit(int resource, const uint64_t *rlim)');
  setrlimit(RLIMIT_CORE, new BigUint64Array([0n, 0n]));
  signal(state.signal, SIG_DFL);
  raise(state.signal);
  process.exit(128 + state.signal);
}

async function runCommand(program: string, args: string[], o: RunOpts, report?: MissingOpts): Promise<never> {
  const { Machine, NotFoundError, ExecFormatError, Panic, SetupError, engineNotice } = await import('./index.js');
  const path = o.root ? program : findProgram(program);
  let machine;
  let timeline: import('./syscalls/timeline.js').Timeline | undefined;
  try {
    let trace;
    if (o.timeline) {
      const { Timeline } = await import('./syscalls/timeline.js');
      timeline = new Timeline(o.timeline);
    }
    if (!o.strace && timeline) trace = { fd: 2, follow: true, strsize: 32, quiet: true, timeline };
    if (o.strace) {
      let only: Set<string> | undefined;
      for (const e of o.expr ?? []) {
        if (/^(inject|fault)=/.test(e)) continue;
        const m = /^(?:trace=)?(.*)$/.exec(e)!;
        if (m[1] !== 'all') only = new Set([...(only ?? []), ...m[1].split(',').filter(Boolean)]);
      }
      trace = {
        fd: o.output ? openSync(o.output, 'w') : 2,
        follow: o.follow ?? false,
        only,
        strsize: Number(o.strsize ?? 32),
        toFile: o.output !== undefined,
        decodeFds: o.decodeFds ?? false,
        json: o.json ?? false,
        timeline,
      };
      if (timeline) trace.follow = true; // the timeline shows every process
    }
    machine = new Machine({
      program: path,
      argv: [o.argv0 ?? program, ...args],
      env: buildEnv(o.env, o.unset, o.clearEnv ?? false),
      onMissing: o.onMissing,
      debug: o.debug,
      trace,
      inject: [...(o.inject ?? []), ...(o.expr ?? []).filter((e) => /^(inject|fault)=/.test(e))],
      timeout: positive('--timeout', o.timeout, false),
      maxProcs: positive('--max-procs', o.maxProcs, true),
      maxFds: positive('--max-fds', o.maxFds, true),
      maxMemory: size('--max-memory', o.maxMemory),
      coreDir: o.coreDir,
      gdb: o.gdb,
      cwd: o.cwd,
      mounts: { root: o.root, sandbox: o.sandbox, binds: (o.bind ?? []).map(parseBind), tmpfs: o.tmpfs },
      net: o.net,
    });
  } catch (e) {
    if (e instanceof SetupError) die(EXIT.USAGE, e.message);
    if (e instanceof NotFoundError) die(EXIT.NOT_FOUND, `${program}: ${e.message}`);
    if (e instanceof ExecFormatError) die(EXIT.CANNOT_EXEC, `${program}: cannot execute: ${e.message}`);
    if (o.debug) throw e;
    die(EXIT.INTERNAL, `${program}: ${(e as Error).message}`);
  }
  let state;
  try {
    state = await machine.run();
  } catch (e) {
    timeline?.write();
    if (e instanceof SetupError) die(EXIT.USAGE, e.message);
    engineWarning(engineNotice);
    if (e instanceof Panic) die(EXIT.UNIMPLEMENTED, e.message);
    if (o.debug) process.stderr.write(`${(e as Error).stack}\n`);
    die(EXIT.INTERNAL, `internal error: ${(e as Error).message} (run with --debug for details)`);
  }
  timeline?.write();
  if (report) {
    const arch = machine.task.arch.name;
    const rows = [...machine.syscalls.missing.values()].map((m) => ({
      name: m.name,
      nr: m.nr,
      arch,
      count: m.count,
      pids: [...m.pids],
      firstPc: `0x${m.firstPc.toString(16)}`,
      status: m.name.includes(':') ? 'partial' : 'absent',
    }));
    const text = report.json
      ? JSON.stringify({ arch, missing: rows }, null, 2) + '\n'
      : rows.length === 0
        ? `elfrun: nothing missing (${arch})\n`
        : `elfrun: missing on ${arch}:\n` +
          rows
            .map((r) => `  ${r.name} (${r.nr}): ${r.count} call${r.count === 1 ? '' : 's'}, pid ${r.pids.join(',')}, first at pc ${r.firstPc}, ${r.status}`)
            .join('\n') +
          '\n';
    if (report.output) writeFileSync(report.output, text);
    else process.stderr.write(text);
    if (rows.length > 0) process.exit(EXIT.UNIMPLEMENTED);
  }
  if (machine.timedOut) exitLike({ kind: 'exited', code: EXIT_TIMEOUT });
  // a fallback or stale engine explains a failure; a successful guest's output stays its own
  if (o.debug || state.kind !== 'exited' || state.code !== 0) engineWarning(engineNotice);
  if (state.kind === 'signaled' && o.debug && state.fault) {
    const f = state.fault;
    process.stderr.write(`elfrun: guest killed by signal ${state.signal}: ${f.what} at 0x${f.addr.toString(16)} (pc 0x${f.pc.toString(16)})\n`);
  }
  exitLike(state);
}

interface MissingOpts {
  json?: boolean;
  output?: string;
}

interface RunOpts {
  strace?: boolean;
  inject?: string[];
  timeout?: string;
  maxProcs?: string;
  maxFds?: string;
  maxMemory?: string;
  coreDir?: string;
  gdb?: string;
  follow?: boolean;
  output?: string;
  expr?: string[];
  strsize?: string;
  decodeFds?: boolean;
  json?: boolean;
  timeline?: string;
  env: string[];
  unset: string[];
  clearEnv?: boolean;
  argv0?: string;
  onMissing: 'panic' | 'enosys';
  debug: boolean;
  root?: string;
  bind?: string[];
  tmpfs?: string[];
  sandbox?: boolean;
  net?: 'host' | 'none';
  cwd?: string;
}

/** --bind HOST:GUEST[:ro] (GUEST defaults to HOST) */
function parseBind(spec: string): { host: string; guest: string; readonly: boolean } {
  const parts = spec.split(':');
  let readonly = false;
  if (parts.length > 1 && (parts[parts.length - 1] === 'ro' || parts[parts.length - 1] === 'rw')) readonly = parts.pop() === 'ro';
  if (parts.length > 2 || parts[0] === '') die(EXIT.USAGE, `--bind ${spec}: expected HOST[:GUEST][:ro]`);
  const guest = parts[1] ?? parts[0];
  if (!guest.startsWith('/')) die(EXIT.USAGE, `--bind ${spec}: the guest path must be absolute`);
  return { host: parts[0], guest, readonly };
}

/** The options that choose what the guest's file system shows (run, trace, missing). */
function fsOptions(c: Command): Command {
  return c
    .option('--root <dir>', 'make host directory DIR the guest\'s / (the program is then a path inside it)')
    .option('--bind <host:guest[:ro]>', 'mount a host file or directory at a guest path, read-only with :ro (repeatable)', collect, [])
    .option('--tmpfs <guest>', 'mount an empty in-memory file system at a guest path (repeatable)', collect, [])
    .option('--sandbox', 'start from an empty in-memory / holding only the program (plus /proc, /dev, /tmp): only --bind reaches the host')
    .addOption(
      new Option('--net <policy>', 'the guest\'s network: host (the host\'s own; its sockets are host sockets) or none (an empty network of its own with only lo: guest processes reach each other over 127.0.0.1 and ::1, nothing reaches the host\'s network or ports). Default: host, or none with --sandbox').choices(['host', 'none']),
    )
    .option('--cwd <dir>', 'the guest\'s start directory (default: the current directory, or / with --root/--sandbox)')
    .option('--timeout <seconds>', `kill the whole guest tree (SIGKILL) after this long; elfrun then exits ${EXIT_TIMEOUT}, as coreutils timeout does`)
    .option('--max-procs <n>', 'at most this many guest tasks (processes and threads) at once: fork and clone fail with EAGAIN past it')
    .option('--core-dir <dir>', 'write the core files of guests killed by a core-dumping signal (when their RLIMIT_CORE allows one) to this host directory, not their working directory')
    .option('--max-fds <n>', 'at most this many open fds per guest process (its fs.nr_open: RLIMIT_NOFILE is capped there and cannot be raised past it)')
    .option('--max-memory <size>', 'at most this much memory for all guest processes together (bytes, or with K, M, G): private writable and shared anonymous mappings, tmpfs and memfd file data, System V segments; mmap, brk, mremap, fork, shmget, fallocate and writes to tmpfs fail with ENOMEM past it, as under strict overcommit; /proc/meminfo and sysinfo show it as the memory size');
}

/** --timeout's exit status, coreutils timeout's */
const EXIT_TIMEOUT = 124;

/** A positive number option, or one clear line and exit 1. */
/**
 * process.stdout for elfrun's own output (reports, tables), which into a
 * pipe whose reader has gone (`elfrun syscalls | head`) ends elfrun quietly
 * with the status of a death by SIGPIPE, as coreutils end. Only the
 * commands that print touch it: making Node's stdout stream sets the host
 * fd non-blocking, which a guest sharing that fd must not see.
 */
let stdoutReady = false;
function stdout(): NodeJS.WriteStream {
  if (!stdoutReady) {
    stdoutReady = true;
    process.stdout.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code !== 'EPIPE') throw e;
      process.exit(128 + 13);
    });
  }
  return process.stdout;
}

/** A size: bytes, or a number with K, M, G or T (powers of 1024). */
function size(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+(?:\.\d+)?)([KMGT]?)i?B?$/i.exec(v.trim());
  const n = m === null ? NaN : Number(m[1]) * 1024 ** ' KMGT'.indexOf((m[2] || ' ').toUpperCase());
  if (!(n >= 4096) || !Number.isFinite(n)) die(EXIT.USAGE, `${name}: not a size of at least 4K: ${v}`);
  return Math.floor(n);
}

function positive(name: string, v: string | undefined, integer: boolean): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!(n > 0) || !Number.isFinite(n) || (integer && !Number.isInteger(n))) die(EXIT.USAGE, `${name}: not a positive ${integer ? 'integer' : 'number'}: ${v}`);
  return n;
}

const program = new Command();
program
  .name('elfrun')
  .description('Run unmodified Linux ELF binaries (x86_64, arm64; static or dynamic) in the Unicorn CPU emulator, with every syscall serviced by elfrun.')
  .addHelpText('after', EXIT_HELP)
  .showHelpAfterError()
  .enablePositionalOptions();

fsOptions(program
  .command('run'))
  .description('run a program as Linux would: same stdin/stdout/stderr, exit status and signals')
  .argument('<program>', 'the ELF executable (a name without "/" is looked up in PATH)')
  .argument('[args...]', 'arguments for the program')
  .option('-E, --env <VAR=VALUE>', 'set a variable in the guest environment (repeatable)', collect, [])
  .option('-U, --unset <VAR>', 'remove a variable from the guest environment (repeatable)', collect, [])
  .option('--clear-env', 'start the guest with an empty environment (then -E adds to it)')
  .option('--argv0 <name>', 'argv[0] for the program (default: the program as given)')
  .addOption(
    new Option('--on-missing <mode>', 'what an unimplemented syscall does: panic (stop with one line naming it, exit 125) or enosys (return -ENOSYS and go on)')
      .choices(['panic', 'enosys'])
      .default('panic'),
  )
  .option('--debug', 'print a guest crash\'s fault address and elfrun\'s own stack traces on stderr', false)
  .option('--strace', 'trace syscalls like strace -f (on stderr; see elfrun trace for more options)')
  .option('--timeline <file.json>', 'write a Chrome/Perfetto trace-event timeline: a track per process and thread, a slice per syscall and per wait (open it in ui.perfetto.dev)')
  .option('--inject <spec>', INJECT_HELP, collect, [])
  .option('--gdb <host:port>', 'wait for gdb (target remote HOST:PORT) before the first instruction, and let it debug the program: breakpoints, stepping, registers, memory, threads, signals, forked and exec\'d processes (fork, vfork and exec events), files as the guest sees them (vFile)')
  .addHelpText('after', EXIT_HELP)
  .passThroughOptions()
  .action((prog: string, args: string[], o: RunOpts) => runCommand(prog, args, o.strace ? { ...o, follow: true } : o));

fsOptions(program
  .command('trace'))
  .description('run a program and print its syscalls in strace\'s format (decoded arguments, errors, signals, exits)')
  .argument('<program>', 'the ELF executable')
  .argument('[args...]', 'arguments for the program')
  .option('-f, --follow', 'trace child processes and threads too, prefixing lines with [pid N] as strace -f does')
  .option('-o, --output <file>', 'write the trace to a file instead of stderr')
  .option('-e, --expr <expr>', 'trace=NAME[,NAME...]: only these syscalls; inject=SPEC or fault=SPEC: as --inject (repeatable)', collect, [])
  .option('--inject <spec>', INJECT_HELP, collect, [])
  .option('-s, --strsize <n>', 'the longest string to print (strace -s)', '32')
  .option('-y, --decode-fds', 'print the path (or pipe) behind each fd argument and returned fd, as strace -y does')
  .option('--json', 'one JSON object per line (pid, syscall, args, ret, errno; signals; exits) instead of strace\'s text')
  .option('--timeline <file.json>', 'also write a Chrome/Perfetto trace-event timeline of the run (open it in ui.perfetto.dev)')
  .option('-E, --env <VAR=VALUE>', 'set a variable in the guest environment (repeatable)', collect, [])
  .option('-U, --unset <VAR>', 'remove a variable from the guest environment (repeatable)', collect, [])
  .addOption(new Option('--on-missing <mode>', 'panic or enosys (see run)').choices(['panic', 'enosys']).default('panic'))
  .passThroughOptions()
  .action((prog: string, args: string[], o: RunOpts) => runCommand(prog, args, { ...o, strace: true, debug: false }));

fsOptions(program
  .command('missing'))
  .description('run a program with --on-missing=enosys and report every missing syscall (and unsupported case of a partial one): name, number, arch, calls, pids, first pc. Exit 125 if anything was missing, else the program\'s status')
  .argument('<program>', 'the ELF executable')
  .argument('[args...]', 'arguments for the program')
  .option('-E, --env <VAR=VALUE>', 'set a variable in the guest environment (repeatable)', collect, [])
  .option('-U, --unset <VAR>', 'remove a variable from the guest environment (repeatable)', collect, [])
  .option('--json', 'the report as JSON')
  .option('-o, --output <file>', 'write the report to a file instead of stderr')
  .passThroughOptions()
  .action((prog: string, args: string[], o: RunOpts & MissingOpts) =>
    runCommand(prog, args, { ...o, onMissing: 'enosys', debug: false }, { json: o.json, output: o.output }),
  );

interface CompareCliOpts {
  oracle?: string;
  stdin?: string;
  cwd?: string;
  sandboxCopy?: string;
  json?: boolean;
  record?: string;
  ignoreStderrLine: string[];
  normalizeArch?: boolean;
  net?: 'host' | 'none';
}

program
  .command('compare')
  .description('run a program under elfrun and under Linux (native, qemu-user, or a recorded golden file) and diff stdout, stderr, exit status and, with --sandbox-copy, the files left behind. Exit 0 only when everything matches, 1 when something differs, 2 when the oracle is unavailable')
  .argument('<program>', 'the ELF executable')
  .argument('[args...]', 'arguments for the program')
  .option('--oracle <oracle>', 'native (the host runs it; x86_64 programs here), qemu (qemu-x86_64 / qemu-aarch64), or golden:FILE (default: native when the arch matches the host, else qemu)')
  .option('--record <file>', 'run the oracle and record its outcome as a golden file (no elfrun run)')
  .option('--stdin <file>', 'feed this file to both runs\' stdin (default: empty)')
  .option('--cwd <dir>', 'working directory of both runs')
  .option('--sandbox-copy <dir>', 'run each in its own fresh copy of DIR and compare the trees afterwards')
  .option('--ignore-stderr-line <regex>', 'drop stderr lines matching REGEX from both sides (repeatable)', collect, [])
  .option('--normalize-arch', 'treat x86_64/aarch64/arm64 words in the output as equal')
  .addOption(new Option('--net <policy>', 'the network of both runs: host, or none (elfrun run --net none, and the oracle in an empty network namespace with lo up: unshare -n, which needs root or user namespaces)').choices(['host', 'none']))
  .option('--json', 'print the report as JSON')
  .passThroughOptions()
  .action(async (prog: string, args: string[], o: CompareCliOpts) => {
    const c = await import('./compare.js');
    const { loadProgram, NotFoundError, ExecFormatError } = await import('./index.js');
    const path = findProgram(prog);
    let arch: 'x86_64' | 'arm64';
    try {
      arch = loadProgram(path).arch.name;
    } catch (e) {
      if (e instanceof NotFoundError) die(EXIT.NOT_FOUND, `${prog}: ${e.message}`);
      if (e instanceof ExecFormatError) die(EXIT.CANNOT_EXEC, `${prog}: cannot execute: ${e.message}`);
      throw e;
    }
    const host = process.arch === 'x64' ? 'x86_64' : process.arch;
    const oracle = o.oracle ?? (arch === host ? 'native' : 'qemu');
    const opts = {
      elfrun: realpathSync(process.argv[1]).replace(/dist\/src\/cli\.js$/, 'bin/elfrun'),
      program: path,
      args,
      arch,
      oracle: oracle.startsWith('golden:') ? `golden (${oracle.slice(7)})` : oracle,
      stdin: o.stdin ? readFileSync(o.stdin) : Buffer.alloc(0),
      cwd: o.cwd ?? process.cwd(),
      sandboxCopy: o.sandboxCopy,
      ignoreStderr: o.ignoreStderrLine.map((r) => new RegExp(r)),
      normalizeArch: o.normalizeArch ?? false,
      env: process.env,
      net: o.net,
    };
    try {
      if (o.record) {
        if (oracle.startsWith('golden:')) die(2, '--record needs a live oracle (native or qemu)');
        c.writeGolden(o.record, opts, c.runOracle(opts));
        stdout().write(`recorded ${o.record} from ${oracle}\n`);
        return;
      }
      const want = oracle.startsWith('golden:') ? c.readGolden(oracle.slice(7)) : c.runOracle(opts);
      const got = c.runElfrun(opts);
      const report = c.compareOutcomes(want, got, opts);
      stdout().write(o.json ? JSON.stringify(report, null, 2) + '\n' : c.formatReport(report));
      process.exitCode = report.identical ? 0 : 1;
    } catch (e) {
      if (e instanceof c.OracleUnavailable) die(2, `compare: ${e.message}`);
      throw e;
    }
  });

program
  .command('syscalls')
  .description('list the syscall table: counts per status per arch, and every entry with its note')
  .addOption(new Option('--arch <arch>', 'only this arch').choices(['x86_64', 'arm64']))
  .option('--status <list>', 'only these statuses (comma-separated: supported,partial,probe,absent)', 'supported,partial,probe')
  .option('--markdown', 'print the Markdown document committed as docs/syscalls.md')
  .action(async (o: { arch?: 'x86_64' | 'arm64'; status: string; markdown?: boolean }) => {
    const { coverageMarkdown, coverageText, STATUSES } = await import('./syscalls/coverage.js');
    if (o.markdown) {
      stdout().write(coverageMarkdown());
      return;
    }
    const statuses = o.status.split(',').map((s) => s.trim());
    for (const s of statuses)
      if (!(STATUSES as readonly string[]).includes(s)) die(2, `unknown status '${s}' (one of ${STATUSES.join(', ')})`);
    stdout().write(coverageText(o.arch ? [o.arch] : ['x86_64', 'arm64'], statuses as typeof STATUSES[number][]));
  });

program
  .command('setup')
  .description('build the patched Unicorn and the syscall trampoline (in $ELFRUN_CACHE, default ~/.cache/elfrun) and install them beside this installation\'s build, for any user and any $HOME: the set-up step of an installed package (a checkout\'s scripts/setup.sh does this and more). Needs gcc, cmake, ninja, python3 with pip, and the package registries')
  .action(async () => {
    const { spawnSync } = await import('node:child_process');
    const root = realpathSync(process.argv[1]).replace(/\/(dist\/src\/cli\.js|dist\/elfrun\.cjs|bin\/elfrun)$/, '');
    const step = (script: string, args: string[] = []): string => {
      const r = spawnSync('bash', [join(root, 'scripts', script), ...args], { stdio: ['ignore', 'pipe', 'inherit'], encoding: 'utf8' });
      if (r.status !== 0) die(1, `setup: scripts/${script} failed${r.error ? `: ${r.error.message}` : ''}`);
      return r.stdout.trim().split('\n').pop() ?? '';
    };
    const lib = step('build-unicorn.sh');
    stdout().write(`elfrun: Unicorn: ${lib}\n`);
    const tramp = step('build-trampoline.sh');
    stdout().write(`elfrun: trampoline: ${tramp}\n`);
    stdout().write(`elfrun: installed in ${step('install-native.sh', [lib, tramp])}\n`);
  });

program.parseAsync(process.argv).catch((e: Error) => die(EXIT.INTERNAL, e.message));
