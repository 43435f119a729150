// memfd_create(2) and file seals. A memfd is a tmpfs file with no name on
// the Machine's internal shm mount (Linux's shmem), so reads, writes and
// shared mappings are a tmpfs file's; /proc shows it as "/memfd:NAME
// (deleted)". Seals (F_ADD_SEALS, F_GET_SEALS) are kept on the node and
// applied to its host memfd as well, where the host refuses the writes,
// size changes and writable shared mappings they forbid, and answers EBUSY
// for F_SEAL_WRITE over a writable shared mapping, as Linux.
import { E } from '../abi/errno.js';
import { fail } from '../abi/errors.js';
import {
  F_ADD_SEALS,
  F_GET_SEALS,
  F_SEAL_EXEC,
  F_SEAL_FUTURE_WRITE,
  F_SEAL_GROW,
  F_SEAL_SEAL,
  F_SEAL_SHRINK,
  F_SEAL_WRITE,
  MFD_ALLOW_SEALING,
  MFD_NOEXEC_SEAL,
  O_RDWR,
} from '../abi/fcntl.js';
import { S_IFREG } from '../abi/stat.js';
import { host } from '../host/libc.js';
import type { IoContext } from './context.js';
import type { FileDescription } from './file.js';
import { HostFile } from './hostfile.js';
import { TmpFile } from './tmpfile.js';
import { TmpFs, TmpNode } from './tmpfs.js';
import { chk } from './transfer.js';
import { cred } from './vfs.js';

const F_ALL_SEALS = F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE | F_SEAL_EXEC;

/**
 * A new memfd: a nameless tmpfs file, mode 0777 (0666 and F_SEAL_EXEC with
 * MFD_NOEXEC_SEAL), sealable with MFD_ALLOW_SEALING or MFD_NOEXEC_SEAL,
 * open O_RDWR|O_LARGEFILE (`largefile`: the arch's bit).
 */
export function memfdFile(t: IoContext, name: string, flags: number, largefile: number): FileDescription {
  const shm = (t.vfs.shm ??= t.vfs.kernMount(new TmpFs(0o1777)));
  const fs = shm.fs as TmpFs;
  const c = cred(t);
  const noexec = (flags & MFD_NOEXEC_SEAL) !== 0;
  const node = new TmpNode(fs, S_IFREG | (noexec ? 0o666 : 0o777), c.uid, c.gid, fs.rootNode);
  node.nlink = 0;
  node.seals = noexec ? F_SEAL_EXEC : flags & MFD_ALLOW_SEALING ? 0 : F_SEAL_SEAL;
  const f = new TmpFile(node, O_RDWR | largefile);
  f.loc = { mnt: shm, node, path: `/memfd:${name} (deleted)` };
  return f;
}

/** fcntl F_ADD_SEALS, as Linux's memfd_add_seals; a host file's are the host's. */
export function addSeals(f: FileDescription, seals: number): number {
  if (f instanceof HostFile) return chk(host.fcntl(f.hostFd, F_ADD_SEALS, seals));
  if (!f.writable) fail(E.EPERM);
  if (seals & ~F_ALL_SEALS) fail(E.EINVAL);
  if (!(f instanceof TmpFile)) return fail(E.EINVAL);
  const node = f.node;
  if (node.seals & F_SEAL_SEAL) fail(E.EPERM);
  // F_SEAL_EXEC on an executable file seals writes too (W^X from the start)
  if (seals & F_SEAL_EXEC && node.mode & 0o111) seals |= F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_WRITE | F_SEAL_FUTURE_WRITE;
  const forHost = seals & ~node.seals & ~F_SEAL_EXEC;
  if (forHost) chk(host.fcntl(node.fd(), F_ADD_SEALS, forHost));
  node.seals |= seals;
  return 0;
}

/** fcntl F_GET_SEALS: EINVAL for what is not a tmpfs (or memfd) file; a host file's are the host's. */
export function getSeals(f: FileDescription): number {
  if (f instanceof HostFile) return chk(host.fcntl(f.hostFd, F_GET_SEALS, 0));
  if (!(f instanceof TmpFile)) return fail(E.EINVAL);
  return f.node.seals;
}
