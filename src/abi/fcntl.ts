// Linux's open(2) flags, *at() flags and fcntl(2) commands: asm-generic/fcntl.h,
// linux/fcntl.h, linux/fs.h (SEEK_*, RENAME_*), linux/close_range.h,
// linux/memfd.h and linux/falloc.h. The values are the guest's; the four
// open flags whose bits differ between x86_64 and arm64 are in OPEN_FLAGS.

// ---- open(2) flags: the same on x86_64 and arm64 (asm-generic values) ----
export const O_ACCMODE = 0o3;
export const O_RDONLY = 0o0;
export const O_WRONLY = 0o1;
export const O_RDWR = 0o2;
export const O_CREAT = 0o100;
export const O_EXCL = 0o200;
export const O_NOCTTY = 0o400;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_DSYNC = 0o10000;
/** FASYNC */
export const O_ASYNC = 0o20000;
export const O_NOATIME = 0o1000000;
export const O_CLOEXEC = 0o2000000;
/** __O_SYNC | O_DSYNC */
export const O_SYNC = 0o4010000;
export const O_PATH = 0o10000000;
/** pipe2: a notification pipe (linux/watch_queue.h), the bit of O_EXCL */
export const O_NOTIFICATION_PIPE = O_EXCL;
/** __O_TMPFILE: O_TMPFILE is __O_TMPFILE | O_DIRECTORY */
export const O_TMPFILE_BASE = 0o20000000;

/** The open flags whose bits differ between the arches. */
export interface ArchOpenFlags {
  O_DIRECT: number;
  O_LARGEFILE: number;
  O_DIRECTORY: number;
  O_NOFOLLOW: number;
}

/** x86_64: asm-generic/fcntl.h; arm64: arch/arm64/include/uapi/asm/fcntl.h. */
export const OPEN_FLAGS_X86_64: ArchOpenFlags = { O_DIRECT: 0o40000, O_LARGEFILE: 0o100000, O_DIRECTORY: 0o200000, O_NOFOLLOW: 0o400000 };
export const OPEN_FLAGS_ARM64: ArchOpenFlags = { O_DIRECTORY: 0o40000, O_NOFOLLOW: 0o100000, O_DIRECT: 0o200000, O_LARGEFILE: 0o400000 };

// ---- *at() flags (linux/fcntl.h) ----
export const AT_FDCWD = -100;
export const AT_SYMLINK_NOFOLLOW = 0x100;
/** faccessat: check with the effective ids (same bit as AT_REMOVEDIR) */
export const AT_EACCESS = 0x200;
/** unlinkat: remove a directory */
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_NO_AUTOMOUNT = 0x800;
export const AT_EMPTY_PATH = 0x1000;
/** statx's synchronisation type: AT_STATX_FORCE_SYNC | AT_STATX_DONT_SYNC */
export const AT_STATX_SYNC_TYPE = 0x6000;
export const AT_STATX_FORCE_SYNC = 0x2000;
export const AT_STATX_DONT_SYNC = 0x4000;
export const AT_RECURSIVE = 0x8000;

// ---- fcntl(2) commands ----
export const F_DUPFD = 0;
export const F_GETFD = 1;
export const F_SETFD = 2;
export const F_GETFL = 3;
export const F_SETFL = 4;
export const F_GETLK = 5;
export const F_SETLK = 6;
export const F_SETLKW = 7;
export const F_SETOWN = 8;
export const F_GETOWN = 9;
export const F_SETSIG = 10;
export const F_GETSIG = 11;
export const F_SETOWN_EX = 15;
export const F_GETOWN_EX = 16;
/** struct f_owner_ex's type */
export const F_OWNER_TID = 0;
export const F_OWNER_PID = 1;
export const F_OWNER_PGRP = 2;
/** fcntl F_NOTIFY's events (dnotify) */
export const DN_ACCESS = 0x1;
export const DN_MODIFY = 0x2;
export const DN_CREATE = 0x4;
export const DN_DELETE = 0x8;
export const DN_RENAME = 0x10;
export const DN_ATTRIB = 0x20;
export const DN_MULTISHOT = 0x80000000;
export const F_OFD_GETLK = 36;
export const F_OFD_SETLK = 37;
export const F_OFD_SETLKW = 38;
const F_LINUX_SPECIFIC_BASE = 1024;
export const F_SETLEASE = F_LINUX_SPECIFIC_BASE + 0;
export const F_GETLEASE = F_LINUX_SPECIFIC_BASE + 1;
export const F_NOTIFY = F_LINUX_SPECIFIC_BASE + 2;
export const F_DUPFD_CLOEXEC = F_LINUX_SPECIFIC_BASE + 6;
export const F_SETPIPE_SZ = F_LINUX_SPECIFIC_BASE + 7;
export const F_GETPIPE_SZ = F_LINUX_SPECIFIC_BASE + 8;
export const F_ADD_SEALS = F_LINUX_SPECIFIC_BASE + 9;
export const F_GET_SEALS = F_LINUX_SPECIFIC_BASE + 10;
/** Linux 6.10: do two fds share one open file description */
export const F_DUPFD_QUERY = F_LINUX_SPECIFIC_BASE + 3;
/** Linux 6.12: did the open that made this description create the file */
export const F_CREATED_QUERY = F_LINUX_SPECIFIC_BASE + 4;
export const F_GET_RW_HINT = F_LINUX_SPECIFIC_BASE + 11;
export const F_SET_RW_HINT = F_LINUX_SPECIFIC_BASE + 12;
/** F_GETFD/F_SETFD's flag */
export const FD_CLOEXEC = 1;
/** record lock types (struct flock's l_type) */
export const F_RDLCK = 0;
export const F_WRLCK = 1;
export const F_UNLCK = 2;

// ---- lseek(2) (linux/fs.h) ----
export const SEEK_SET = 0;
export const SEEK_CUR = 1;
export const SEEK_END = 2;
export const SEEK_DATA = 3;
export const SEEK_HOLE = 4;
export const SEEK_MAX = SEEK_HOLE;

// ---- renameat2(2) (linux/fs.h) ----
export const RENAME_NOREPLACE = 1 << 0;
export const RENAME_EXCHANGE = 1 << 1;
export const RENAME_WHITEOUT = 1 << 2;

// ---- utimensat(2)'s special tv_nsec values ----
export const UTIME_NOW = (1 << 30) - 1;
export const UTIME_OMIT = (1 << 30) - 2;

// ---- close_range(2) (linux/close_range.h) ----
export const CLOSE_RANGE_UNSHARE = 1 << 1;
export const CLOSE_RANGE_CLOEXEC = 1 << 2;

// ---- memfd_create(2) (linux/memfd.h) ----
export const MFD_CLOEXEC = 0x1;
export const MFD_ALLOW_SEALING = 0x2;
export const MFD_HUGETLB = 0x4;
/** Linux 6.3: a file that can never be executable (F_SEAL_EXEC set, mode 0666), sealable */
export const MFD_NOEXEC_SEAL = 0x8;
/** Linux 6.3: an executable file (mode 0777), what memfd_create gives without either flag */
export const MFD_EXEC = 0x10;

// ---- file seals (fcntl F_ADD_SEALS / F_GET_SEALS, linux/fcntl.h) ----
export const F_SEAL_SEAL = 0x0001;
export const F_SEAL_SHRINK = 0x0002;
export const F_SEAL_GROW = 0x0004;
export const F_SEAL_WRITE = 0x0008;
export const F_SEAL_FUTURE_WRITE = 0x0010;
/** Linux 6.3: the exec bits of the mode cannot change */
export const F_SEAL_EXEC = 0x0020;

// ---- flock(2) operations (sys/file.h) ----
export const LOCK_SH = 1;
export const LOCK_EX = 2;
export const LOCK_NB = 4;
export const LOCK_UN = 8;
/** mandatory locks, gone since Linux 5.15: flock ignores a request with this bit */
export const LOCK_MAND = 32;

// ---- fallocate(2) modes (linux/falloc.h) ----
export const FALLOC_FL_KEEP_SIZE = 0x01;
export const FALLOC_FL_PUNCH_HOLE = 0x02;
export const FALLOC_FL_COLLAPSE_RANGE = 0x08;
export const FALLOC_FL_ZERO_RANGE = 0x10;
export const FALLOC_FL_INSERT_RANGE = 0x20;
