// Socket families, types, message flags and socket options: bits/socket.h
// (AF_*, MSG_*, SCM_*), linux/net.h and bits/socket_type.h (SOCK_*),
// asm-generic/socket.h (SOL_SOCKET, SO_*; x86_64 and arm64 both use it).

// ---- address families ----
export const AF_UNSPEC = 0;
export const AF_UNIX = 1;
export const AF_LOCAL = AF_UNIX;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;

// ---- socket types, and the flags socket(2) takes with them ----
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_SEQPACKET = 5;
/** the type's bits of socket(2)'s type argument (the kernel's include/linux/net.h) */
export const SOCK_TYPE_MASK = 0xf;
/** O_CLOEXEC */
export const SOCK_CLOEXEC = 0o2000000;
/** O_NONBLOCK */
export const SOCK_NONBLOCK = 0o4000;

// ---- send/recv flags ----
export const MSG_OOB = 0x1;
export const MSG_PEEK = 0x2;
export const MSG_DONTROUTE = 0x4;
export const MSG_CTRUNC = 0x8;
export const MSG_TRUNC = 0x20;
export const MSG_DONTWAIT = 0x40;
export const MSG_EOR = 0x80;
export const MSG_WAITALL = 0x100;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_CMSG_CLOEXEC = 0x40000000;

// ---- socket options at SOL_SOCKET ----
export const SOL_SOCKET = 1;
export const SO_DEBUG = 1;
export const SO_REUSEADDR = 2;
export const SO_TYPE = 3;
export const SO_ERROR = 4;
export const SO_DONTROUTE = 5;
export const SO_BROADCAST = 6;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_KEEPALIVE = 9;
export const SO_PASSCRED = 16;
export const SO_PEERCRED = 17;
export const SO_ACCEPTCONN = 30;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;

// ---- control messages ----
export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;

/** shutdown(2)'s how */
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

/** sizeof(struct sockaddr_un): sun_family and a 108-byte sun_path */
export const SOCKADDR_UN_SIZE = 110;
