// elfrun run --gdb: Debian's gdb-multiarch in batch mode against our stub,
// compared with the same session against qemu-user's gdbstub (qemu-x86_64,
// qemu-aarch64 -g): breakpoints, continuing over them, stepping, backtraces,
// threads, memory, a signal stop, kill; registers by the target
// description's names compared with Debian's gdbserver running the native
// program (x86_64) and with qemu-aarch64 -g. A dynamic program's shared
// libraries are compared with a native gdb session; under --root, gdb's
// vFile reads of the program and its libraries, and remote put/get/delete,
// with gdbserver's. Fork, vfork and exec events (catch, follow-fork-mode
// child, detach-on-fork off with several inferiors) are compared with
// gdbserver (x86_64; arm64: the same events), and so are syscall
// catchpoints (entry and exit stops, a call changed, skipped or its result
// changed), watchpoints in forked processes, the threads' names
// (pthread_setname_np), and stepi over rep string instructions. Loopback only; every run is bounded in time.
import { describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { ELFRUN, ARCHES, fixture, haveFixtures, haveQemu } from '../helpers/oracle.js';

const haveGdb = spawnSync('gdb-multiarch', ['--version']).status === 0;
const env = { ...process.env, ELFRUN_QUIET_UNICORN: '1' };

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a !== null ? a.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Is something listening on port (any local address: the kernel's socket tables, looking does not connect)? */
function listening(port: number): boolean {
  const local = new RegExp(`^ *\\d+: [0-9A-F]+:${port.toString(16).toUpperCase().padStart(4, '0')} [0-9A-F]+:0000 0A `, 'm');
  return ['/proc/net/tcp', '/proc/net/tcp6'].some((f) => local.test(readFileSync(f, 'utf8')));
}

/**
 * Start a stub and wait until it listens; its port. elfrun and gdbserver are given port 0
 * and say which port they got ("waiting for gdb on HOST:PORT", "Listening on port PORT"), so
 * no other program can take it meanwhile; qemu-user says nothing: its port is a free one,
 * waited for in the socket table. A stub that ends or takes a minute fails the test.
 */
async function startStub(server: (port: number) => string[]): Promise<{ srv: ChildProcess; port: number }> {
  const qemu = server(0)[0].startsWith('qemu-');
  const want = qemu ? await freePort() : 0;
  const [cmd, ...args] = server(want);
  const srv = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  const port = await new Promise<number>((resolve, reject) => {
    const fail = (why: string): void => {
      clearInterval(poll);
      clearTimeout(timer);
      srv.kill('SIGKILL');
      reject(new Error(`${cmd} ${why}: ${err}`));
    };
    const timer = setTimeout(() => fail('did not listen within 60 s'), 60_000);
    const poll = setInterval(() => {
      if (qemu && listening(want)) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(want);
      }
    }, 20);
    srv.on('exit', () => fail('ended before gdb connected'));
    srv.stderr.on('data', (d: Buffer) => {
      err += d.toString();
      const m = /waiting for gdb on .*:(\d+)\n|Listening on port (\d+)\n/.exec(err);
      if (m !== null) {
        clearInterval(poll);
        clearTimeout(timer);
        resolve(Number(m[1] ?? m[2]));
      }
    });
  });
  return { srv, port };
}

/** A gdb batch session against a stub started by `server(port)`; gdb's output, normalized. */
async function session(server: (port: number) => string[], prog: string, cmds: string[], pre: string[] = [], quiet = true): Promise<string> {
  const { srv, port } = await startStub(server);
  try {
    const ex = [...pre, `target remote 127.0.0.1:${port}`, ...cmds].flatMap((c) => ['-ex', c]);
    const r = await new Promise<string>((resolve) => {
      // one pipe for both streams, so that gdb's errors stay in order with the rest
      const g = spawn('sh', ['-c', 'exec gdb-multiarch "$@" 2>&1', 'sh', '-batch', '-nx', ...ex, ...(prog === '' ? [] : [prog])], { env, stdio: ['ignore', 'pipe', 'ignore'] });
      let out = '';
      g.stdout.on('data', (d: Buffer) => (out += d.toString()));
      const timer = setTimeout(() => g.kill('SIGKILL'), 60_000);
      g.on('close', () => {
        clearTimeout(timer);
        resolve(out);
      });
    });
    return r
      .split('\n')
      // gdbserver offers files (vFile), the stubs do not: gdb says so or reads them
      .filter((l) => !quiet || (!l.startsWith('warning: remote target does not support file transfer') && !l.startsWith('warning: File transfers from remote targets') && !/^Reading .* from remote target\.\.\.$/.test(l)))
      .map((l) =>
        l
          .replace(/Thread \d+(\.\d+)?/g, 'Thread N')
          .replace(/\((process \d+|Remote target)\)/g, '(TARGET)')
          // qemu names its threads' CPUs (qThreadExtraInfo)
          .replace(/ \(CPU#\d+ \[[a-z]+\]\)/g, '')
          .replace(/\s+/g, ' ')
          .trim(),
      )
      .join('\n');
  } finally {
    srv.kill('SIGKILL');
  }
}

const qemuOf = (arch: string): string => (arch === 'x86_64' ? 'qemu-x86_64' : 'qemu-aarch64');
// qemu-user's stub names no threads (qXfer:threads) and has no fork events: gdb shows neither
const asQemu = (s: string): string => s.replace(/(Thread N) "[^"]*"/g, '$1').replace(/^\[Detaching after fork from child process \d+\]\n/gm, '');
const haveGdbserver = spawnSync('gdbserver', ['--version']).status === 0;
// Sessions with gdb's fork, vfork and exec events (gdbserver's and the stub's): pids and ports
// differ, and so may where a process that was not the one that stopped has got to (the parent
// of a child that exits first: racy natively too)
const forkNorm = (s: string): string =>
  s
    .replace(/process \d+/g, 'process N')
    .replace(/\(remote 127\.0\.0\.1:\d+\)/g, '(remote)')
    .replace(/argv=0x[0-9a-f]+/g, 'argv=ADDR')
    .replace(/(\[Switching to thread [^\n]*\]\n)#0 [^\n]*\n/g, '$1');

describe.skipIf(!haveGdb || !haveFixtures())('elfrun run --gdb', () => {
  for (const arch of ARCHES) {
    it.skipIf(!haveQemu())(`breakpoints, stepping, backtraces, threads, memory and a signal stop as with qemu-user's stub (${arch})`, { timeout: 120_000 }, async () => {
      const prog = fixture(arch, 'coredump');
      const cmds = ['break crash_here', 'continue', 'bt', 'info threads', 'stepi', 'stepi', 'p $pc', 'continue', 'bt', 'info registers pc', 'p *(long*)&counter', 'x/s &message', 'kill'];
      const want = await session((port) => [qemuOf(arch), '-g', String(port), prog], prog, cmds);
      const got = asQemu(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds));
      expect(want).toContain('received signal SIGSEGV');
      expect(got).toBe(want);
    });

    it.skipIf(!haveQemu())(`a software watchpoint (gdb single-steps) as with qemu-user's stub (${arch})`, { timeout: 120_000 }, async () => {
      const prog = fixture(arch, 'coredump');
      const cmds = ['break middle', 'continue', 'delete 1', 'watch *(long*)&counter', 'continue', 'bt', 'kill'];
      const pre = ['set can-use-hw-watchpoints 0'];
      const want = await session((port) => [qemuOf(arch), '-g', String(port), prog], prog, cmds, pre);
      const got = asQemu(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds, pre));
      expect(want).toContain('Old value = 0\nNew value = 42');
      expect(got).toBe(want);
    });

    it(`$_siginfo of a signal stop is the fault's (${arch})`, { timeout: 120_000 }, async () => {
      const prog = fixture(arch, 'coredump');
      const got = await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, ['continue', 'p $_siginfo.si_signo', 'p $_siginfo.si_code', 'p $_siginfo._sifields._sigfault.si_addr', 'kill']);
      // SIGSEGV, SEGV_MAPERR, at 0: what the native run dies of (the core test reads the same from Linux's core)
      expect(got).toMatch(/\$1 = 11\n\$2 = 1\n\$3 = \(void \*\) 0x0/);
    });
  }

  it.skipIf(!haveGdbserver)('x86_64 target description: fs_base, gs_base, orig_rax, SSE, registers by name, as under gdbserver', { timeout: 120_000 }, async () => {
    const prog = fixture('x86_64', 'gdbprog');
    const cmds = ['break gdbprog.c:18', 'continue', 'info locals', 'p n', 'bt', 'p $xmm1', 'p $mxcsr', 'info registers rip', 'p $eax', 'set var $rax = 0x1234', 'p/x $rax', 'info registers fs_base', 'p $fs_base', 'p $gs_base', 'p $orig_rax', 'set var $fs_base = $fs_base', 'p $fs_base', 'kill'];
    const want = await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, cmds);
    const got = await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds);
    expect(want).toContain('fs_base');
    expect(want).toContain('square = 25');
    expect(want).not.toContain('Invalid register');
    expect(got).toBe(want);
  });

  it.skipIf(!haveGdbserver)('eflags at the first instruction, and single steps through a loop, as under gdbserver (x86_64)', { timeout: 60_000 }, async () => {
    const prog = fixture('x86_64', 'gdbprog');
    // then single steps through a loop: one ends after `mov -0xc(%rbp),%eax` (8b 45 f4), whose last byte is hlt's
    const cmds = ['info registers eflags', 'stepi', 'info registers eflags', 'break gdbprog.c:17', 'continue', ...Array<string>(16).fill('stepi'), 'p $pc', 'kill'];
    const want = await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, cmds);
    const got = await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds);
    expect(want).toContain('eflags 0x202 [ IF ]');
    expect(got).toBe(want);
  });

  it.skipIf(!haveQemu())(`aarch64 target description: core and fpsimd as with qemu-user's stub, and tpidr`, { timeout: 120_000 }, async () => {
    const prog = fixture('arm64', 'gdbprog');
    const cmds = ['break gdbprog.c:18', 'continue', 'info locals', 'p n', 'bt', 'p $v1', 'p $d0', 'p $fpsr', 'info registers x0 pc', 'set var $x0 = 0x1234', 'p/x $x0', 'kill'];
    const want = await session((port) => ['qemu-aarch64', '-g', String(port), prog], prog, cmds);
    const got = await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds);
    expect(want).toContain('square = 25');
    expect(got).toBe(want);
    // qemu-user describes no tpidr (gdbserver does, as org.gnu.gdb.aarch64.tls), nor cpsr's fields
    const tls = await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, ['break work', 'continue', 'info registers tpidr', 'info registers cpsr', 'kill']);
    expect(tls).toMatch(/^tpidr 0x[1-9a-f][0-9a-f]* 0x[0-9a-f]+$/m);
    expect(tls).toMatch(/^cpsr 0x[0-9a-f]+ \[ EL=0 /m);
  });

  it.skipIf(!haveGdbserver)('hardware breakpoints and watchpoints (watch, rwatch, awatch; a global and a local), signals by gdb\'s numbers as under gdbserver (x86_64)', { timeout: 120_000 }, async () => {
    const prog = fixture('x86_64', 'gdbprog');
    const sessions = [
      ['hbreak work', 'continue', 'watch watched', 'continue', 'bt', 'continue', 'continue', 'continue'],
      ['break main', 'continue', 'rwatch watched', 'awatch watched', 'continue', 'continue', 'continue', 'continue', 'continue'],
      ['break gdbprog.c:17', 'continue', 'watch sum', 'continue', 'continue', 'continue', 'continue', 'continue', 'info watchpoints', 'continue', 'continue'],
    ];
    for (const cmds of sessions) {
      const want = forkNorm(await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, cmds));
      const got = forkNorm(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds));
      expect(want).toMatch(/Hardware (read |access \(read\/write\) )?watchpoint 2: /);
      expect(want).toContain('Program received signal SIGUSR1');
      expect(got).toBe(want);
    }
  });

  it.skipIf(!haveQemu())(`hardware watchpoints stop where gdb's single-stepping watch does under qemu-user (arm64, whose stub has none)`, { timeout: 120_000 }, async () => {
    const prog = fixture('arm64', 'gdbprog');
    const cmds = ['break work', 'continue', 'watch watched', 'continue', 'bt', 'continue', 'continue', 'continue'];
    const want = await session((port) => ['qemu-aarch64', '-g', String(port), prog], prog, cmds, ['set can-use-hw-watchpoints 0']);
    const got = asQemu(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds));
    expect(want).toContain('Old value = 35\nNew value = 7');
    expect(got).toContain('Hardware watchpoint 2: watched');
    // the trap leaves the pc right after the store (a debug register's does too), which on arm64 is
    // inside the next line; gdb's stepping watch reports the stop where that line begins: the same
    // lines but for the address gdb prints with a pc inside one
    const lines = (s: string): string => s.replace(/^(#\d+ )?0x[0-9a-f]+ in /gm, '$1');
    expect(lines(got.replace(/Hardware watchpoint/g, 'Watchpoint'))).toBe(lines(want));
  });

  it.skipIf(!haveGdbserver)('a dynamic program: a breakpoint in libc, a backtrace through it and the shared libraries (qXfer:libraries-svr4) as under gdbserver, but for where things are loaded', { timeout: 120_000 }, async () => {
    const prog = fixture('x86_64', 'hello-dyn');
    const cmds = ['break main', 'continue', 'break write', 'continue', 'bt', 'info sharedlibrary', 'kill'];
    // gdbserver's files come through vFile (target:...); elfrun's layout puts things elsewhere
    const norm = (s: string): string => s.replace(/target:/g, '').replace(/0x[0-9a-f]+/g, '0xADDR');
    const want = norm(await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, cmds));
    const got = norm(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds));
    expect(want).toContain('in __libc_start_main');
    expect(want).toMatch(/Yes +\/lib\/x86_64-linux-gnu\/libc\.so\.6/);
    expect(got).toBe(want);
  });

  it('a dynamic program: breakpoint in main, its shared libraries as a native gdb session shows them, its exit code', { timeout: 120_000 }, async () => {
    const prog = fixture('x86_64', 'hello-dyn');
    const cmds = ['break main', 'continue', 'bt', 'info sharedlibrary', 'continue'];
    const got = await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds);
    const native = spawnSync('gdb-multiarch', ['-batch', '-nx', '-ex', 'break main', '-ex', 'run', '-ex', 'info sharedlibrary', '-ex', 'continue', prog], { encoding: 'utf8', timeout: 60_000 });
    // gdb reads a remote target's libraries through it (vFile): their names say target:
    const libs = (s: string): string[] => [...s.matchAll(/ Yes( \(\*\))? +(target:)?(\S+)$/gm)].map((m) => m[3]);
    expect(libs(got)).toEqual(libs(native.stdout));
    expect(libs(got).length).toBeGreaterThan(0);
    const code = (s: string): string | undefined => /exited (normally|with code \d+)/.exec(s)?.[0];
    expect(code(got)).toBe(code(native.stdout));
    expect(got).toMatch(/Breakpoint 1, 0x[0-9a-f]+ in main \(\)/);
  });

  it.skipIf(!haveGdbserver)('vFile: under --root and --sandbox, gdb reads the program and its libraries through the guest\'s view of files, as from gdbserver', { timeout: 120_000 }, async () => {
    // a root holding the program at a path only it has, with the host's libc, ld.so and passwd
    const root = mkdtempSync(join(tmpdir(), 'elfrun-gdbroot-'));
    try {
      for (const [from, to] of [
        [fixture('x86_64', 'hello-dyn'), 'opt/only-in-root/hello-dyn'],
        ['/lib/x86_64-linux-gnu/libc.so.6', 'lib/x86_64-linux-gnu/libc.so.6'],
        ['/lib64/ld-linux-x86-64.so.2', 'lib64/ld-linux-x86-64.so.2'],
        ['/etc/passwd', 'etc/passwd'],
        ['/etc/nsswitch.conf', 'etc/nsswitch.conf'],
      ]) {
        mkdirSync(dirname(join(root, to)), { recursive: true });
        copyFileSync(from, join(root, to));
      }
      const prog = fixture('x86_64', 'hello-dyn');
      // no program named to gdb: it takes the file the stub names (qXfer:exec-file), from the target
      const cmds = ['break main', 'continue', 'break write', 'continue', 'bt 1', 'info sharedlibrary', 'kill'];
      const pre = ['set sysroot target:'];
      const raw = (s: string): string => s.replace(/0x[0-9a-f]+/g, '0xADDR').replace(/process \d+/g, 'process N');
      const want = raw(await session((port) => ['gdbserver', `127.0.0.1:${port}`, join(root, 'opt/only-in-root/hello-dyn')], '', cmds, pre)).replaceAll(root, '');
      const got = raw(await session((port) => [ELFRUN, 'run', '--root', root, '--gdb', `127.0.0.1:${port}`, '/opt/only-in-root/hello-dyn'], '', cmds, pre));
      expect(want).toMatch(/Yes +target:\/lib\/x86_64-linux-gnu\/libc\.so\.6/);
      expect(want).toContain('Reading symbols from target:/opt/only-in-root/hello-dyn');
      expect(got).toBe(want);
      // the transfers themselves: gdb says it read each file from the target
      const files = await session((port) => [ELFRUN, 'run', '--root', root, '--gdb', `127.0.0.1:${port}`, '/opt/only-in-root/hello-dyn'], '', ['break write', 'continue', 'kill'], pre, false);
      expect(files).toContain('Reading /opt/only-in-root/hello-dyn from remote target...');
      expect(files).toContain('Reading /lib/x86_64-linux-gnu/libc.so.6 from remote target...');
      // remote put/get/delete (vFile pwrite, unlink) and errors: the guest's /tmp is the root's
      mkdirSync(join(root, 'tmp'));
      writeFileSync(join(root, 'put-me'), 'some bytes $#}* to escape\n');
      const name = `/tmp/elfrun-vfile-${process.pid}`;
      const io = (out: string): string[] => [`remote put ${join(root, 'put-me')} ${name}`, `remote get ${name} ${out}`, `remote delete ${name}`, `remote delete ${name}`, 'remote get /nonexistent /dev/null', 'remote get /lib64 /dev/null', 'kill'];
      const ioWant = await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, io(join(root, 'want')));
      const ioGot = await session((port) => [ELFRUN, 'run', '--root', root, '--gdb', `127.0.0.1:${port}`, '/opt/only-in-root/hello-dyn'], prog, io(join(root, 'got')));
      const noAddr = (s: string): string => s.replace(/0x[0-9a-f]+/g, '0xADDR').replace(/\(TARGET\)/, '');
      expect(ioWant).toContain('Remote I/O error: No such file or directory');
      expect(noAddr(ioGot)).toBe(noAddr(ioWant));
      expect(readFileSync(join(root, 'got'), 'utf8')).toBe(readFileSync(join(root, 'want'), 'utf8'));
      expect(existsSync(join(root, name))).toBe(false);
      // under --sandbox the guest has its program but not the host's /etc/passwd: gdb gets what the guest would
      const stat = fixture('x86_64', 'gdbprog');
      const sb = await session((port) => [ELFRUN, 'run', '--sandbox', '--gdb', `127.0.0.1:${port}`, stat], stat, [`remote get /etc/passwd ${join(root, 'passwd')}`, `remote get ${stat} ${join(root, 'prog')}`, 'kill']);
      expect(sb).toContain('Remote I/O error: No such file or directory');
      expect(existsSync(join(root, 'passwd'))).toBe(false);
      expect(readFileSync(join(root, 'prog')).equals(readFileSync(stat))).toBe(true);
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  const forkSessions = [
    ['catch fork', 'catch vfork', 'catch exec', 'continue', 'continue', 'continue', 'info inferiors'],
    ['set follow-fork-mode child', 'catch exec', 'break in_child', 'continue', 'bt', 'info inferiors', 'info threads', 'continue'],
    // both processes run (schedule-multiple): when the child's exit stops all, where the parent has got
    // to is a race natively (gdbserver stops it wherever it is, in wait4 or past it, and one that got as
    // far as its vfork left gdb without its registers); the breakpoint before the vfork is where the
    // parent stops next either way. The session ends at the exec'd child's stop: continued from
    // there, gdbserver sometimes reports a stray SIGSTOP of it
    ['set detach-on-fork off', 'set schedule-multiple on', 'catch exec', 'break gdbfork.c:20', 'continue', 'info inferiors', 'inferior 1', 'continue', 'bt 1', 'continue', 'bt 1', 'p $orig_rax', 'p $rax', 'info inferiors'],
  ];
  // the registers at a stop inside a syscall (the vfork parent; the exec'd child above): what ptrace shows there
  const syscallRegs = [['catch vfork', 'continue', 'p $orig_rax', 'p $rax', 'set $rax = 5', 'p $rax', 'set $orig_rax = -1', 'p $orig_rax']];

  it.skipIf(!haveGdbserver)('fork, vfork and exec events: catch fork/vfork/exec, follow-fork-mode child, detach-on-fork off with inferiors, as under gdbserver (x86_64)', { timeout: 180_000 }, async () => {
    const prog = fixture('x86_64', 'gdbfork');
    for (const cmds of [...forkSessions, ...syscallRegs]) {
      const want = forkNorm(await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, [...cmds, 'kill']));
      const got = forkNorm(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, [...cmds, 'kill']));
      expect(want).toMatch(/\[Detaching after (v)?fork from (child|parent) process N\]|\[New inferior 2 \(TARGET\)\]/);
      expect(got).toBe(want);
    }
  });

  it.skipIf(!haveGdbserver || !ARCHES.includes('arm64'))('fork, vfork and exec events on arm64: the events gdbserver reports for the x86_64 build', { timeout: 180_000 }, async () => {
    // what happens, not where: the event lines, without the function each stop is in
    const events = (s: string, arch: string): string[] =>
      forkNorm(s)
        .replaceAll(`/fixtures/${arch}/`, '/fixtures/ARCH/')
        .split('\n')
        .filter((l) => /^(\[|Catchpoint \d+ \(|process N is executing)/.test(l) || l.includes(' hit '))
        .map((l) => l.replace(/, (0x[0-9a-f]+ in )?[a-z_A-Z]+ \(.*$/, ''));
    for (const cmds of [forkSessions[0], forkSessions[2]]) {
      const x86 = fixture('x86_64', 'gdbfork');
      const arm = fixture('arm64', 'gdbfork');
      const want = events(await session((port) => ['gdbserver', `127.0.0.1:${port}`, x86], x86, [...cmds, 'kill']), 'x86_64');
      const got = events(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, arm], arm, [...cmds, 'kill']), 'arm64');
      expect(want.length).toBeGreaterThan(2);
      expect(got).toEqual(want);
    }
  });

  // Syscall catchpoints. gdbserver names a process's first syscall stop wrongly when no other stop
  // came since it started the process (its thread starts as if at a syscall's entry, so the entry
  // reads as a return): every session stops at main first, and then both are Linux's stops.
  const sysSessions = [
    // the registers at the entry and exit; orig_rax changed at the entry (getppid becomes getpid, whose
    // exit is not caught), -1 skips write (its result: rax as gdb left it), close's result changed at its exit
    ['break main', 'continue', 'catch syscall getppid write close', 'continue', 'info registers orig_rax rax', 'set $orig_rax = 39', 'continue', 'info registers orig_rax rax rdi rdx', 'set $orig_rax = -1', 'set $rax = 3', 'p $orig_rax', 'continue', 'p $orig_rax', 'p $rax', 'continue', 'info registers orig_rax rax', 'set $rax = 0', 'break done', 'continue', 'p r_getppid == r_pid', 'p r_write', 'p r_close'],
    // every syscall
    ['break main', 'continue', 'catch syscall', 'continue', 'continue', 'continue', 'continue', 'continue', 'continue'],
    // a step from an entry stop makes the call and stops after it, with no exit stop; so does a skipped one
    ['break main', 'continue', 'catch syscall getppid write', 'continue', 'info registers rip rcx r11 eflags', 'stepi', 'info registers rip', 'p $rax == r_pid', 'continue', 'set $orig_rax = -1', 'stepi', 'p $rax', 'p $pc', 'continue'],
  ];
  // a call that parks (wait4), fork and vfork with their events, exit_group (no exit stop)
  const sysFork = ['break main', 'continue', 'catch syscall wait4 fork vfork execve exit_group', 'catch fork', 'continue', 'info registers orig_rax rax', 'continue', 'continue', 'p $orig_rax', 'p $rax > 0', 'continue', 'continue', 'p $orig_rax', 'p $rax > 0', 'info registers rip', 'continue', 'continue', 'continue', 'continue', 'continue', 'continue'];

  it.skipIf(!haveGdbserver)('syscall catchpoints: entry and exit stops, their registers, a changed or skipped call, a changed result, as under gdbserver (x86_64)', { timeout: 180_000 }, async () => {
    const sessions: Array<[string, string[]]> = [...sysSessions.map((c): [string, string[]] => ['gdbsys', c]), ['gdbfork', sysFork]];
    for (const [name, cmds] of sessions) {
      const prog = fixture('x86_64', name);
      const want = forkNorm(await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, [...cmds, 'kill']));
      const got = forkNorm(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, [...cmds, 'kill']));
      expect(want).toMatch(/Catchpoint \d+ \(call to syscall [a-z_0-9]+\)/);
      expect(got).toBe(want);
    }
  });

  it.skipIf(!haveGdbserver || !ARCHES.includes('arm64'))('syscall catchpoints on arm64: the stops gdbserver makes for the x86_64 build, x8 the number and x7 entry/exit', { timeout: 180_000 }, async () => {
    // qemu-user 7.2's stub has no QCatchSyscalls (gdb: "Your system does not support this type of
    // catchpoint"): the stops are compared with gdbserver's for the x86_64 build, without the
    // registers, which differ by arch; arm64 has no orig_x0 register for gdb to skip a call with
    const stops = (s: string): string[] => s.split('\n').filter((l) => l.startsWith('Catchpoint ') && l.includes('syscall ')).map((l) => l.replace(/, 0x[0-9a-f]+ in .*$/, ''));
    const x86 = fixture('x86_64', 'gdbsys');
    const arm = fixture('arm64', 'gdbsys');
    const want = stops(await session((port) => ['gdbserver', `127.0.0.1:${port}`, x86], x86, [...sysSessions[1], 'kill']));
    const got = stops(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, arm], arm, [...sysSessions[1], 'kill']));
    expect(want.length).toBe(6);
    expect(got).toEqual(want);
    // at the entry x7 is 0 and at the exit 1 (Linux's marker in x7 while stopped), x8 the number; x0 the result at the exit
    const regs = await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, arm], arm, ['break main', 'continue', 'catch syscall getppid close', 'continue', 'p $x8', 'p $x7', 'continue', 'p $x8', 'p $x7', 'continue', 'continue', 'p $x0', 'set $x0 = 0', 'break done', 'continue', 'p r_close', 'kill']);
    expect(regs).toContain('(call to syscall getppid)');
    expect(regs).toMatch(/\$1 = 173\n\$2 = 0\n[^$]*returned from syscall getppid[^$]*\$3 = 173\n\$4 = 1\n/);
    // close(42): EBADF, then 0 as gdb set it
    expect(regs).toMatch(/\$5 = -9\n[^$]*\$6 = 0/);
  });

  // where each waiting thread is differs from run to run (natively too): the names, not the frames
  const threadNames = (s: string): string[] => s.split('\n').filter((l) => /^(\* )?\d+ Thread N "|^Thread N "/.test(l)).map((l) => l.replace(/^(\* )?(\d+ Thread N "[^"]*").*$/, '$1$2'));

  it.skipIf(!haveGdbserver)('thread names: each thread\'s own (pthread_setname_np in it), as gdbserver shows them in info threads (x86_64; arm64: the same names)', { timeout: 120_000 }, async () => {
    const cmds = ['break all_named', 'continue', 'info threads', 'kill'];
    const x86 = fixture('x86_64', 'gdbthreads');
    const want = threadNames(await session((port) => ['gdbserver', `127.0.0.1:${port}`, x86], x86, cmds));
    expect(want).toEqual(['Thread N "gdbthreads" hit Breakpoint 1, all_named () at ' + join(dirname(dirname(x86)), 'src/gdbthreads.c') + ':13', '* 1 Thread N "gdbthreads"', '2 Thread N "worker-one"', '3 Thread N "worker-two"']);
    for (const arch of ARCHES) {
      const prog = fixture(arch, 'gdbthreads');
      expect(threadNames(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds))).toEqual(want);
    }
    // and the program, as natively: main's own name is its program's, whatever its threads call themselves
    const r = spawnSync(ELFRUN, ['run', x86], { env, encoding: 'utf8' });
    expect(r.stdout).toBe(spawnSync(x86, { encoding: 'utf8' }).stdout);
  });

  // watchpoints in a forked child: followed alone, set in the child only (so not hit by the parent's
  // writes), and one in each process at once, each hit by its own process's writes
  const watchForks = [
    ['set follow-fork-mode child', 'break bump', 'continue', 'delete 1', 'watch counter', 'continue', 'continue', 'continue', 'continue'],
    ['set detach-on-fork off', 'break bump', 'continue', 'delete 1', 'inferior 2', 'watch counter', 'continue', 'continue', 'continue', 'info inferiors', 'inferior 1', 'p counter', 'continue'],
    ['set detach-on-fork off', 'break bump', 'continue', 'delete 1', 'watch counter', 'inferior 2', 'watch counter', 'continue', 'continue', 'continue', 'inferior 1', 'continue', 'continue', 'continue'],
  ];

  it.skipIf(!haveGdbserver)('watchpoints in a forked child, and in parent and child at once, hit in their own process only, as under gdbserver (x86_64; arm64: the same hits)', { timeout: 180_000 }, async () => {
    const prog = fixture('x86_64', 'gdbwfork');
    const arm = fixture('arm64', 'gdbwfork');
    // what each watchpoint saw, in order
    const hits = (s: string): string => [...s.matchAll(/hit Hardware watchpoint (\d+): counter\n\nOld value = (\d+)\nNew value = (\d+)/g)].map((m) => `${m[1]}: ${m[2]} -> ${m[3]}`).join('; ');
    for (const cmds of watchForks) {
      const want = forkNorm(await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, [...cmds, 'kill']));
      const got = forkNorm(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, [...cmds, 'kill']));
      expect(want).toContain('New value = 10');
      expect(got).toBe(want);
      if (ARCHES.includes('arm64')) expect(hits(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, arm], arm, [...cmds, 'kill']))).toBe(hits(want));
    }
    expect(hits(forkNorm(await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, [...watchForks[2], 'kill'])))).toBe('3: 0 -> 10; 3: 10 -> 11; 2: 0 -> 20; 2: 20 -> 21');
  });

  it.skipIf(!haveGdbserver)('stepi over rep movsb, rep stosb and repe cmpsb: one iteration a step, and a watchpoint hit per iteration, as under gdbserver (x86_64)', { timeout: 60_000 }, async () => {
    const prog = fixture('x86_64', 'gdbrep-x86');
    const regs = 'info registers rcx rip';
    const cmds = ['break *rep_copy', 'continue', 'delete', regs, 'stepi', regs, 'stepi', 'stepi', regs, 'stepi', regs, 'x/s &dst', 'break *rep_set', 'continue', 'delete', 'stepi 2', regs, 'x/s &fill', 'stepi 2', regs, 'break *rep_compare', 'continue', 'delete', 'stepi', regs, 'stepi', regs, 'stepi', regs, 'stepi', regs, 'kill'];
    const want = await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, cmds);
    const got = await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, cmds);
    // the count goes down a step at a time with the pc at the instruction; cmpsb ends at the difference
    expect(want).toMatch(/^rcx 0x2 2\nrip (0x[0-9a-f]+) \1 <copy\+/m);
    expect(want).toMatch(/<fill>: "zz"$/m);
    expect(got).toBe(want);
    // a watchpoint stops after each iteration that writes the watched bytes, and not for those that do not (fill shares dst's page)
    const watch = ['break copy', 'continue', 'watch dst', 'continue', regs, 'continue', regs, 'continue', regs, 'continue', 'kill'];
    const wantWatch = await session((port) => ['gdbserver', `127.0.0.1:${port}`, prog], prog, watch);
    expect(wantWatch).toContain('Old value = "a\\000\\000"\nNew value = "ab\\000"');
    expect(await session((port) => [ELFRUN, 'run', '--gdb', `127.0.0.1:${port}`, prog], prog, watch)).toBe(wantWatch);
  });

  it('a bad --gdb is one line and exit 1', () => {
    const r = spawnSync(ELFRUN, ['run', '--gdb', 'nonsense', fixture('x86_64', 'busybox'), 'true'], { env, encoding: 'utf8' });
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('elfrun: --gdb nonsense: not HOST:PORT\n');
  });
});
