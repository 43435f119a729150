// File types, permission bits, access(2) modes, dirent types and the
// statfs(2) magic numbers and flags: linux/stat.h, unistd.h (R_OK...),
// dirent.h (DT_*), linux/magic.h and the kernel's linux/statfs.h (ST_*).
// The same on every arch.

// ---- st_mode: the file type (linux/stat.h) ----
export const S_IFMT = 0o170000;
export const S_IFSOCK = 0o140000;
export const S_IFLNK = 0o120000;
export const S_IFREG = 0o100000;
export const S_IFBLK = 0o060000;
export const S_IFDIR = 0o040000;
export const S_IFCHR = 0o020000;
export const S_IFIFO = 0o010000;

export const S_ISREG = (m: number): boolean => (m & S_IFMT) === S_IFREG;
export const S_ISDIR = (m: number): boolean => (m & S_IFMT) === S_IFDIR;
export const S_ISCHR = (m: number): boolean => (m & S_IFMT) === S_IFCHR;
export const S_ISBLK = (m: number): boolean => (m & S_IFMT) === S_IFBLK;
export const S_ISFIFO = (m: number): boolean => (m & S_IFMT) === S_IFIFO;
export const S_ISLNK = (m: number): boolean => (m & S_IFMT) === S_IFLNK;
export const S_ISSOCK = (m: number): boolean => (m & S_IFMT) === S_IFSOCK;

// ---- st_mode: the permission bits ----
export const S_ISUID = 0o4000;
export const S_ISGID = 0o2000;
export const S_ISVTX = 0o1000;
export const S_IRWXU = 0o700;
export const S_IRUSR = 0o400;
export const S_IWUSR = 0o200;
export const S_IXUSR = 0o100;
export const S_IRWXG = 0o070;
export const S_IRGRP = 0o040;
export const S_IWGRP = 0o020;
export const S_IXGRP = 0o010;
export const S_IRWXO = 0o007;
export const S_IROTH = 0o004;
export const S_IWOTH = 0o002;
export const S_IXOTH = 0o001;
/** every permission bit, with setuid, setgid and sticky */
export const S_IALLUGO = 0o7777;

// ---- access(2) modes ----
export const R_OK = 4;
export const W_OK = 2;
export const X_OK = 1;
export const F_OK = 0;

// ---- getdents64's d_type: the file type >> 12 ----
export const DT_UNKNOWN = 0;
export const DT_FIFO = 1;
export const DT_CHR = 2;
export const DT_DIR = 4;
export const DT_BLK = 6;
export const DT_REG = 8;
export const DT_LNK = 10;
export const DT_SOCK = 12;
export const DT_WHT = 14;

// ---- statfs(2)'s f_type (linux/magic.h) ----
export const TMPFS_MAGIC = 0x01021994;
export const PROC_SUPER_MAGIC = 0x9fa0;
export const PIPEFS_MAGIC = 0x50495045;
export const SOCKFS_MAGIC = 0x534f434b;
export const SYSFS_MAGIC = 0x62656572;
export const CGROUP2_SUPER_MAGIC = 0x63677270;
export const NSFS_MAGIC = 0x6e736673;

// ---- statfs(2)'s f_flags (the kernel's include/linux/statfs.h; glibc's bits/statvfs.h agrees) ----
export const ST_RDONLY = 0x0001;
export const ST_NOSUID = 0x0002;
export const ST_NODEV = 0x0004;
export const ST_NOEXEC = 0x0008;
export const ST_SYNCHRONOUS = 0x0010;
/** f_flags is valid (the kernel sets it on every statfs; glibc's statvfs hides it) */
export const ST_VALID = 0x0020;
export const ST_NOATIME = 0x0400;
export const ST_NODIRATIME = 0x0800;
export const ST_RELATIME = 0x1000;

// ---- statx(2)'s mask (linux/stat.h) ----
/** type, mode, nlink, uid, gid, atime, mtime, ctime, ino, size, blocks */
export const STATX_BASIC_STATS = 0x7ff;
/** reserved for a future struct statx expansion: EINVAL */
export const STATX__RESERVED = 0x80000000;
