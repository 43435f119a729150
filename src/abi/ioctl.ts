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
export const FIOASYNC = 0x5452;
/** the socket ioctls that set and get an O_ASYNC owner (sock_ioctl) */
export const FIOSETOWN = 0x8901;
export const SIOCSPGRP = 0x8902;
export const FIOGETOWN = 0x8903;
export const SIOCGPGRP = 0x8904;

/** The kernel's struct termios: 4 tcflag_t, c_line, c_cc[NCCS = 19] (not glibc's larger one). */
export const TERMIOS_SIZE = 36;
/** struct winsize: 4 unsigned shorts */
export const WINSIZE_SIZE = 8;

/** c_lflag's TOSTOP (asm-generic/termbits.h): a background group's write gets SIGTTOU */
export const TOSTOP = 0o400;
export const TCSBRK = 0x5409;
export const TCXONC = 0x540a;
export const TCFLSH = 0x540b;
export const TIOCPKT = 0x5420;
export const TIOCSIG = 0x40045436;
/** push a byte into a terminal's input */
export const TIOCSTI = 0x5412;
/** pseudo-terminal masters: the slave's index, its lock, packet mode, the slave opened from the master */
export const TIOCGPTN = 0x80045430;
export const TIOCSPTLCK = 0x40045431;
export const TIOCGPKT = 0x80045438;
export const TIOCGPTLCK = 0x80045439;
export const TIOCGPTPEER = 0x5441;
/** TIOCPKT's status byte (the data that follows a 0 byte) */
export const TIOCPKT_DATA = 0;
export const TIOCPKT_FLUSHREAD = 1;
export const TIOCPKT_FLUSHWRITE = 2;
export const TIOCPKT_STOP = 4;
export const TIOCPKT_START = 8;
export const TIOCPKT_NOSTOP = 16;
export const TIOCPKT_DOSTOP = 32;
/** tcflow's and tcflush's arguments */
export const TCOOFF = 0;
export const TCOON = 1;
export const TCIOFF = 2;
export const TCION = 3;
export const TCIFLUSH = 0;
export const TCOFLUSH = 1;
export const TCIOFLUSH = 2;

// struct termios (asm-generic/termbits.h): c_iflag, c_oflag, c_cflag, c_lflag, then c_line and c_cc
export const IGNBRK = 0o1, BRKINT = 0o2, INLCR = 0o100, IGNCR = 0o200, ICRNL = 0o400, IUCLC = 0o1000, IXON = 0o2000, IXANY = 0o4000, IXOFF = 0o10000, IMAXBEL = 0o20000, ISTRIP = 0o40, IUTF8 = 0o40000;
export const OPOST = 0o1, OLCUC = 0o2, ONLCR = 0o4, OCRNL = 0o10, ONOCR = 0o20, ONLRET = 0o40;
export const B38400 = 0o17, CS8 = 0o60, CREAD = 0o200;
export const ISIG = 0o1, ICANON = 0o2, ECHO = 0o10, ECHOE = 0o20, ECHOK = 0o40, ECHONL = 0o100, NOFLSH = 0o200, ECHOCTL = 0o1000, ECHOPRT = 0o2000, ECHOKE = 0o4000, IEXTEN = 0o100000, EXTPROC = 0o200000;
export const VINTR = 0, VQUIT = 1, VERASE = 2, VKILL = 3, VEOF = 4, VTIME = 5, VMIN = 6, VSWTC = 7, VSTART = 8, VSTOP = 9, VSUSP = 10, VEOL = 11, VREPRINT = 12, VDISCARD = 13, VWERASE = 14, VLNEXT = 15, VEOL2 = 16;
/** where c_cc starts in struct termios (after four flags words and c_line) */
export const TERMIOS_CC = 17;
