// AF_NETLINK sockets as host sockets, for the queries programs make of the
// network: NETLINK_ROUTE dumps (getifaddrs, if_nameindex, getaddrinfo's
// AI_ADDRCONFIG, `ip addr`, `ip route`) and NETLINK_SOCK_DIAG (`ss`). The
// host answers them for its own interfaces and sockets, as it would for a
// process sharing its network namespace. A request that would change the
// host's network (RTM_NEW*/DEL*/SET*, SOCK_DESTROY) is refused with EPERM,
// as for a guest without CAP_NET_ADMIN; other netlink protocols are
// reported as unsupported.
import { E } from '../abi/errno.js';
import { fail, Unsupported } from '../abi/errors.js';
import type { IoContext } from '../fs/context.js';
import { AF_NETLINK } from '../abi/socket.js';
import { HostSocket } from './host.js';
import type { SendArgs } from './socket.js';

export const NETLINK_ROUTE = 0;
export const NETLINK_SOCK_DIAG = 4;
/** the first rtnetlink message type; each family of four is NEW, DEL, GET, SET */
const RTM_BASE = 16;
/** sock_diag's queries (TCPDIAG_GETSOCK, DCCPDIAG_GETSOCK, SOCK_DIAG_BY_FAMILY) */
const DIAG_QUERIES = new Set([18, 19, 20]);
/** struct nlmsghdr */
const NLMSG_HDR = 16;

/** Does this request only read? (control messages below RTM_BASE carry nothing) */
function readOnly(protocol: number, type: number): boolean {
  if (type < RTM_BASE) return true;
  if (protocol === NETLINK_ROUTE) return (type - RTM_BASE) % 4 === 2;
  return DIAG_QUERIES.has(type);
}

class NetlinkSocket extends HostSocket {
  override sendmsg(t: IoContext, a: SendArgs): number {
    // the whole message, to look at each nlmsghdr's type before the host sees it
    const bytes = Buffer.concat(a.iov.filter((v) => v.len > 0).map((v) => t.mm.read(v.base, Math.min(v.len, 1 << 16))));
    for (let off = 0; off + NLMSG_HDR <= bytes.length; ) {
      const len = bytes.readUInt32LE(off);
      if (!readOnly(this.protocol, bytes.readUInt16LE(off + 4))) fail(E.EPERM);
      if (len < NLMSG_HDR) break;
      off += (len + 3) & ~3;
    }
    return super.sendmsg(t, a);
  }
}

export function netlinkSocket(type: number, protocol: number, flags: number): HostSocket {
  if (protocol !== NETLINK_ROUTE && protocol !== NETLINK_SOCK_DIAG) throw new Unsupported(`netlink protocol ${protocol}`, E.EPROTONOSUPPORT);
  return new NetlinkSocket(HostSocket.open(AF_NETLINK, type, protocol), AF_NETLINK, type, protocol, flags);
}
