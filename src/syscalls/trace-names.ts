// The names strace gives to flags and constants, as tables the decoders look
// values up in. Bits are listed in the order strace prints them.
import {
  type ArchOpenFlags,
  F_DUPFD,
  F_DUPFD_CLOEXEC,
  F_GETFD,
  F_GETFL,
  F_GETLK,
  F_GETPIPE_SZ,
  F_SETFD,
  F_SETFL,
  F_SETLK,
  F_SETLKW,
  F_SETPIPE_SZ,
  F_ADD_SEALS,
  F_GET_SEALS,
  F_GETLEASE,
  F_GETOWN,
  F_GETSIG,
  F_NOTIFY,
  F_OFD_GETLK,
  F_OFD_SETLK,
  F_OFD_SETLKW,
  F_SETLEASE,
  F_SETOWN,
  F_SETSIG,
  F_SEAL_EXEC,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  O_APPEND,
  O_ASYNC,
  O_CLOEXEC,
  O_CREAT,
  O_DSYNC,
  O_EXCL,
  O_NOATIME,
  O_NOCTTY,
  O_NONBLOCK,
  O_PATH,
  O_SYNC,
  O_TMPFILE_BASE,
  O_TRUNC,
  F_SETOWN_EX,
  F_GETOWN_EX,
  DN_ACCESS,
  DN_MODIFY,
  DN_CREATE,
  DN_DELETE,
  DN_RENAME,
  DN_ATTRIB,
  DN_MULTISHOT,
} from '../abi/fcntl.js';
import {
  FIOCLEX, FIONBIO, FIONCLEX, FIONREAD, TCFLSH, TCGETS, TCSBRK, TCSETS, TCSETSF, TCSETSW, TCXONC, TIOCGPGRP, TIOCGPKT, TIOCGPTLCK, TIOCGPTN, TIOCGPTPEER,
  TIOCGSID, TIOCGWINSZ, TIOCNOTTY, TIOCOUTQ, TIOCPKT, TIOCSCTTY, TIOCSIG, TIOCSPGRP, TIOCSPTLCK, TIOCSTI, TIOCSWINSZ,
} from '../abi/ioctl.js';
import {
  ARCH_CET_STATUS, ARCH_GET_CPUID, ARCH_GET_FS, ARCH_GET_GS, ARCH_SET_CPUID, ARCH_SET_FS, ARCH_SET_GS,
  PR_CAPBSET_READ, PR_GET_DUMPABLE, PR_GET_NAME, PR_GET_NO_NEW_PRIVS, PR_GET_PDEATHSIG, PR_GET_SECCOMP, PR_SET_SECCOMP, PR_SET_DUMPABLE, PR_SET_NAME, PR_SET_NO_NEW_PRIVS, PR_SET_PDEATHSIG,
} from '../abi/prctl.js';
import { S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFREG, S_IFSOCK } from '../abi/stat.js';
import { SIG, signalName } from '../abi/signal.js';
import { EFD_CLOEXEC, EFD_NONBLOCK, EFD_SEMAPHORE } from '../abi/eventfd.js';
import { SFD_CLOEXEC, SFD_NONBLOCK } from '../abi/signalfd.js';
import { TFD_CLOEXEC, TFD_NONBLOCK, TFD_TIMER_ABSTIME, TFD_TIMER_CANCEL_ON_SET } from '../abi/timerfd.js';

/** A table of constants by value, named as abi names them: { F_GETFD } -> { 1: 'F_GETFD' }. */
export function byValue(names: Record<string, number>): Record<number, string> {
  return Object.fromEntries(Object.entries(names).map(([name, value]) => [value, name]));
}

/**
 * A signal's name as strace prints it: abi's names up to 31, then the
 * kernel's real-time range counted from 32 (SIGRTMIN, SIGRT_1, ...), not
 * from libc's SIGRTMIN.
 */
export const sigName = (n: number): string => (n < 32 || n > 64 ? signalName(n) : n === 32 ? 'SIGRTMIN' : `SIGRT_${n - 32}`);

export type Bits = ReadonlyArray<readonly [number, string]>;

/** The names of the bits set in v, '|'-joined, any unnamed rest in hex; `zero` when none is set. */
/**
 * Flag names joined by |, unknown bits in hex; `unknown` (strace's
 * "EFD_???") marks a value none of whose bits has a name: 0x10 /* EFD_??? *\/.
 */
export function flagNames(v: number, table: Bits, zero = '0', unknown?: string): string {
  const out: string[] = [];
  let rest = v >>> 0;
  for (const [bit, name] of table) {
    // >>> 0: bit 31 (EPOLLET, MSG_CMSG_CLOEXEC...) is negative as a 32-bit & result
    if (bit !== 0 && ((rest & bit) >>> 0) === bit >>> 0) {
      out.push(name);
      rest = (rest & ~bit) >>> 0;
    }
  }
  if (rest) out.push(out.length === 0 && unknown !== undefined ? `0x${rest.toString(16)} /* ${unknown} */` : `0x${rest.toString(16)}`);
  return out.length ? out.join('|') : zero;
}

/** A value's name, or the number itself (in hex when `hex`). */
export function enumName(v: number, table: Readonly<Record<number, string>> | readonly string[], hex = false): string {
  const n = (table as Record<number, string | undefined>)[v];
  return n !== undefined && n !== '' ? n : hex ? `0x${(v >>> 0).toString(16)}` : String(v);
}

/** open(2) flags after the access mode, in strace's order; the four that differ by arch come from `o`. */
export const openFlagBits = (o: ArchOpenFlags): Bits => [
  [O_CREAT, 'O_CREAT'], [O_EXCL, 'O_EXCL'], [O_NOCTTY, 'O_NOCTTY'], [O_TRUNC, 'O_TRUNC'], [O_APPEND, 'O_APPEND'], [O_NONBLOCK, 'O_NONBLOCK'],
  [O_SYNC, 'O_SYNC'], [O_DSYNC, 'O_DSYNC'], [o.O_DIRECT, 'O_DIRECT'], [o.O_LARGEFILE, 'O_LARGEFILE'], [o.O_NOFOLLOW, 'O_NOFOLLOW'],
  [O_NOATIME, 'O_NOATIME'], [O_CLOEXEC, 'O_CLOEXEC'], [O_PATH, 'O_PATH'], [O_TMPFILE_BASE | o.O_DIRECTORY, 'O_TMPFILE'],
  [o.O_DIRECTORY, 'O_DIRECTORY'], [O_ASYNC, 'FASYNC'],
];
export const ACCMODE = ['O_RDONLY', 'O_WRONLY', 'O_RDWR', '3'];

export const PROT: Bits = [[1, 'PROT_READ'], [2, 'PROT_WRITE'], [4, 'PROT_EXEC']];
export const MAP_TYPE = ['0', 'MAP_SHARED', 'MAP_PRIVATE', 'MAP_SHARED_VALIDATE'];
export const MAPF: Bits = [[0x10, 'MAP_FIXED'], [0x20, 'MAP_ANONYMOUS'], [0x100, 'MAP_GROWSDOWN'], [0x800, 'MAP_DENYWRITE'], [0x4000, 'MAP_NORESERVE'], [0x8000, 'MAP_POPULATE'], [0x20000, 'MAP_STACK'], [0x100000, 'MAP_FIXED_NOREPLACE']];
export const MREMAPF: Bits = [[1, 'MREMAP_MAYMOVE'], [2, 'MREMAP_FIXED'], [4, 'MREMAP_DONTUNMAP']];
export const MSF: Bits = [[1, 'MS_ASYNC'], [4, 'MS_SYNC'], [2, 'MS_INVALIDATE']];
export const MADV: Record<number, string> = { 0: 'MADV_NORMAL', 1: 'MADV_RANDOM', 2: 'MADV_SEQUENTIAL', 3: 'MADV_WILLNEED', 4: 'MADV_DONTNEED', 8: 'MADV_FREE', 9: 'MADV_REMOVE', 10: 'MADV_DONTFORK', 11: 'MADV_DOFORK', 12: 'MADV_MERGEABLE', 13: 'MADV_UNMERGEABLE', 14: 'MADV_HUGEPAGE', 15: 'MADV_NOHUGEPAGE', 16: 'MADV_DONTDUMP', 17: 'MADV_DODUMP', 18: 'MADV_WIPEONFORK', 19: 'MADV_KEEPONFORK', 20: 'MADV_COLD', 21: 'MADV_PAGEOUT', 22: 'MADV_POPULATE_READ', 23: 'MADV_POPULATE_WRITE', 100: 'MADV_HWPOISON' };
/** strace's clone flag names, in value order (CLONE_DETACHED has none; clone's own CLONE_NEWTIME is in the signal byte) */
export const CLONEF: Bits = [
  [0x80, 'CLONE_NEWTIME'], [0x100, 'CLONE_VM'], [0x200, 'CLONE_FS'], [0x400, 'CLONE_FILES'], [0x800, 'CLONE_SIGHAND'], [0x1000, 'CLONE_PIDFD'],
  [0x2000, 'CLONE_PTRACE'], [0x4000, 'CLONE_VFORK'], [0x8000, 'CLONE_PARENT'], [0x10000, 'CLONE_THREAD'], [0x20000, 'CLONE_NEWNS'],
  [0x40000, 'CLONE_SYSVSEM'], [0x80000, 'CLONE_SETTLS'], [0x100000, 'CLONE_PARENT_SETTID'], [0x200000, 'CLONE_CHILD_CLEARTID'],
  [0x800000, 'CLONE_UNTRACED'], [0x1000000, 'CLONE_CHILD_SETTID'], [0x2000000, 'CLONE_NEWCGROUP'], [0x4000000, 'CLONE_NEWUTS'],
  [0x8000000, 'CLONE_NEWIPC'], [0x10000000, 'CLONE_NEWUSER'], [0x20000000, 'CLONE_NEWPID'], [0x40000000, 'CLONE_NEWNET'], [0x80000000, 'CLONE_IO'],
];
/** the flags unshare takes (check_unshare_flags), the only ones strace names there */
const UNSHARE_MASK = 0x80 | 0x100 | 0x200 | 0x400 | 0x800 | 0x10000 | 0x20000 | 0x40000 | 0x2000000 | 0x4000000 | 0x8000000 | 0x10000000 | 0x20000000 | 0x40000000;
export const UNSHAREF: Bits = CLONEF.filter(([bit]) => (bit & UNSHARE_MASK) !== 0);
export const XATTRF: Bits = [[1, 'XATTR_CREATE'], [2, 'XATTR_REPLACE']];
export const ATF: Bits = [[0x100, 'AT_SYMLINK_NOFOLLOW'], [0x200, 'AT_REMOVEDIR'], [0x400, 'AT_SYMLINK_FOLLOW'], [0x800, 'AT_NO_AUTOMOUNT'], [0x1000, 'AT_EMPTY_PATH']];
export const ACCESS: Bits = [[4, 'R_OK'], [2, 'W_OK'], [1, 'X_OK']];
/** System V IPC (linux/ipc.h, shm.h, sem.h, msg.h) */
export const IPC_GET_FLAGS: Bits = [[0o1000, 'IPC_CREAT'], [0o2000, 'IPC_EXCL'], [0o4000, 'SHM_HUGETLB'], [0o10000, 'SHM_NORESERVE']];
export const SHMAT_FLAGS: Bits = [[0o10000, 'SHM_RDONLY'], [0o20000, 'SHM_RND'], [0o40000, 'SHM_REMAP'], [0o100000, 'SHM_EXEC']];
export const MSG_IPC_FLAGS: Bits = [[0o10000, 'MSG_NOERROR'], [0o20000, 'MSG_EXCEPT'], [0o40000, 'MSG_COPY'], [0o4000, 'IPC_NOWAIT']];
export const SEM_FLAGS: Bits = [[0x1000, 'SEM_UNDO'], [0o4000, 'IPC_NOWAIT']];
const IPC_CMDS = ['IPC_RMID', 'IPC_SET', 'IPC_STAT', 'IPC_INFO'];
export const SHM_CMDS: Record<number, string> = { ...IPC_CMDS, 11: 'SHM_LOCK', 12: 'SHM_UNLOCK', 13: 'SHM_STAT', 14: 'SHM_INFO', 15: 'SHM_STAT_ANY' };
export const SEM_CMDS: Record<number, string> = { ...IPC_CMDS, 11: 'GETPID', 12: 'GETVAL', 13: 'GETALL', 14: 'GETNCNT', 15: 'GETZCNT', 16: 'SETVAL', 17: 'SETALL', 18: 'SEM_STAT', 19: 'SEM_INFO', 20: 'SEM_STAT_ANY' };
export const MSG_CMDS: Record<number, string> = { ...IPC_CMDS, 11: 'MSG_STAT', 12: 'MSG_INFO', 13: 'MSG_STAT_ANY' };
export const RENAMEF: Bits = [[1, 'RENAME_NOREPLACE'], [2, 'RENAME_EXCHANGE'], [4, 'RENAME_WHITEOUT']];
export const STATX_MASK: Bits = [[0xfff, 'STATX_ALL'], [0x7ff, 'STATX_BASIC_STATS'], [0x1, 'STATX_TYPE'], [0x2, 'STATX_MODE'], [0x4, 'STATX_NLINK'], [0x8, 'STATX_UID'], [0x10, 'STATX_GID'], [0x20, 'STATX_ATIME'], [0x40, 'STATX_MTIME'], [0x80, 'STATX_CTIME'], [0x100, 'STATX_INO'], [0x200, 'STATX_SIZE'], [0x400, 'STATX_BLOCKS'], [0x800, 'STATX_BTIME'], [0x1000, 'STATX_MNT_ID'], [0x2000, 'STATX_DIOALIGN']];
export const STATX_ATTRS: Bits = [[0x4, 'STATX_ATTR_COMPRESSED'], [0x10, 'STATX_ATTR_IMMUTABLE'], [0x20, 'STATX_ATTR_APPEND'], [0x40, 'STATX_ATTR_NODUMP'], [0x800, 'STATX_ATTR_ENCRYPTED'], [0x1000, 'STATX_ATTR_AUTOMOUNT'], [0x2000, 'STATX_ATTR_MOUNT_ROOT'], [0x100000, 'STATX_ATTR_VERITY'], [0x200000, 'STATX_ATTR_DAX']];
/** statx's synchronisation type (flags & AT_STATX_SYNC_TYPE) */
export const STATX_SYNC: Record<number, string> = { 0: 'AT_STATX_SYNC_AS_STAT', 0x2000: 'AT_STATX_FORCE_SYNC', 0x4000: 'AT_STATX_DONT_SYNC', 0x6000: 'AT_STATX_SYNC_TYPE' };
export const TIMER_FLAGS: Bits = [[1, 'TIMER_ABSTIME']];
export const SS_FLAGS: Bits = [[1, 'SS_ONSTACK'], [2, 'SS_DISABLE'], [0x80000000, 'SS_AUTODISARM']];
export const WHENCE = ['SEEK_SET', 'SEEK_CUR', 'SEEK_END', 'SEEK_DATA', 'SEEK_HOLE'];
export const CLOSE_RANGE: Bits = [[2, 'CLOSE_RANGE_UNSHARE'], [4, 'CLOSE_RANGE_CLOEXEC']];
export const FADV = ['POSIX_FADV_NORMAL', 'POSIX_FADV_RANDOM', 'POSIX_FADV_SEQUENTIAL', 'POSIX_FADV_WILLNEED', 'POSIX_FADV_DONTNEED', 'POSIX_FADV_NOREUSE'];
/** st_mode's file type bits */
export const S_IFMT = byValue({ S_IFSOCK, S_IFLNK, S_IFREG, S_IFBLK, S_IFDIR, S_IFCHR, S_IFIFO });
export const S_ISXXX: Bits = [[0o4000, 'S_ISUID'], [0o2000, 'S_ISGID'], [0o1000, 'S_ISVTX']];
/** statfs f_type: the common file systems */
export const FS_MAGIC: Record<number, string> = { 0xef53: 'EXT2_SUPER_MAGIC', 0x01021994: 'TMPFS_MAGIC', 0x9fa0: 'PROC_SUPER_MAGIC', 0x62656572: 'SYSFS_MAGIC', 0x1cd1: 'DEVPTS_SUPER_MAGIC', 0x794c7630: 'OVERLAYFS_SUPER_MAGIC', 0x9123683e: 'BTRFS_SUPER_MAGIC', 0x58465342: 'XFS_SUPER_MAGIC', 0x6969: 'NFS_SUPER_MAGIC', 0x65735546: 'FUSE_SUPER_MAGIC', 0x27e0eb: 'CGROUP_SUPER_MAGIC', 0x63677270: 'CGROUP2_SUPER_MAGIC', 0x858458f6: 'RAMFS_MAGIC', 0x4d44: 'MSDOS_SUPER_MAGIC', 0x9660: 'ISOFS_SUPER_MAGIC', 0x73717368: 'SQUASHFS_MAGIC' };
export const ST_FLAGS: Bits = [[0x1, 'ST_RDONLY'], [0x2, 'ST_NOSUID'], [0x4, 'ST_NODEV'], [0x8, 'ST_NOEXEC'], [0x10, 'ST_SYNCHRONOUS'], [0x20, 'ST_VALID'], [0x40, 'ST_MANDLOCK'], [0x400, 'ST_NOATIME'], [0x800, 'ST_NODIRATIME'], [0x1000, 'ST_RELATIME']];

export const IOCTLS = byValue({
  TCGETS, TCSETS, TCSETSW, TCSETSF, TCSBRK, TCXONC, TCFLSH, TIOCSCTTY, TIOCGPGRP, TIOCSPGRP, TIOCOUTQ, TIOCGWINSZ, TIOCSWINSZ, FIONREAD, TIOCPKT, FIONBIO,
  TIOCNOTTY, TIOCGSID, TIOCGPTN, TIOCSPTLCK, TIOCSIG, TIOCGPKT, TIOCGPTLCK, TIOCGPTPEER, FIONCLEX, FIOCLEX, TIOCSTI,
});
export const FCNTL = byValue({ F_DUPFD, F_GETFD, F_SETFD, F_GETFL, F_SETFL, F_GETLK, F_SETLK, F_SETLKW, F_SETOWN, F_GETOWN, F_SETSIG, F_GETSIG, F_SETOWN_EX, F_GETOWN_EX, F_OFD_GETLK, F_OFD_SETLK, F_OFD_SETLKW, F_SETLEASE, F_GETLEASE, F_NOTIFY, F_DUPFD_CLOEXEC, F_SETPIPE_SZ, F_GETPIPE_SZ, F_ADD_SEALS, F_GET_SEALS });
/** struct flock's l_type, and a lease's type */
export const LOCK_TYPES = ['F_RDLCK', 'F_WRLCK', 'F_UNLCK'];
/** struct f_owner_ex's types */
export const OWNER_TYPES = ['F_OWNER_TID', 'F_OWNER_PID', 'F_OWNER_PGRP'];
/** fcntl F_NOTIFY's events */
export const DN_FLAGS: Bits = [[DN_ACCESS, 'DN_ACCESS'], [DN_MODIFY, 'DN_MODIFY'], [DN_CREATE, 'DN_CREATE'], [DN_DELETE, 'DN_DELETE'], [DN_RENAME, 'DN_RENAME'], [DN_ATTRIB, 'DN_ATTRIB'], [DN_MULTISHOT, 'DN_MULTISHOT']];
export const FLOCK_OPS: Bits = [[1, 'LOCK_SH'], [2, 'LOCK_EX'], [4, 'LOCK_NB'], [8, 'LOCK_UN'], [32, 'LOCK_MAND'], [64, 'LOCK_READ'], [128, 'LOCK_WRITE']];
/** mount(2)'s flags and umount2's, as strace names them (linux/mount.h) */
export const MOUNTF: Bits = [[1, 'MS_RDONLY'], [2, 'MS_NOSUID'], [4, 'MS_NODEV'], [8, 'MS_NOEXEC'], [16, 'MS_SYNCHRONOUS'], [32, 'MS_REMOUNT'], [64, 'MS_MANDLOCK'], [128, 'MS_DIRSYNC'], [256, 'MS_NOSYMFOLLOW'], [1024, 'MS_NOATIME'], [2048, 'MS_NODIRATIME'], [4096, 'MS_BIND'], [8192, 'MS_MOVE'], [16384, 'MS_REC'], [32768, 'MS_SILENT'], [1 << 16, 'MS_POSIXACL'], [1 << 17, 'MS_UNBINDABLE'], [1 << 18, 'MS_PRIVATE'], [1 << 19, 'MS_SLAVE'], [1 << 20, 'MS_SHARED'], [1 << 21, 'MS_RELATIME'], [1 << 22, 'MS_KERNMOUNT'], [1 << 23, 'MS_I_VERSION'], [1 << 24, 'MS_STRICTATIME'], [1 << 25, 'MS_LAZYTIME']];
export const UMOUNTF: Bits = [[1, 'MNT_FORCE'], [2, 'MNT_DETACH'], [4, 'MNT_EXPIRE'], [8, 'UMOUNT_NOFOLLOW']];
export const MFD_FLAGS: Bits = [[1, 'MFD_CLOEXEC'], [2, 'MFD_ALLOW_SEALING'], [4, 'MFD_HUGETLB'], [8, 'MFD_NOEXEC_SEAL'], [0x10, 'MFD_EXEC']];
export const SEALS: Bits = [[F_SEAL_SEAL, 'F_SEAL_SEAL'], [F_SEAL_SHRINK, 'F_SEAL_SHRINK'], [F_SEAL_GROW, 'F_SEAL_GROW'], [F_SEAL_WRITE, 'F_SEAL_WRITE'], [F_SEAL_FUTURE_WRITE, 'F_SEAL_FUTURE_WRITE'], [F_SEAL_EXEC, 'F_SEAL_EXEC']];
export const PRCTL = byValue({ PR_SET_PDEATHSIG, PR_GET_PDEATHSIG, PR_GET_DUMPABLE, PR_SET_DUMPABLE, PR_SET_NAME, PR_GET_NAME, PR_CAPBSET_READ, PR_SET_NO_NEW_PRIVS, PR_GET_NO_NEW_PRIVS, PR_GET_SECCOMP, PR_SET_SECCOMP });
export const ARCHP = byValue({ ARCH_SET_GS, ARCH_SET_FS, ARCH_GET_FS, ARCH_GET_GS, ARCH_GET_CPUID, ARCH_SET_CPUID, ARCH_CET_STATUS });
export const FUTEX = ['FUTEX_WAIT', 'FUTEX_WAKE', 'FUTEX_FD', 'FUTEX_REQUEUE', 'FUTEX_CMP_REQUEUE', 'FUTEX_WAKE_OP', 'FUTEX_LOCK_PI', 'FUTEX_UNLOCK_PI', 'FUTEX_TRYLOCK_PI', 'FUTEX_WAIT_BITSET', 'FUTEX_WAKE_BITSET', 'FUTEX_WAIT_REQUEUE_PI', 'FUTEX_CMP_REQUEUE_PI', 'FUTEX_LOCK_PI2'];
/** capability numbers (PR_CAPBSET_READ) */
export const CAPS = ['CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID', 'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK', 'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN', 'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE', 'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM', 'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE'];
export const GRND: Bits = [[1, 'GRND_NONBLOCK'], [2, 'GRND_RANDOM'], [4, 'GRND_INSECURE']];

export const RLIM = ['RLIMIT_CPU', 'RLIMIT_FSIZE', 'RLIMIT_DATA', 'RLIMIT_STACK', 'RLIMIT_CORE', 'RLIMIT_RSS', 'RLIMIT_NPROC', 'RLIMIT_NOFILE', 'RLIMIT_MEMLOCK', 'RLIMIT_AS', 'RLIMIT_LOCKS', 'RLIMIT_SIGPENDING', 'RLIMIT_MSGQUEUE', 'RLIMIT_NICE', 'RLIMIT_RTPRIO', 'RLIMIT_RTTIME'];
export const CLOCKS = ['CLOCK_REALTIME', 'CLOCK_MONOTONIC', 'CLOCK_PROCESS_CPUTIME_ID', 'CLOCK_THREAD_CPUTIME_ID', 'CLOCK_MONOTONIC_RAW', 'CLOCK_REALTIME_COARSE', 'CLOCK_MONOTONIC_COARSE', 'CLOCK_BOOTTIME', 'CLOCK_REALTIME_ALARM', 'CLOCK_BOOTTIME_ALARM', '', 'CLOCK_TAI'];
export const ITIMERS = ['ITIMER_REAL', 'ITIMER_VIRTUAL', 'ITIMER_PROF'];
export const PRIO_WHICH = ['PRIO_PROCESS', 'PRIO_PGRP', 'PRIO_USER'];
export const RUSAGE_WHO: Record<number, string> = { 0: 'RUSAGE_SELF', [-1]: 'RUSAGE_CHILDREN', 1: 'RUSAGE_THREAD' };
export const MPOL = ['MPOL_DEFAULT', 'MPOL_PREFERRED', 'MPOL_BIND', 'MPOL_INTERLEAVE', 'MPOL_LOCAL', 'MPOL_PREFERRED_MANY', 'MPOL_WEIGHTED_INTERLEAVE'];
export const MPOL_FLAGS: Bits = [[0x8000, 'MPOL_F_STATIC_NODES'], [0x4000, 'MPOL_F_RELATIVE_NODES'], [0x2000, 'MPOL_F_NUMA_BALANCING']];

// strace names 2 WSTOPPED (WUNTRACED is the same bit)
export const WOPT: Bits = [[1, 'WNOHANG'], [2, 'WSTOPPED'], [4, 'WEXITED'], [8, 'WCONTINUED'], [0x01000000, 'WNOWAIT'], [0x20000000, '__WNOTHREAD'], [0x40000000, '__WALL'], [0x80000000, '__WCLONE']];
export const IDTYPE = ['P_ALL', 'P_PID', 'P_PGID', 'P_PIDFD'];
export const SAF: Bits = [[0x4000000, 'SA_RESTORER'], [0x8000000, 'SA_ONSTACK'], [0x10000000, 'SA_RESTART'], [0x40000000, 'SA_NODEFER'], [0x80000000, 'SA_RESETHAND'], [0x4, 'SA_SIGINFO'], [0x1, 'SA_NOCLDSTOP'], [0x2, 'SA_NOCLDWAIT']];
export const SIGHOW = ['SIG_BLOCK', 'SIG_UNBLOCK', 'SIG_SETMASK'];
export const CLD_CODES = ['', 'CLD_EXITED', 'CLD_KILLED', 'CLD_DUMPED', 'CLD_TRAPPED', 'CLD_STOPPED', 'CLD_CONTINUED'];
/** si_code values a process sends (negative, and SI_USER) */
export const SI_CODES: Record<number, string> = { 0: 'SI_USER', [-1]: 'SI_QUEUE', [-2]: 'SI_TIMER', [-3]: 'SI_MESGQ', [-4]: 'SI_ASYNCIO', [-5]: 'SI_SIGIO', [-6]: 'SI_TKILL', 0x80: 'SI_KERNEL' };
/** the signals whose siginfo carries the faulting address */
export const FAULT_SIGNALS = new Set<number>([SIG.SIGSEGV, SIG.SIGBUS, SIG.SIGILL, SIG.SIGFPE, SIG.SIGTRAP]);

export const POLL_EVENTS: Bits = [[1, 'POLLIN'], [2, 'POLLPRI'], [4, 'POLLOUT'], [8, 'POLLERR'], [0x10, 'POLLHUP'], [0x20, 'POLLNVAL'], [0x40, 'POLLRDNORM'], [0x80, 'POLLRDBAND'], [0x100, 'POLLWRNORM'], [0x200, 'POLLWRBAND'], [0x2000, 'POLLRDHUP']];
export const EPOLL_EVENTS: Bits = [[1, 'EPOLLIN'], [2, 'EPOLLPRI'], [4, 'EPOLLOUT'], [8, 'EPOLLERR'], [0x10, 'EPOLLHUP'], [0x20, 'EPOLLNVAL'], [0x40, 'EPOLLRDNORM'], [0x80, 'EPOLLRDBAND'], [0x100, 'EPOLLWRNORM'], [0x200, 'EPOLLWRBAND'], [0x400, 'EPOLLMSG'], [0x2000, 'EPOLLRDHUP'], [0x10000000, 'EPOLLEXCLUSIVE'], [0x20000000, 'EPOLLWAKEUP'], [0x40000000, 'EPOLLONESHOT'], [0x80000000, 'EPOLLET']];
export const EPOLL_CTL = ['', 'EPOLL_CTL_ADD', 'EPOLL_CTL_DEL', 'EPOLL_CTL_MOD'];
export const EPOLL_CREATE: Bits = [[O_CLOEXEC, 'EPOLL_CLOEXEC']];
export const TFD_FLAGS: Bits = [[TFD_CLOEXEC, 'TFD_CLOEXEC'], [TFD_NONBLOCK, 'TFD_NONBLOCK']];
export const TFD_SET_FLAGS: Bits = [[TFD_TIMER_ABSTIME, 'TFD_TIMER_ABSTIME'], [TFD_TIMER_CANCEL_ON_SET, 'TFD_TIMER_CANCEL_ON_SET']];
export const SFD_FLAGS: Bits = [[SFD_CLOEXEC, 'SFD_CLOEXEC'], [SFD_NONBLOCK, 'SFD_NONBLOCK']];
export const EFD_FLAGS: Bits = [[EFD_SEMAPHORE, 'EFD_SEMAPHORE'], [EFD_CLOEXEC, 'EFD_CLOEXEC'], [EFD_NONBLOCK, 'EFD_NONBLOCK']];

export const IN_FLAGS: Bits = [[0o4000, 'IN_NONBLOCK'], [0o2000000, 'IN_CLOEXEC']];
/** inotify_add_watch's mask, in strace's order */
export const IN_MASK: Bits = [
  [0x1, 'IN_ACCESS'], [0x2, 'IN_MODIFY'], [0x4, 'IN_ATTRIB'], [0x8, 'IN_CLOSE_WRITE'], [0x10, 'IN_CLOSE_NOWRITE'], [0x20, 'IN_OPEN'], [0x40, 'IN_MOVED_FROM'], [0x80, 'IN_MOVED_TO'],
  [0x100, 'IN_CREATE'], [0x200, 'IN_DELETE'], [0x400, 'IN_DELETE_SELF'], [0x800, 'IN_MOVE_SELF'], [0x2000, 'IN_UNMOUNT'], [0x4000, 'IN_Q_OVERFLOW'], [0x8000, 'IN_IGNORED'],
  [0x1000000, 'IN_ONLYDIR'], [0x2000000, 'IN_DONT_FOLLOW'], [0x4000000, 'IN_EXCL_UNLINK'], [0x10000000, 'IN_MASK_CREATE'], [0x20000000, 'IN_MASK_ADD'], [0x40000000, 'IN_ISDIR'], [0x80000000, 'IN_ONESHOT'],
];

export const FAMILIES: Record<number, string> = { 0: 'AF_UNSPEC', 1: 'AF_UNIX', 2: 'AF_INET', 10: 'AF_INET6', 16: 'AF_NETLINK', 17: 'AF_PACKET' };
export const SOCKTYPES: Record<number, string> = { 1: 'SOCK_STREAM', 2: 'SOCK_DGRAM', 3: 'SOCK_RAW', 5: 'SOCK_SEQPACKET' };
export const SOCK_FLAGS: Bits = [[O_CLOEXEC, 'SOCK_CLOEXEC'], [O_NONBLOCK, 'SOCK_NONBLOCK']];
export const MSG_FLAGS: Bits = [[0x1, 'MSG_OOB'], [0x2, 'MSG_PEEK'], [0x4, 'MSG_DONTROUTE'], [0x8, 'MSG_CTRUNC'], [0x10, 'MSG_PROXY'], [0x20, 'MSG_TRUNC'], [0x40, 'MSG_DONTWAIT'], [0x80, 'MSG_EOR'], [0x100, 'MSG_WAITALL'], [0x200, 'MSG_FIN'], [0x400, 'MSG_SYN'], [0x800, 'MSG_CONFIRM'], [0x1000, 'MSG_RST'], [0x2000, 'MSG_ERRQUEUE'], [0x4000, 'MSG_NOSIGNAL'], [0x8000, 'MSG_MORE'], [0x10000, 'MSG_WAITFORONE'], [0x40000000, 'MSG_CMSG_CLOEXEC']];
export const SHUT = ['SHUT_RD', 'SHUT_WR', 'SHUT_RDWR'];
export const SOL: Record<number, string> = { 0: 'SOL_IP', 1: 'SOL_SOCKET', 6: 'SOL_TCP', 17: 'SOL_UDP', 41: 'SOL_IPV6' };
export const TCP_OPTS: Record<number, string> = Object.fromEntries(
  ['TCP_NODELAY', 'TCP_MAXSEG', 'TCP_CORK', 'TCP_KEEPIDLE', 'TCP_KEEPINTVL', 'TCP_KEEPCNT', 'TCP_SYNCNT', 'TCP_LINGER2', 'TCP_DEFER_ACCEPT', 'TCP_WINDOW_CLAMP', 'TCP_INFO', 'TCP_QUICKACK', 'TCP_CONGESTION', 'TCP_MD5SIG', '', 'TCP_THIN_LINEAR_TIMEOUTS', 'TCP_THIN_DUPACK', 'TCP_USER_TIMEOUT', 'TCP_REPAIR', 'TCP_REPAIR_QUEUE', 'TCP_QUEUE_SEQ', 'TCP_REPAIR_OPTIONS', 'TCP_FASTOPEN', 'TCP_TIMESTAMP', 'TCP_NOTSENT_LOWAT', 'TCP_CC_INFO', 'TCP_SAVE_SYN', 'TCP_SAVED_SYN', 'TCP_REPAIR_WINDOW', 'TCP_FASTOPEN_CONNECT', 'TCP_ULP', 'TCP_MD5SIG_EXT', 'TCP_FASTOPEN_KEY', 'TCP_FASTOPEN_NO_COOKIE', 'TCP_ZEROCOPY_RECEIVE', 'TCP_INQ', 'TCP_TX_DELAY']
    .map((n, i) => [i + 1, n] as const)
    .filter(([, n]) => n !== ''),
);
export const IP_OPTS: Record<number, string> = { 1: 'IP_TOS', 2: 'IP_TTL', 3: 'IP_HDRINCL', 4: 'IP_OPTIONS', 6: 'IP_RECVOPTS', 7: 'IP_RETOPTS', 8: 'IP_PKTINFO', 9: 'IP_PKTOPTIONS', 10: 'IP_MTU_DISCOVER', 11: 'IP_RECVERR', 12: 'IP_RECVTTL', 13: 'IP_RECVTOS', 14: 'IP_MTU', 15: 'IP_FREEBIND', 19: 'IP_TRANSPARENT', 24: 'IP_BIND_ADDRESS_NO_PORT', 32: 'IP_MULTICAST_IF', 33: 'IP_MULTICAST_TTL', 34: 'IP_MULTICAST_LOOP', 35: 'IP_ADD_MEMBERSHIP', 36: 'IP_DROP_MEMBERSHIP' };
export const IPV6_OPTS: Record<number, string> = { 1: 'IPV6_ADDRFORM', 2: 'IPV6_2292PKTINFO', 16: 'IPV6_UNICAST_HOPS', 17: 'IPV6_MULTICAST_IF', 18: 'IPV6_MULTICAST_HOPS', 19: 'IPV6_MULTICAST_LOOP', 20: 'IPV6_ADD_MEMBERSHIP', 21: 'IPV6_DROP_MEMBERSHIP', 22: 'IPV6_ROUTER_ALERT', 23: 'IPV6_MTU_DISCOVER', 24: 'IPV6_MTU', 25: 'IPV6_RECVERR', 26: 'IPV6_V6ONLY', 27: 'IPV6_JOIN_ANYCAST', 49: 'IPV6_RECVPKTINFO', 50: 'IPV6_PKTINFO', 51: 'IPV6_RECVHOPLIMIT', 52: 'IPV6_HOPLIMIT', 66: 'IPV6_RECVTCLASS', 67: 'IPV6_TCLASS' };
/** socket(2)'s protocol for AF_INET/AF_INET6, as strace names it */
export const IPPROTOS: Record<number, string> = { 0: 'IPPROTO_IP', 1: 'IPPROTO_ICMP', 6: 'IPPROTO_TCP', 17: 'IPPROTO_UDP', 41: 'IPPROTO_IPV6', 58: 'IPPROTO_ICMPV6', 255: 'IPPROTO_RAW' };
export const NETLINK_PROTOS: Record<number, string> = { 0: 'NETLINK_ROUTE', 4: 'NETLINK_SOCK_DIAG', 9: 'NETLINK_AUDIT', 15: 'NETLINK_KOBJECT_UEVENT', 16: 'NETLINK_GENERIC' };
export const SO: Record<number, string> = { 1: 'SO_DEBUG', 2: 'SO_REUSEADDR', 3: 'SO_TYPE', 4: 'SO_ERROR', 5: 'SO_DONTROUTE', 6: 'SO_BROADCAST', 7: 'SO_SNDBUF', 8: 'SO_RCVBUF', 9: 'SO_KEEPALIVE', 10: 'SO_OOBINLINE', 13: 'SO_LINGER', 15: 'SO_REUSEPORT', 16: 'SO_PASSCRED', 17: 'SO_PEERCRED', 18: 'SO_RCVLOWAT', 19: 'SO_SNDLOWAT', 20: 'SO_RCVTIMEO_OLD', 21: 'SO_SNDTIMEO_OLD', 30: 'SO_ACCEPTCONN', 31: 'SO_PEERSEC', 32: 'SO_SNDBUFFORCE', 33: 'SO_RCVBUFFORCE', 38: 'SO_PROTOCOL', 39: 'SO_DOMAIN', 42: 'SO_PEEK_OFF', 59: 'SO_PEERGROUPS' };
