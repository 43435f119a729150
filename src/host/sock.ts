// The host's socket calls, through koffi, for guest sockets that are host
// sockets (AF_INET, AF_INET6, AF_NETLINK on the host's network), and the
// host's epoll, which tells when host fds a guest waits on are ready.
// Buffers are raw host addresses (guest memory in place, or scratch); every
// function returns -errno on failure, like a raw syscall.
import koffi from './ffi.js';

const libc = koffi.load('libc.so.6');

const fns = {
  socket: libc.func('int socket(int domain, int type, int protocol)'),
  bind: libc.func('int bind(int fd, intptr_t addr, uint32_t len)'),
  listen: libc.func('int listen(int fd, int backlog)'),
  accept4: libc.func('int accept4(int fd, intptr_t addr, intptr_t len, int flags)'),
  connect: libc.func('int connect(int fd, intptr_t addr, uint32_t len)'),
  sendmsg: libc.func('intptr_t sendmsg(int fd, intptr_t msg, int flags)'),
  recvmsg: libc.func('intptr_t recvmsg(int fd, intptr_t msg, int flags)'),
  shutdown: libc.func('int shutdown(int fd, int how)'),
  getsockname: libc.func('int getsockname(int fd, intptr_t addr, intptr_t len)'),
  getpeername: libc.func('int getpeername(int fd, intptr_t addr, intptr_t len)'),
  getsockopt: libc.func('int getsockopt(int fd, int level, int name, intptr_t val, intptr_t len)'),
  setsockopt: libc.func('int setsockopt(int fd, int level, int name, intptr_t val, uint32_t len)'),
  ioctl: libc.func('int ioctl(int fd, unsigned long req, intptr_t arg)'),
  epollCreate1: libc.func('int epoll_create1(int flags)'),
  epollCtl: libc.func('int epoll_ctl(int epfd, int op, int fd, intptr_t event)'),
  epollWait: libc.func('int epoll_wait(int epfd, intptr_t events, int maxevents, int timeout)'),
  pipe2: libc.func('int pipe2(_Out_ int32_t *fds, int flags)'),
};

type Fn = (...a: unknown[]) => unknown;
const call = (f: unknown, ...a: unknown[]): number => {
  const r = (f as Fn)(...a) as number;
  return r < 0 ? -koffi.errno() : r;
};

export const hostSock = {
  socket: (domain: number, type: number, protocol: number): number => call(fns.socket, domain, type, protocol),
  bind: (fd: number, addr: number, len: number): number => call(fns.bind, fd, addr, len),
  listen: (fd: number, backlog: number): number => call(fns.listen, fd, backlog),
  /** `len` is the address of a socklen_t (in/out), or 0 with addr 0 */
  accept4: (fd: number, addr: number, len: number, flags: number): number => call(fns.accept4, fd, addr, len, flags),
  connect: (fd: number, addr: number, len: number): number => call(fns.connect, fd, addr, len),
  sendmsg: (fd: number, msg: number, flags: number): number => call(fns.sendmsg, fd, msg, flags),
  recvmsg: (fd: number, msg: number, flags: number): number => call(fns.recvmsg, fd, msg, flags),
  shutdown: (fd: number, how: number): number => call(fns.shutdown, fd, how),
  /** `len` is the address of a socklen_t (in/out) */
  name: (fd: number, peer: boolean, addr: number, len: number): number => call(peer ? fns.getpeername : fns.getsockname, fd, addr, len),
  getsockopt: (fd: number, level: number, name: number, val: number, len: number): number => call(fns.getsockopt, fd, level, name, val, len),
  setsockopt: (fd: number, level: number, name: number, val: number, len: number): number => call(fns.setsockopt, fd, level, name, val, len),
  ioctl: (fd: number, req: number, arg: number): number => call(fns.ioctl, fd, req, arg),
  epollCreate1: (flags: number): number => call(fns.epollCreate1, flags),
  /** `event` is the address of a struct epoll_event (12 bytes, packed on x86_64) */
  epollCtl: (epfd: number, op: number, fd: number, event: number): number => call(fns.epollCtl, epfd, op, fd, event),
  /** `events` is the address of room for `max` struct epoll_event */
  epollWait: (epfd: number, events: number, max: number, timeout: number): number => call(fns.epollWait, epfd, events, max, timeout),
  /** [read end, write end], or -errno */
  pipe2: (flags: number): [number, number] | number => {
    const fds = new Int32Array(2);
    const r = call(fns.pipe2, fds, flags);
    return r < 0 ? r : [fds[0]!, fds[1]!];
  },
};
