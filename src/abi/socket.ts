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
export const AF_PACKET = 17;

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
export const MSG_PROXY = 0x10;
export const MSG_FIN = 0x200;
export const MSG_SYN = 0x400;
export const MSG_CONFIRM = 0x800;
export const MSG_RST = 0x1000;
export const MSG_ERRQUEUE = 0x2000;
export const MSG_NOSIGNAL = 0x4000;
export const MSG_MORE = 0x8000;
export const MSG_WAITFORONE = 0x10000;
export const MSG_BATCH = 0x40000;
export const MSG_ZEROCOPY = 0x4000000;
export const MSG_FASTOPEN = 0x20000000;
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
export const SO_OOBINLINE = 10;
export const SO_NO_CHECK = 11;
export const SO_PRIORITY = 12;
export const SO_LINGER = 13;
export const SO_BSDCOMPAT = 14;
export const SO_REUSEPORT = 15;
export const SO_PASSCRED = 16;
export const SO_PEERCRED = 17;
export const SO_RCVLOWAT = 18;
export const SO_SNDLOWAT = 19;
export const SO_RCVTIMEO_OLD = 20;
export const SO_SNDTIMEO_OLD = 21;
export const SO_BINDTODEVICE = 25;
export const SO_ATTACH_FILTER = 26;
export const SO_DETACH_FILTER = 27;
export const SO_PEERNAME = 28;
export const SO_TIMESTAMP_OLD = 29;
export const SO_ACCEPTCONN = 30;
export const SO_PEERSEC = 31;
export const SO_SNDBUFFORCE = 32;
export const SO_RCVBUFFORCE = 33;
export const SO_PASSSEC = 34;
export const SO_TIMESTAMPNS_OLD = 35;
export const SO_MARK = 36;
export const SO_TIMESTAMPING_OLD = 37;
export const SO_PROTOCOL = 38;
export const SO_DOMAIN = 39;
export const SO_RXQ_OVFL = 40;
export const SO_WIFI_STATUS = 41;
export const SO_PEEK_OFF = 42;
export const SO_NOFCS = 43;
export const SO_LOCK_FILTER = 44;
export const SO_SELECT_ERR_QUEUE = 45;
export const SO_BUSY_POLL = 46;
export const SO_MAX_PACING_RATE = 47;
export const SO_BPF_EXTENSIONS = 48;
export const SO_INCOMING_CPU = 49;
export const SO_ATTACH_BPF = 50;
export const SO_ATTACH_REUSEPORT_CBPF = 51;
export const SO_ATTACH_REUSEPORT_EBPF = 52;
export const SO_CNX_ADVICE = 53;
export const SO_MEMINFO = 55;
export const SO_INCOMING_NAPI_ID = 56;
export const SO_COOKIE = 57;
export const SO_PEERGROUPS = 59;
export const SO_ZEROCOPY = 60;
export const SO_TXTIME = 61;
export const SO_BINDTOIFINDEX = 62;
export const SO_TIMESTAMP_NEW = 63;
export const SO_TIMESTAMPNS_NEW = 64;
export const SO_TIMESTAMPING_NEW = 65;
export const SO_RCVTIMEO_NEW = 66;
export const SO_SNDTIMEO_NEW = 67;
export const SO_DETACH_REUSEPORT_BPF = 68;

// ---- other levels (protocol numbers, netinet/in.h; SOL_* of bits/socket.h) ----
export const SOL_IP = 0;
export const SOL_TCP = 6;
export const SOL_UDP = 17;
export const SOL_IPV6 = 41;
export const SOL_ICMPV6 = 58;
export const SOL_RAW = 255;
export const SOL_PACKET = 263;
export const SOL_NETLINK = 270;
export const IPPROTO_IP = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_RAW = 255;

// ---- control messages ----
export const SCM_RIGHTS = 1;
export const SCM_CREDENTIALS = 2;

/** shutdown(2)'s how */
export const SHUT_RD = 0;
export const SHUT_WR = 1;
export const SHUT_RDWR = 2;

/** sizeof(struct sockaddr_un): sun_family and a 108-byte sun_path */
export const SOCKADDR_UN_SIZE = 110;
