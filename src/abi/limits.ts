// Sizes and limits the kernel enforces: linux/limits.h (NAME_MAX, PATH_MAX,
// PIPE_BUF, XATTR_*), linux/uio.h (UIO_MAXIOV, which is IOV_MAX), and two
// that are not in the UAPI headers: the kernel's MAXSYMLINKS (40, in
// include/linux/namei.h; glibc's sys/param.h says 20) and MAX_RW_COUNT.

export const NAME_MAX = 255;
/** including the terminating NUL */
export const PATH_MAX = 4096;
export const PIPE_BUF = 4096;
export const XATTR_NAME_MAX = 255;
export const XATTR_SIZE_MAX = 65536;
export const XATTR_LIST_MAX = 65536;
/** UIO_MAXIOV */
export const IOV_MAX = 1024;
/** symlinks one path walk may follow before ELOOP */
export const MAXSYMLINKS = 40;
/** what one read or write moves at most: INT_MAX rounded down to a page */
export const MAX_RW_COUNT = 0x7ffff000;
