// /proc/mounts's text for a tree of in-memory file systems. Linux prints
// one line per visible mount, "source mount-point type options 0 0"
// (fs/proc_namespace.c, show_vfsmnt), with space, tab, newline and
// backslash in a path escaped as three octal digits (getmntent(3)); a tmpfs
// mounted without options shows "rw,relatime", "ro,relatime" read-only (as
// mounts made natively in an unshare -m namespace show).
import { describe, expect, it } from 'vitest';
import { TmpFs } from '../../src/fs/tmpfs.js';
import { Vfs } from '../../src/fs/vfs.js';
import { mountsText } from '../../src/procfs/mounts.js';
import { FakeIo } from '../helpers/io.js';

function tree(): { t: FakeIo; vfs: Vfs } {
  const t = new FakeIo();
  const vfs = new Vfs(new TmpFs());
  t.vfs = vfs;
  return { t, vfs };
}

describe('/proc/mounts', () => {
  it('one line per mount, in mount order, read-only mounts ro', () => {
    const { t, vfs } = tree();
    vfs.mount(t, '/tmp', new TmpFs());
    vfs.mount(t, '/ro', new TmpFs(), { readonly: true, source: 'none' });
    expect(mountsText(vfs).toString()).toBe('tmpfs / tmpfs rw,relatime 0 0\ntmpfs /tmp tmpfs rw,relatime 0 0\nnone /ro tmpfs ro,relatime 0 0\n');
  });

  it('escapes space, tab, newline and backslash in paths', () => {
    const { t, vfs } = tree();
    vfs.mount(t, '/a b\tc\\d', new TmpFs());
    expect(mountsText(vfs).toString().split('\n')[1]).toBe('tmpfs /a\\040b\\011c\\134d tmpfs rw,relatime 0 0');
  });

  // Linux lists a mount hidden below a later one on the same point too (a
  // native unshare -m shows both); elfrun shows only the one on top.
  it.fails('a mount hidden below a later one on the same point is still listed', () => {
    const { t, vfs } = tree();
    vfs.mount(t, '/m', new TmpFs(), { source: 'first' });
    vfs.mount(t, '/m', new TmpFs(), { source: 'second' });
    expect(mountsText(vfs).toString()).toBe('tmpfs / tmpfs rw,relatime 0 0\nfirst /m tmpfs rw,relatime 0 0\nsecond /m tmpfs rw,relatime 0 0\n');
  });
});
