// The guest's UTS names. sysname, release and version are the host's; the
// machine is the guest's arch; nodename and domainname start as the host's
// and belong to the guest from then on (as a UTS namespace of its own):
// sethostname and setdomainname change them for every guest process in the
// same UTS namespace and leave the host's untouched. A process that
// unshares its UTS namespace (unshare, clone with CLONE_NEWUTS) gets a copy
// of its own, which its children then share.
import { hostScratch } from '../fs/transfer.js';
import { host } from '../host/libc.js';

/** __NEW_UTS_LEN + 1: each field of struct utsname */
export const UTS_LEN = 65;

/** UTS namespaces made by the guest so far (they number their nsfs inodes) */
let made = 0;

export class Uts {
  nodename: Buffer;
  domainname: Buffer;
  private readonly hostNames: Buffer;
  /** 0 for the machine's first namespace; 1, 2... for those the guest made, in order */
  readonly serial: number;

  constructor(from?: Uts) {
    if (from !== undefined) {
      this.hostNames = from.hostNames;
      this.serial = ++made;
    } else {
      const s = hostScratch();
      if (host.uname(s.addr) < 0) throw new Error('uname failed');
      this.hostNames = Buffer.from(s.bytes.subarray(0, UTS_LEN * 6));
      this.serial = 0;
    }
    this.nodename = Buffer.from(from?.nodename ?? field(this.hostNames, 1));
    this.domainname = Buffer.from(from?.domainname ?? field(this.hostNames, 5));
  }

  /** A new namespace with the same names (copy_utsname). */
  clone(): Uts {
    return new Uts(this);
  }

  /** struct utsname for a guest of this machine name */
  bytes(machine: string): Buffer {
    const b = Buffer.from(this.hostNames);
    b.fill(0, UTS_LEN, UTS_LEN * 2);
    this.nodename.copy(b, UTS_LEN);
    b.fill(0, UTS_LEN * 4, UTS_LEN * 6);
    b.write(machine, UTS_LEN * 4, 'latin1');
    this.domainname.copy(b, UTS_LEN * 5);
    return b;
  }
}

/** field i of a struct utsname, up to its NUL */
function field(b: Buffer, i: number): Buffer {
  const f = b.subarray(UTS_LEN * i, UTS_LEN * (i + 1));
  const end = f.indexOf(0);
  return Buffer.from(end < 0 ? f : f.subarray(0, end));
}
