// poll(2) and epoll(7) event bits and epoll_ctl operations: asm-generic/poll.h
// and linux/eventpoll.h. The same on x86_64 and arm64.

export const POLLIN = 0x0001;
export const POLLPRI = 0x0002;
export const POLLOUT = 0x0004;
export const POLLERR = 0x0008;
export const POLLHUP = 0x0010;
export const POLLNVAL = 0x0020;
export const POLLRDNORM = 0x0040;
export const POLLRDBAND = 0x0080;
export const POLLWRNORM = 0x0100;
export const POLLWRBAND = 0x0200;
export const POLLMSG = 0x0400;
export const POLLRDHUP = 0x2000;

// epoll's event bits are poll's, plus the input flags in the top bits
export const EPOLLIN = POLLIN;
export const EPOLLPRI = POLLPRI;
export const EPOLLOUT = POLLOUT;
export const EPOLLERR = POLLERR;
export const EPOLLHUP = POLLHUP;
export const EPOLLNVAL = POLLNVAL;
export const EPOLLRDNORM = POLLRDNORM;
export const EPOLLRDBAND = POLLRDBAND;
export const EPOLLWRNORM = POLLWRNORM;
export const EPOLLWRBAND = POLLWRBAND;
export const EPOLLMSG = POLLMSG;
export const EPOLLRDHUP = POLLRDHUP;
export const EPOLLEXCLUSIVE = 1 << 28;
export const EPOLLWAKEUP = 1 << 29;
export const EPOLLONESHOT = 1 << 30;
/** 1U << 31: negative as a JavaScript int32, as the event words are read */
export const EPOLLET = 1 << 31;

/** epoll_create1's flag: O_CLOEXEC */
export const EPOLL_CLOEXEC = 0o2000000;
export const EPOLL_CTL_ADD = 1;
export const EPOLL_CTL_DEL = 2;
export const EPOLL_CTL_MOD = 3;
