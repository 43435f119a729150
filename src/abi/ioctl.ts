// Terminal and generic file ioctl requests (asm-generic/ioctls.h, which both
// x86_64 and arm64 use) and the sizes of the structs the tty ioctls copy
// (asm-generic/termbits.h: the kernel's struct termios; struct winsize).

export const TCGETS = 0x5401;
export const TCSETS = 0x5402;
export const TCSETSW = 0x5403;
export const TCSETSF = 0x5404;
export const TIOCSCTTY = 0x540e;
export const TIOCGPGRP = 0x540f;
export const TIOCSPGRP = 0x5410;
export const TIOCOUTQ = 0x5411;
export const TIOCGWINSZ = 0x5413;
export const TIOCSWINSZ = 0x5414;
export const FIONREAD = 0x541b;
export const FIONBIO = 0x5421;
export const TIOCNOTTY = 0x5422;
export const TIOCGSID = 0x5429;
export const FIONCLEX = 0x5450;
export const FIOCLEX = 0x5451;

/** The kernel's struct termios: 4 tcflag_t, c_line, c_cc[NCCS = 19] (not glibc's larger one). */
export const TERMIOS_SIZE = 36;
/** struct winsize: 4 unsigned shorts */
export const WINSIZE_SIZE = 8;

/** c_lflag's TOSTOP (asm-generic/termbits.h): a background group's write gets SIGTTOU */
export const TOSTOP = 0o400;
