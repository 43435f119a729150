// A syscall's trace signature: what each argument register holds and what the
// return value means, in the words strace uses to print them. Declared with
// the handler (handlers/*.ts); the tracer decodes from it (trace-decode.ts).
import { F_ADD_SEALS, F_DUPFD, F_DUPFD_CLOEXEC, F_GET_SEALS, F_GETFD, F_GETFL, F_GETLEASE, F_GETLK, F_GETOWN, F_GETOWN_EX, F_GETPIPE_SZ, F_GETSIG, F_NOTIFY, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETFD, F_SETFL, F_SETLEASE, F_SETLK, F_SETLKW, F_SETOWN_EX, F_SETSIG } from '../abi/fcntl.js';
import { S_IFBLK, S_IFCHR, S_IFMT } from '../abi/stat.js';
import type { Args } from '../cpu/args.js';
import type { ArchName } from '../cpu/arch.js';

/**
 * How one argument is shown. Argument i of a signature decodes register i
 * (an ArgSpec pair names another register); a kind that needs a second
 * register (a buffer's length, a count) reads the next one itself. Kinds
 * marked (out) are written by the kernel and shown at exit, as strace does.
 */
export type ArgKind =
  // numbers
  | 'int' | 'uint' | 'hex' | 'ptr' | 'size' | 'off' | 'mode' | 'umask'
  // fds and paths
  | 'fd' | 'dirfd' | 'path' | 'fds2' /* (out) */
  // a NUL-terminated string that is not a path (a name): cut at -s, as strace does
  | 'name'
  // buffers: strin is (buf, len); strout is filled up to the return value (out), randout too (in hex)
  | 'strin' | 'strout' | 'xattrin' | 'xattrout' | 'randout' | 'iovin' | 'iovout' /* (out) */ | 'argv' | 'envp'
  // flags and enumerations
  | 'oflags' | 'statusflags' | 'fdflags' | 'accmode' | 'atflags' | 'whence' | 'prot' | 'mapflags' | 'msflags' | 'madvise'
  | 'cloneflags' | 'wopts' | 'idtype' | 'grnd' | 'futexop' | 'ioctl' | 'fcntl' | 'prctl' | 'archprctl' | 'rlimres'
  | 'clock' | 'itimer' | 'prio' | 'rusagewho' | 'fadvice' | 'mpolmode' | 'clone3args' | 'unshareflags' | 'mbindflags' | 'getmpolflags' | 'closerange' | 'renameflags' | 'mknodmode' | 'timerflags'
  | 'statxflags' | 'statxmask' | 'mremapflags' | 'rwflags' | 'spliceflags' | 'offptr' | 'sendoff' | 'fallocmode' | 'syncrangeflags' | 'schedpolicy' | 'schedparam'
  | 'sockfamily' | 'socktype' | 'sockflags' | 'sockproto' | 'msgflags' | 'shuthow' | 'sollevel' | 'sockopt' | 'epollflags' | 'epollop' | 'efdflags' | 'tfdflags' | 'tfdsetflags' | 'sfdflags' | 'inotifyflags' | 'inotifymask'
  | 'sig' | 'sighow' | 'cap' | 'futexval3' | 'futexwakeop' | 'futexwaitv' | 'futexwaitv2' | 'flockop' | 'leasetype' | 'seals' | 'mfdflags' | 'mountflags' | 'umountflags' | 'xattrflags'
  // System V IPC: keys, the get calls' flags and mode, shmat's flags, each family's commands, semop's operations, msgsnd/msgrcv flags
  | 'ipckey' | 'ipcflags' | 'shmatflags' | 'shmcmd' | 'semcmd' | 'msgcmd' | 'sembuf' | 'msgipcflags'
  // a struct msgbuf (mtype, then as many bytes of mtext as the next argument says): read at entry (msgsnd), written (msgrcv, out)
  | 'msgbufin' | 'msgbufout'
  // struct mq_attr, read (mq_open, mq_getsetattr's new) or written (its old, out)
  | 'mqattr' | 'mqattrout'
  // AIO: io_submit's iocb pointers (the count being the previous argument), one iocb, io_pgetevents' struct __aio_sigset
  | 'iocbs' | 'iocb' | 'aiosigset'
  // openat2's struct open_how, whose size is the next argument
  | 'openhow'
  // clone's, named as strace names them (the tids and tls are shown at exit)
  | 'childstack' | 'parenttid' | 'tls' | 'childtid'
  // structures read at entry
  // sigsetsz: a sigset whose size is the next argument (shown by address unless 8, as strace does)
  | 'sigset' | 'sigsetsz' | 'sigact' | 'stackin' | 'ts' | 'tv' | 'utimens' | 'rlim' | 'itimerval' | 'sockaddr' | 'sockoptin' | 'siginfo'
  | 'flock' | 'fownerex' | 'dnflags' | 'pollfds' | 'epollev' | 'capheader' | 'capdatain' | 'itimerspec' | 'sigevent' | 'msghdrin' | 'gidsin' | 'cpuset' | 'nodemask' | 'dev' | 'fdset' | 'pselectmask'
  // structures the kernel writes (out)
  | 'capdata' | 'flockout' | 'fownerexout' | 'itimerspecout' | 'stat' | 'statx' | 'statfs' | 'sigactout' | 'stackout' | 'tsout' | 'sleeprem' | 'tvout' | 'rlimout' | 'wstatus' | 'siginfoout' | 'itimervalout' | 'rusage' | 'tms'
  | 'idout' | 'gidsout' | 'sigsetout' | 'cpusetout' | 'nodemaskout' | 'mpolout' | 'ptrout' | 'sizeout' | 'socklen'
  | 'sockaddrout' | 'sockoptout' | 'msghdrout' | 'epollevs' | 'aioctxout' | 'ioevents' | 'nameout' | 'secsout' | 'utsname' | 'sysinfo' | 'dirents'
  // seccomp(2)'s operation, flags and argument (by the operation), prctl's seccomp mode and struct sock_fprog
  | 'seccompop' | 'seccompflags' | 'seccompargs' | 'seccompmode' | 'sockfprog'
  // prctl's other arguments, each decoded by the option (trace-prctl.ts)
  | 'prarg'
  // kcmp's resource type; process_vm_readv/writev's iovecs of another process, and the local ones readv fills
  | 'kcmptype' | 'kcmpslot' | 'remoteiov' | 'localiovout' /* (out) */
  // the new mount API's flags, fsconfig's command, key, value and aux, struct mount_attr (its size the next argument), setns's type
  | 'fsopenflags' | 'fsmountflags' | 'fspickflags' | 'movemountflags' | 'opentreeflags' | 'mountattr' | 'setattrflags' | 'mountattrstruct' | 'fsconfigcmd' | 'fsconfigkey' | 'fsconfigvalue' | 'fsconfigaux' | 'nstype';

/** How the return value is shown (an error is always "-1 EXXX (message)"). */
export type RetKind =
  | 'int'
  /** a new fd: decorated under -y */
  | 'fd'
  /** an address (brk, mmap) */
  | 'hex'
  /** fcntl F_GETFD and F_GETFL: "0x1 (flags FD_CLOEXEC)" */
  | 'fdflags'
  | 'flflags'
  /** fcntl F_GETLEASE: "0x2 (F_UNLCK)"; F_GET_SEALS: "0x1 (seals F_SEAL_SEAL)" */
  | 'lease'
  | 'seals'
  /** a signal number: "36 (SIGRT_4)" */
  | 'sig'
  /** seconds since the epoch, with the date strace adds */
  | 'time'
  /** poll and ppoll: the fds that are ready ("1 ([{fd=3, revents=POLLIN}])"), and ppoll's time left */
  | 'poll'
  | 'ppoll'
  /** select (timeval) and pselect6 (timespec): the sets that are ready and the time left */
  | 'select'
  | 'pselect6'
  /** prctl: by the option ("1 (SUID_DUMP_USER)", "0x10 (SECBIT_KEEP_CAPS)") */
  | 'prctl';

/** One argument: a kind (decoding the register of its position), or a kind and the register it decodes. */
export type ArgSpec = ArgKind | readonly [ArgKind, number];

/** A fixed signature: the arguments strace shows, and the return kind. */
export interface Shape {
  readonly args: readonly ArgSpec[];
  readonly ret: RetKind;
}

/**
 * A syscall's signature. Most are fixed; a call whose arguments depend on
 * each other (open's mode only with O_CREAT, fcntl's third argument by
 * command) chooses its shape from the argument registers.
 */
export type Signature = Shape | ((a: Args, arch: ArchName) => Shape);

/** What a declaration may give: the argument kinds alone (the call returns an int), or a whole signature. */
export type SignatureSpec = readonly ArgKind[] | Signature;

export function signature(spec: SignatureSpec): Signature {
  if (typeof spec === 'function') return spec;
  return isShape(spec) ? spec : { args: spec, ret: 'int' };
}

function isShape(spec: readonly ArgKind[] | Shape): spec is Shape {
  return !Array.isArray(spec);
}

/** The shape of this call (a function signature evaluated on its arguments). */
export const shapeOf = (s: Signature, a: Args, arch: ArchName): Shape => (typeof s === 'function' ? s(a, arch) : s);

// ---- the calls whose arguments depend on each other ----------------------------------------

const O_CREAT = 0o100;
const O_TMPFILE = 0o20000000;

/** open/openat: the mode is shown only when it is used (O_CREAT, O_TMPFILE). */
export const openShape =
  (at: boolean) =>
  (a: Args): Shape => {
    const head: ArgKind[] = at ? ['dirfd', 'path', 'oflags'] : ['path', 'oflags'];
    const flags = a.i32(head.length - 1);
    return { args: flags & (O_CREAT | O_TMPFILE) ? [...head, 'mode'] : head, ret: 'fd' };
  };

/** mq_open: the mode and attributes only with O_CREAT, as strace shows them. */
export const mqOpenShape = (a: Args): Shape => ({ args: a.i32(1) & O_CREAT ? ['name', 'oflags', 'mode', 'mqattr'] : ['name', 'oflags'], ret: 'fd' });

/** fcntl: the third argument by command; F_DUPFD* return an fd. */
export function fcntlShape(a: Args): Shape {
  const cmd = a.i32(1);
  switch (cmd) {
    case F_GETFD:
      return { args: ['fd', 'fcntl'], ret: 'fdflags' };
    case F_GETFL:
      return { args: ['fd', 'fcntl'], ret: 'flflags' };
    case F_GETPIPE_SZ:
      return { args: ['fd', 'fcntl'], ret: 'int' };
    case F_GETLEASE:
      return { args: ['fd', 'fcntl'], ret: 'lease' };
    case F_GET_SEALS:
      return { args: ['fd', 'fcntl'], ret: 'seals' };
    case F_SETLEASE:
      return { args: ['fd', 'fcntl', 'leasetype'], ret: 'int' };
    case F_ADD_SEALS:
      return { args: ['fd', 'fcntl', 'seals'], ret: 'int' };
    case F_SETLK:
    case F_SETLKW:
    case F_OFD_SETLK:
    case F_OFD_SETLKW:
      return { args: ['fd', 'fcntl', 'flock'], ret: 'int' };
    case F_GETLK:
    case F_OFD_GETLK:
      return { args: ['fd', 'fcntl', 'flockout'], ret: 'int' };
    case F_SETFD:
      return { args: ['fd', 'fcntl', 'fdflags'], ret: 'int' };
    case F_SETFL:
      // strace shows F_SETFL's flags with an access mode, as open's
      return { args: ['fd', 'fcntl', 'oflags'], ret: 'int' };
    case F_DUPFD:
    case F_DUPFD_CLOEXEC:
      return { args: ['fd', 'fcntl', 'int'], ret: 'fd' };
    case F_GETOWN:
      return { args: ['fd', 'fcntl'], ret: 'int' };
    case F_SETOWN_EX:
      return { args: ['fd', 'fcntl', 'fownerex'], ret: 'int' };
    case F_GETOWN_EX:
      return { args: ['fd', 'fcntl', 'fownerexout'], ret: 'int' };
    case F_SETSIG:
      return { args: ['fd', 'fcntl', 'sig'], ret: 'int' };
    case F_GETSIG:
      return { args: ['fd', 'fcntl'], ret: 'sig' };
    case F_NOTIFY:
      return { args: ['fd', 'fcntl', 'dnflags'], ret: 'int' };
    default:
      return { args: ['fd', 'fcntl', 'int'], ret: 'int' };
  }
}

/** mknod/mknodat: the device number only for a device node. */
export const mknodShape =
  (at: boolean) =>
  (a: Args): Shape => {
    const head: ArgKind[] = at ? ['dirfd', 'path', 'mknodmode'] : ['path', 'mknodmode'];
    const type = a.u32(head.length - 1) & S_IFMT;
    return { args: type === S_IFCHR || type === S_IFBLK ? [...head, 'dev'] : head, ret: 'int' };
  };

const CLONE_PARENT_SETTID = 0x100000;
const CLONE_PIDFD = 0x1000;
const CLONE_SETTLS = 0x80000;
const CLONE_CHILD_SETTID = 0x1000000;
const CLONE_CHILD_CLEARTID = 0x200000;

/**
 * clone: the stack, the flags, then only the tids and tls the flags use.
 * x86_64 passes (flags, stack, parent_tid, child_tid, tls), arm64 swaps the last two.
 */
export function cloneShape(a: Args, arch: ArchName): Shape {
  const flags = a.u32(0);
  const [childReg, tlsReg] = arch === 'x86_64' ? [3, 4] : [4, 3];
  const args: ArgSpec[] = [['childstack', 1], ['cloneflags', 0]];
  if (flags & (CLONE_PARENT_SETTID | CLONE_PIDFD)) args.push(['parenttid', 2]);
  if (flags & CLONE_SETTLS) args.push(['tls', tlsReg]);
  if (flags & (CLONE_CHILD_SETTID | CLONE_CHILD_CLEARTID)) args.push(['childtid', childReg]);
  return { args, ret: 'int' };
}

/** futex: the arguments each operation uses (uaddr, op, val, then timeout, uaddr2, val3 as it needs). */
export function futexShape(a: Args): Shape {
  const head: ArgSpec[] = ['ptr', 'futexop', 'uint'];
  switch (a.i32(1) & 0x7f) {
    case 0: // FUTEX_WAIT
      return { args: [...head, 'ts'], ret: 'int' };
    case 1: // FUTEX_WAKE
    case 2: // FUTEX_FD
      return { args: head, ret: 'int' };
    case 7: // FUTEX_UNLOCK_PI
    case 8: // FUTEX_TRYLOCK_PI
      return { args: ['ptr', 'futexop'], ret: 'int' };
    case 6: // FUTEX_LOCK_PI
    case 13: // FUTEX_LOCK_PI2
      return { args: ['ptr', 'futexop', 'ts'], ret: 'int' };
    case 3: // FUTEX_REQUEUE: val2 travels in the timeout's register
      return { args: [...head, 'uint', 'ptr'], ret: 'int' };
    case 4: // FUTEX_CMP_REQUEUE
    case 12: // FUTEX_CMP_REQUEUE_PI
      return { args: [...head, 'uint', 'ptr', 'uint'], ret: 'int' };
    case 5: // FUTEX_WAKE_OP
      return { args: [...head, 'uint', 'ptr', 'futexwakeop'], ret: 'int' };
    case 9: // FUTEX_WAIT_BITSET
      return { args: [...head, 'ts', ['futexval3', 5]], ret: 'int' };
    case 10: // FUTEX_WAKE_BITSET
      return { args: [...head, ['futexval3', 5]], ret: 'int' };
    case 11: // FUTEX_WAIT_REQUEUE_PI
      return { args: [...head, 'ts', 'ptr'], ret: 'int' };
    default:
      return { args: [...head, 'ptr', 'ptr', 'hex'], ret: 'int' };
  }
}

/** mremap: the new address only with MREMAP_FIXED. */
export function mremapShape(a: Args): Shape {
  const head: ArgSpec[] = ['ptr', 'size', 'size', 'mremapflags'];
  return { args: a.u32(3) & 2 ? [...head, 'ptr'] : head, ret: 'hex' };
}

/** arch_prctl: ARCH_GET_FS and ARCH_GET_GS write the base the argument points to. */
export const archPrctlShape = (a: Args): Shape => ({ args: a.i32(0) === 0x1003 || a.i32(0) === 0x1004 ? ['archprctl', 'ptrout'] : ['archprctl', 'ptr'], ret: 'int' });

/** kcmp: strace shows the two indexes only for the types that use them (both for an unknown type) */
export function kcmpShape(a: Args): Shape {
  const type = a.u32(2);
  if (type === 7) return { args: ['int', 'int', 'kcmptype', 'uint', 'kcmpslot'], ret: 'int' }; // KCMP_EPOLL_TFD
  return { args: type >= 1 && type <= 6 ? ['int', 'int', 'kcmptype'] : ['int', 'int', 'kcmptype', 'uint', 'uint'], ret: 'int' };
}
