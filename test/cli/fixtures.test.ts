// Our own test programs (fixtures/src) under elfrun against Linux.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ARCHES, ELFRUN, checkoutInTmp, fixture, runElfrun, runLinux, type TestArch } from '../helpers/oracle.js';

/**
 * A fixture under elfrun prints, says and ends as Linux's run of it: the
 * same arch's (native or qemu-aarch64), or `oracle`'s when the answer does
 * not depend on the arch and qemu-aarch64 gets it wrong.
 */
function expectSameAsLinux(arch: TestArch, prog: string, args: string[] = [], oracle: TestArch = arch): void {
  const want = runLinux(oracle, fixture(oracle, prog), args);
  const got = runElfrun(fixture(arch, prog), args);
  expect(got.stdout).toBe(want.stdout);
  expect(got.stderr).toBe(want.stderr);
  expect(got.status).toBe(want.status);
}

/** Can the native oracle mount in a mount namespace of its own (root)? */
const CAN_UNSHARE = spawnSync('unshare', ['-m', 'true']).status === 0;

for (const arch of ARCHES) {
  describe(`fixtures on ${arch}`, () => {
    it('errors: bad pointers, fds and arguments give Linux\'s errno', () => {
      expectSameAsLinux(arch, 'errors');
    });

    it('auxv: argv, envp and the auxv values Linux fixes', () => {
      const args = ['one', 'two words', ''];
      const want = runLinux(arch, fixture(arch, 'auxv'), args);
      const got = runElfrun(fixture(arch, 'auxv'), args);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(0);
    });

    for (const [prog, what] of [
      ['regs', 'the syscall register ABI (result, clobbers, preserved registers)'],
      ['auxv-pie', 'a static-PIE program (ET_DYN without an interpreter)'],
      ['threads', 'pthreads: create/join, mutex, condition variable, TLS, 16 threads'],
      ['forkmem', 'fork: copied and shared memory stay private to each process'],
      ['forkswap', 'fork, many ways: the child\'s writes stay its own, the parent keeps what it wrote meanwhile, however the child ends and whatever either did to its mappings'],
      ['forkfutex', 'fork while other threads wait on futexes in private memory: the parent\'s wakes reach them, the child\'s copies have no waiters'],
      ['stack', 'the stack grows on demand: 6 MiB of frames'],
      ['rtsig', 'real-time signals queue, sigqueue values, sigpending, sigtimedwait, alarm and interval timers'],
      ['sigregs', 'a signal frame holds every register (x87, SSE, SIMD too), the handler starts from Linux\'s FPU state, sigreturn restores the frame'],
      ['epoll', 'epoll: ctl add/mod/del and errors, waits with timeouts, oneshot, hangup, epoll inside poll'],
      ['sockpair', 'socketpair: stream I/O both ways, peek, sendmsg/recvmsg, shutdown, EPIPE, options, across fork'],
      ['sockioctl', 'ioctls on AF_UNIX sockets: SIOCINQ per socket type, ENOTTY for a terminal request'],
    ]) {
      it(`${prog}: ${what}`, () => {
        expectSameAsLinux(arch, prog, prog === 'stack' ? [] : ['arg']);
      });
    }

    it('fpuinit: a program starts, and exec leaves the new image, with Linux\'s initial FPU state', () => {
      const got = runElfrun(fixture(arch, 'fpuinit'), []);
      expect(got.status).toBe(0);
      const lines = got.stdout.split('\n');
      if (arch === 'x86_64') {
        expect(got.stdout).toBe(runLinux(arch, fixture(arch, 'fpuinit'), []).stdout);
      } else {
        // qemu-aarch64 cannot follow the exec (no binfmt_misc): the start is
        // compared with it, and exec must give the same state again, as
        // Linux's fpsimd_flush_thread does
        const want = runLinux(arch, fixture(arch, 'fpuinit'), []);
        expect(lines.slice(0, 2)).toEqual(want.stdout.split('\n').slice(0, 2));
      }
      expect(lines.slice(2, 4).map((l) => l.replace('after exec', 'at start'))).toEqual(lines.slice(0, 2));
    });

    it('faultcodes: each kind of fault raises Linux\'s signal, si_code and si_addr', () => {
      const got = runElfrun(fixture(arch, 'faultcodes'), []);
      let want = runLinux(arch, fixture(arch, 'faultcodes'), []).stdout;
      // qemu-aarch64 reports an undefined instruction as ILL_ILLOPN; Linux's
      // arm64 do_undefinstr sends ILL_ILLOPC (arch/arm64/kernel/traps.c)
      if (arch === 'arm64') want = want.replace(/^(udf +SIGILL si_code )2 /m, '$11 ');
      // qemu-aarch64 maps a PROT_NONE guard page below the stack (SEGV_ACCERR);
      // Linux has a gap there, no mapping, and its failed stack expansion is
      // VM_FAULT_BADMAP, SEGV_MAPERR (arch/arm64/mm/fault.c)
      if (arch === 'arm64') want = want.replace(/^(stack past RLIMIT_STACK +SIGSEGV si_code )2 /m, '$11 ');
      expect(got.stdout).toBe(want);
      expect(got.status).toBe(0);
    });

    it('preempt: a busy child is killed, an alarm interrupts a loop without syscalls, spinning threads hand a flag back and forth', () => {
      expectSameAsLinux(arch, 'preempt');
    });

    it('spinwait: threads that spin with the CPU\'s spin-wait hint (pause; yield, wfe) hand a flag back and forth and share a spinlock', () => {
      expectSameAsLinux(arch, 'spinwait');
    });

    it('cputime: ITIMER_VIRTUAL, ITIMER_PROF and RLIMIT_CPU (SIGXCPU, then SIGKILL) count CPU time spent without syscalls', () => {
      expectSameAsLinux(arch, 'cputime');
    });

    it('restart: signals end or resume waits as Linux does (stop and continue, handlers with and without SA_RESTART, the time left)', () => {
      const got = runElfrun(fixture(arch, 'restart'), []);
      let want = runLinux(arch, fixture(arch, 'restart'), []).stdout;
      // qemu-aarch64 writes pselect6's time left back only when the call
      // succeeds (linux-user do_pselect6); Linux's poll_select_finish writes it
      // when a signal ends the call too, and glibc's select copies it out
      if (arch === 'arm64') want = want.replace(/select: -1 Interrupted system call, timeval wrong/g, 'select: -1 Interrupted system call, timeval about 0.3 s');
      expect(got.stdout).toBe(want);
      expect(got.status).toBe(0);
    });

    it('longwait: alarms, polls, selects and sleeps of billions of seconds wait (no host timer warning), and signals end them', () => {
      expectSameAsLinux(arch, 'longwait');
    });

    it('fenv: floating-point exception flags, rounding modes, and SIGFPE from an unmasked exception', () => {
      // oracle: native x86_64 (SSE and x87 flags; #XM at the faulting SSE
      // instruction, #MF at the next waiting x87 one, si_code as Linux's
      // fpu__exception_code gives it) and qemu-aarch64, which, as Linux on a
      // core without trapped exceptions, keeps FPCR's trap enable bits at
      // zero: feenableexcept fails and no exception traps
      expectSameAsLinux(arch, 'fenv');
    });

    it('faultctx: a fault\'s trap number, error code and cr2 (x86_64) or fault address (arm64) in the handler\'s ucontext', () => {
      expectSameAsLinux(arch, 'faultctx');
    });

    if (arch === 'x86_64') {
      it('sigxstate-x86: a signal frame\'s FP state has Linux\'s XSAVE magic and sizes', () => {
        expectSameAsLinux(arch, 'sigxstate-x86');
      });

      it('cpuctl-x86: PR_SET_TSC and ARCH_SET_CPUID make rdtsc and cpuid fault; fork keeps both, exec only the first', () => {
        expectSameAsLinux(arch, 'cpuctl-x86');
      });
    }

    it('cpuinfo: /proc/cpuinfo lists every processor, with the features the CPU reports (CPUID, AT_HWCAP)', () => {
      // oracle: native x86_64 for both arches (the output is arch-neutral;
      // qemu-aarch64 shows an arm64 program the host's x86 cpuinfo)
      expectSameAsLinux(arch, 'cpuinfo', [], 'x86_64');
    });

    if (arch === 'x86_64') {
      // the CPU contract with glibc's floating point, sleeps, selects and signal frames too
      for (const prog of ['fenv', 'restart', 'faultcodes', 'faultctx', 'cpuinfo', 'longwait', 'preempt', 'spinwait', 'cputime']) {
        it(`${prog}-glibc: as ${prog}, built with glibc`, () => {
          expectSameAsLinux(arch, `${prog}-glibc`);
        });
      }
    }

    it('eventfd: counter and semaphore reads and writes, their limits, blocking both ways, poll and epoll, /proc and fstat', () => {
      expectSameAsLinux(arch, 'eventfd');
    });

    it('inotify: init flags and errors, add_watch\'s errors and flags, wds, the events of file and directory changes with padded names and move cookies, merging, short reads, FIONREAD, poll and epoll, IN_ONESHOT, rm_watch, IN_Q_OVERFLOW, /proc', () => {
      // in a host directory: the host's inotify reports
      expectSameAsLinux(arch, 'inotify');
    });

    it.skipIf(!CAN_UNSHARE)('inotify-umount: watches on a tmpfs end with IN_UNMOUNT (IN_ISDIR for directories), newest inode first, then IN_IGNORED', () => {
      // the native run mounts in a mount namespace of its own (unshare -m, which needs root); elfrun's guest mounts in its own tree
      const argv = arch === 'x86_64' ? [fixture(arch, 'inotify-umount')] : ['qemu-aarch64', fixture(arch, 'inotify-umount')];
      const want = spawnSync('unshare', ['-m', ...argv], { encoding: 'utf8' });
      const got = runElfrun(fixture(arch, 'inotify-umount'), []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(0);
    });

    it('inotify-fdinfo: fdinfo\'s watch lines (inode, device, mask, the host file system\'s file handle) for host directories', () => {
      const dir = mkdtempSync(join(tmpdir(), 'elfrun-inotify-'));
      try {
        mkdirSync(join(dir, 'a'));
        mkdirSync(join(dir, 'b'));
        const args = [join(dir, 'a'), join(dir, 'b')];
        const want = runLinux(arch, fixture(arch, 'inotify-fdinfo'), args);
        expect(want.stdout).toMatch(/^inotify wd:2 /);
        expect(runElfrun(fixture(arch, 'inotify-fdinfo'), args).stdout).toBe(want.stdout);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it.skipIf(checkoutInTmp)('inotify on tmpfs: the same events, reported by elfrun\'s VFS', () => {
      const want = runLinux(arch, fixture(arch, 'inotify'), []);
      const got = runElfrun(fixture(arch, 'inotify'), [], { flags: ['--tmpfs', '/tmp'] });
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });

    it('smallcalls: personality, ioprio_get/set, membarrier\'s query and registrations, mincore\'s residency and errors, across fork', () => {
      // oracle: native x86_64 for both arches (arch-neutral; qemu-aarch64 refuses mincore of PROT_NONE pages and ignores MADV_DONTNEED)
      expectSameAsLinux(arch, 'smallcalls', [], 'x86_64');
    });

    if (arch === 'x86_64') {
      it('utimes-x86: utime, utimes and futimesat (times, NULL, a NULL path on a dirfd, EINVAL, EFAULT, ENOENT, EBADF), on a host directory and on tmpfs', () => {
        expectSameAsLinux(arch, 'utimes-x86');
        if (checkoutInTmp) return;
        const got = runElfrun(fixture(arch, 'utimes-x86'), [], { flags: ['--tmpfs', '/tmp'] });
        expect(got.stdout).toBe(runLinux(arch, fixture(arch, 'utimes-x86'), []).stdout);
      });
    }

    it('mlock: mlock, mlock2, munlock, mlockall, munlockall with VmLck, smaps\'s lo flag, faulted-in pages, errors, RLIMIT_MEMLOCK without CAP_IPC_LOCK, MAP_LOCKED, fork', () => {
      // oracle: native x86_64 for both arches (arch-neutral; qemu-aarch64 has no mlock2)
      expectSameAsLinux(arch, 'mlock', [], 'x86_64');
    });

    it('pidfd: pidfd_open, pidfd_send_signal, pidfd_getfd and waitid P_PIDFD: flags and errors, PIDFD_NONBLOCK, poll and epoll on exit and reap, siginfo rules, /proc', () => {
      expectSameAsLinux(arch, 'pidfd');
    });

    it('memfd: memfd_create\'s flags and names, /proc and fstat, shared mappings across fork, every seal (EPERM, EBUSY over a writable mapping), MFD_NOEXEC_SEAL and MFD_EXEC', () => {
      expectSameAsLinux(arch, 'memfd');
    });

    // qemu-aarch64 emulates shmat itself and gets SHM_REMAP, split attaches and SHM_STAT_ANY wrong: the
    // output does not depend on the arch, so arm64 is compared with the native x86_64 run
    it('sysvshm: shmget keys and errors, shmat flags, shmctl commands, attach counts across fork, exit and splits, IPC_RMID, permissions, /proc maps and sysvipc', () => {
      expectSameAsLinux(arch, 'sysvshm', [], 'x86_64');
    });

    it('sysvsem: semget keys and errors, semctl commands, atomic groups, ERANGE, semtimedop, waiters counted and woken across processes, SEM_UNDO at exit and kill, EINTR, EIDRM', () => {
      expectSameAsLinux(arch, 'sysvsem');
    });

    // qemu-aarch64 aborts on msgsnd of type 0: arm64 is compared with the native x86_64 run (the output does not depend on the arch)
    it('sysvmsg: msgget keys and errors, msgrcv by type, MSG_COPY, MSG_NOERROR and E2BIG, msg_qbytes, blocked senders and receivers, EINTR, EIDRM, msgctl commands', () => {
      expectSameAsLinux(arch, 'sysvmsg', [], 'x86_64');
    });

    // qemu-aarch64 has no mq_notify and turns an access mode of 3 into an open: arm64 is compared with the native x86_64 run
    it('mqueue: mq_open flags, attributes and errors, priorities, full and empty queues, timeouts, waiters across fork, EINTR and SA_RESTART, mq_notify, the fd (fstat, /proc, read, poll), permissions, mq_unlink', () => {
      expectSameAsLinux(arch, 'mqueue', [], 'x86_64');
    });

    // ids are only the same run after run in a fresh IPC namespace: the oracle runs under unshare -i
    it.runIf(spawnSync('unshare', ['-i', 'true']).status === 0)('ipcids: System V ids (index cycling, sequence), *_STAT by index, the info commands\' highest index, /proc/sysvipc lines', () => {
      const prog = fixture(arch, 'ipcids');
      const want = spawnSync('unshare', ['-i', ...(arch === 'x86_64' ? [] : ['qemu-aarch64']), prog], { encoding: 'latin1' });
      const got = runElfrun(prog, []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });

    // mounting needs a mount namespace of its own natively (unshare -m; elfrun's guest has its own tree)
    it.runIf(spawnSync('unshare', ['-m', 'true']).status === 0)('mqueuefs: a mount of mqueue lists, stats, opens, creates and unlinks the namespace\'s queues', () => {
      const prog = fixture(arch, 'mqueuefs');
      const want = spawnSync('unshare', ['-m', ...(arch === 'x86_64' ? [] : ['qemu-aarch64']), prog], { encoding: 'latin1' });
      const got = runElfrun(prog, []);
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });

    it('signalfd: flags and errors, a new mask, siginfo of kill, tgkill, sigqueue and SIGCHLD, several per read, blocking across fork, poll and epoll, /proc', () => {
      // oracle: native x86_64 for both arches (arch-neutral; qemu-aarch64
      // takes mask sizes Linux refuses)
      expectSameAsLinux(arch, 'signalfd', [], 'x86_64');
    });

    it('caps: capget against /proc, what uid changes, capset and exec do to the capability sets', () => {
      // oracle: native x86_64 for both arches (arch-neutral; under qemu-aarch64
      // the exec of /proc/self/exe is a host exec of an arm64 file)
      expectSameAsLinux(arch, 'caps', [], 'x86_64');
    });

    it('pkeys: memory protection keys as Linux has them on a CPU without any', () => {
      // oracle: native x86_64 (a host without PKU, as the engine is) for both
      // arches; qemu-aarch64 has no pkey syscalls (ENOSYS)
      expectSameAsLinux(arch, 'pkeys', [], 'x86_64');
    });

    it('timerfd: one-shot, interval and absolute timers, expiration counts, gettime/settime, poll and epoll, errors, /proc', () => {
      // oracle: native x86_64 for both arches (arch-neutral; qemu-aarch64
      // drops the flag bits it does not know and takes what Linux refuses)
      expectSameAsLinux(arch, 'timerfd', [], 'x86_64');
    });

    it('pipeflags: the flags pipe2 takes and refuses', () => {
      // oracle: native x86_64 for both arches (raw syscalls, arch-neutral
      // answers; qemu-aarch64 translates pipe2's flags through its own table
      // and drops the bits it does not know, so it takes what Linux refuses)
      expectSameAsLinux(arch, 'pipeflags', [], 'x86_64');
    });

    it('devzero: mmap of /dev/zero is anonymous memory (shared across fork with MAP_SHARED); reads zero, stop at an unmapped page, EFAULT on read-only memory', () => {
      // oracle: native x86_64 for both arches (the answer does not depend on
      // the arch; qemu-aarch64 fails a read that runs into an unmapped page
      // with EFAULT where Linux returns the bytes before it)
      expectSameAsLinux(arch, 'devzero', ['arg'], 'x86_64');
    });

    it('codechange: code that already ran, then changed by stores, read(2), mprotect and mmap, runs as it is now or faults', () => {
      // oracle: native x86_64 for both arches (the output is arch-neutral; qemu-aarch64 gives the same)
      expectSameAsLinux(arch, 'codechange', [], 'x86_64');
    });

    it('mmapfile: a private read-only file mapping is the file\'s pages (growth shows, past the end is SIGBUS, mprotect rw copies, MADV_REMOVE refuses)', () => {
      // oracle: native x86_64 for both arches (arch-neutral; qemu-aarch64 lets
      // MADV_REMOVE punch a private mapping, which Linux refuses with EACCES)
      expectSameAsLinux(arch, 'mmapfile', [], 'x86_64');
    });

    it('txtbsy: a running program\'s file cannot be opened for writing or truncated, nor a file open for writing run (ETXTBSY)', () => {
      // oracle: native x86_64 for both arches (arch-neutral; under qemu-user
      // the exec'd copy would be a host execve of an arm64 file)
      expectSameAsLinux(arch, 'txtbsy', [], 'x86_64');
    });

    it('rlimits: RLIMIT_AS (mmap, mremap, brk, malloc, stack growth), RLIMIT_DATA, RLIMIT_FSIZE (short write, EFBIG, SIGXFSZ), RLIMIT_NOFILE', () => {
      // oracle: native x86_64 for both arches (arch-neutral; qemu-user keeps
      // the address-space limits to itself and lets the guest map past them)
      expectSameAsLinux(arch, 'rlimits', [], 'x86_64');
    });

    it('mem: mmap/munmap/mprotect/mremap/brk/madvise semantics', () => {
      // The oracle is the native x86_64 run for both arches: the semantics are
      // arch-neutral and qemu-aarch64 7.2 gets MAP_FIXED_NOREPLACE wrong (it
      // replaces an existing mapping instead of failing with EEXIST).
      expectSameAsLinux(arch, 'mem', [], 'x86_64');
    });

    for (const how of ['segv', 'ill']) {
      it(`crash ${how}: killed by the same signal`, () => {
        const want = runLinux(arch, fixture(arch, 'crash'), [how]);
        const got = runElfrun(fixture(arch, 'crash'), [how]);
        expect(want.signal).not.toBeNull();
        expect(got.signal).toBe(want.signal);
        expect(got.stdout).toBe(want.stdout);
        expect(got.stderr).toBe('');
      });
    }

    it('stack overflow past RLIMIT_STACK dies by SIGSEGV, as on Linux', () => {
      const want = runLinux(arch, fixture(arch, 'stack'), ['overflow']);
      const got = runElfrun(fixture(arch, 'stack'), ['overflow']);
      expect(want.signal).toBe('SIGSEGV');
      expect(got.signal).toBe(want.signal);
      expect(got.stdout).toBe(want.stdout);
    });

    it('crash: --debug prints the fault address', () => {
      const got = runElfrun(fixture(arch, 'crash'), ['segv'], { flags: ['--debug'] });
      expect(got.signal).toBe('SIGSEGV');
      expect(got.stderr).toMatch(/^elfrun: guest killed by signal 11: write to unmapped memory at 0x10 \(pc 0x[0-9a-f]+\)\n$/);
    });

    it('exit status passes through', () => {
      const want = runLinux(arch, fixture(arch, 'crash'), ['exit', '42']);
      const got = runElfrun(fixture(arch, 'crash'), ['exit', '42']);
      expect(want.status).toBe(42);
      expect(got.status).toBe(42);
    });

    it('an unimplemented syscall panics with one clear line', () => {
      const got = runElfrun(fixture(arch, 'kexec'), []);
      const nr = arch === 'x86_64' ? 246 : 104;
      expect(got.stderr).toMatch(new RegExp(`^elfrun: unimplemented syscall kexec_load \\(${nr}\\) on ${arch}, pid \\d+, pc 0x[0-9a-f]+\\n$`));
      expect(got.status).toBe(125);
      expect(got.stdout).toBe('');
    });

    it('--on-missing=enosys returns ENOSYS as a kernel without the syscall would', () => {
      const got = runElfrun(fixture(arch, 'kexec'), [], { flags: ['--on-missing=enosys'] });
      expect(got.stdout).toBe('kexec_load = -1 (Function not implemented)\n');
      expect(got.status).toBe(0);
    });

    it('a write to a closed pipe kills with SIGPIPE, as on Linux', () => {
      const bb = fixture(arch, 'busybox');
      const linux = arch === 'x86_64' ? `${bb}` : `qemu-aarch64 ${bb}`;
      const cmd = (run: string): string => `${run} seq 1 200000 | head -2; echo "status=\${PIPESTATUS[0]}"`;
      const want = spawnSync('bash', ['-c', cmd(linux)], { env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' } });
      const got = spawnSync('bash', ['-c', cmd(`${ELFRUN} run ${bb}`)], { env: { ...process.env, ELFRUN_QUIET_UNICORN: '1' } });
      expect(got.stdout.toString()).toBe(want.stdout.toString());
      expect(got.stderr.toString()).toBe(want.stderr.toString());
    });

    it('-E, -U and --argv0 shape the guest\'s environment and argv', () => {
      const bb = fixture(arch, 'busybox');
      const env = { PATH: '/usr/bin:/bin', KEEP: 'yes', DROP: 'no', ELFRUN_QUIET_UNICORN: '1', HOME: process.env.HOME ?? '/' };
      const want = runLinux(arch, bb, ['env'], { env: { PATH: '/usr/bin:/bin', KEEP: 'yes', ADDED: 'x=y', ELFRUN_QUIET_UNICORN: '1', HOME: process.env.HOME ?? '/' } });
      const got = runElfrun(bb, ['env'], { env, flags: ['-U', 'DROP', '-E', 'ADDED=x=y'] });
      expect(got.stdout.split('\n').sort()).toEqual(want.stdout.split('\n').sort());
      const a0 = runElfrun(fixture(arch, 'auxv'), [], { flags: ['--argv0', 'renamed'] });
      expect(a0.stdout).toContain('argv[0]=renamed\n');
    });

    it.runIf(arch === 'x86_64')('sse2-x86: SSE2 integer operations and the string functions built on them give native results', () => {
      expectSameAsLinux(arch, 'sse2-x86');
    });

    it.runIf(arch === 'x86_64')('repstring-x86: rep movs/stos of every size, both directions, overlapping, faulting part-way and onto code give native results', () => {
      expectSameAsLinux(arch, 'repstring-x86');
    });

    it.runIf(arch === 'x86_64')('rotflags-x86: flags after rol/ror by an immediate, following each kind of flag-setting instruction, read every way, are native', () => {
      expectSameAsLinux(arch, 'rotflags-x86');
    });

    it('textwrite: a program that writes to its read-only data leaves the file as it was for the next exec', () => {
      // oracle: native x86_64 (qemu-aarch64 runs /proc/self/exe as qemu itself); the answer does not depend on the arch
      expectSameAsLinux(arch, 'textwrite', [], 'x86_64');
    });

    it('the guest sees NODE_EXTRA_CA_CERTS, which bin/elfrun keeps from Node, as it was', () => {
      const bb = fixture(arch, 'busybox');
      for (const extra of [{ NODE_EXTRA_CA_CERTS: '/no/such file.pem' }, {}]) {
        const env = { PATH: '/usr/bin:/bin', ELFRUN_QUIET_UNICORN: '1', HOME: process.env.HOME ?? '/', ...extra };
        const want = runLinux(arch, bb, ['env'], { env });
        const got = runElfrun(bb, ['env'], { env });
        expect(got.stdout.split('\n').sort()).toEqual(want.stdout.split('\n').sort());
      }
    });
  });
}
