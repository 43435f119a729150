// The path walk and tmpfs without Unicorn: an I/O context of the test's own
// carries what the VFS asks of a caller (credentials and arch).
import { describe, expect, it } from 'vitest';
import { Vfs, type Loc } from '../../src/fs/vfs.js';
import { S_IFDIR, S_IFLNK } from '../../src/abi/stat.js';
import { TmpFs, TmpNode } from '../../src/fs/tmpfs.js';
import { HostFs, type HostNode } from '../../src/fs/hostfs.js';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FakeIo, outcome } from '../helpers/io.js';

const task = (uid = 0, gid = 0): FakeIo => new FakeIo(uid, gid);


function setup(): { t: FakeIo; vfs: Vfs; root: TmpFs } {
  const t = task();
  const root = new TmpFs(0o755);
  const vfs = (t.vfs = new Vfs(root));
  const r = vfs.root.node;
  r.mkdir(t, 'a', 0o755);
  vfs.child(t, vfs.root, 'a').node.mkdir(t, 'b', 0o755);
  r.symlink(t, 'abs', Buffer.from('/a/b'));
  r.symlink(t, 'rel', Buffer.from('a/b'));
  r.symlink(t, 'up', Buffer.from('../../../a'));
  r.symlink(t, 'dangling', Buffer.from('/nowhere'));
  r.symlink(t, 'empty', Buffer.alloc(0));
  r.symlink(t, 'loop1', Buffer.from('loop2'));
  r.symlink(t, 'loop2', Buffer.from('loop1'));
  r.create(t, 'file', 1, 0o644, vfs.root).release();
  return { t, vfs, root };
}

const at = (vfs: Vfs, t: FakeIo, p: string, follow = true): Loc => vfs.resolve(t, vfs.root, p, follow);

describe('path walk', () => {
  it('follows absolute and relative symlinks inside the tree, and .. stops at the root', () => {
    const { t, vfs } = setup();
    expect(at(vfs, t, '/abs').path).toBe('/a/b');
    expect(at(vfs, t, '/rel/').path).toBe('/a/b');
    expect(at(vfs, t, '/up').path).toBe('/a');
    expect(at(vfs, t, '/../../a/./b/..').path).toBe('/a');
    expect(at(vfs, t, '/abs', false).node.type).toBe(S_IFLNK);
    expect(at(vfs, t, '/abs/../b').path).toBe('/a/b'); // .. of the link's target, not of the link
  });

  it("gives Linux's errors", () => {
    const { t, vfs } = setup();
    expect(outcome(() => at(vfs, t, '/nope'))).toBe('ENOENT');
    expect(outcome(() => at(vfs, t, '/dangling'))).toBe('ENOENT');
    expect(outcome(() => at(vfs, t, '/empty'))).toBe('ENOENT');
    expect(outcome(() => at(vfs, t, '/loop1'))).toBe('ELOOP');
    expect(outcome(() => at(vfs, t, '/file/'))).toBe('ENOTDIR');
    expect(outcome(() => at(vfs, t, '/file/x'))).toBe('ENOTDIR');
    expect(outcome(() => at(vfs, t, '/file/.'))).toBe('ENOTDIR');
    expect(outcome(() => at(vfs, t, '/' + 'x'.repeat(256)))).toBe('ENAMETOOLONG');
    expect(at(vfs, t, '/loop1', false).node.type).toBe(S_IFLNK);
  });

  it('ELOOP after 40 links in a chain, not before', () => {
    const { t, vfs } = setup();
    const r = vfs.root.node;
    for (let i = 0; i < 41; i++) r.symlink(t, `c${i}`, Buffer.from(i === 40 ? '/a' : `c${i + 1}`));
    expect(at(vfs, t, '/c1').path).toBe('/a'); // 40 links
    expect(outcome(() => at(vfs, t, '/c0'))).toBe('ELOOP'); // 41
  });

  it('crosses mounts down and up, and a mount may hide a missing name', () => {
    const { t, vfs } = setup();
    const inner = new TmpFs(0o1777);
    vfs.mount(t, '/a/b/m', inner);
    const m = at(vfs, t, '/a/b/m');
    expect(m.mnt.fs).toBe(inner);
    m.node.mkdir(t, 'd', 0o755);
    expect(at(vfs, t, '/a/b/m/d/../..').path).toBe('/a/b');
    expect(at(vfs, t, '/a/b/m/d/../../../b/m/d').mnt.fs).toBe(inner);
    // an absolute link inside the mount resolves from the guest's root
    m.node.symlink(t, 'out', Buffer.from('/a'));
    expect(at(vfs, t, '/a/b/m/out').path).toBe('/a');
  });

  it('parent() splits off the last name (for create, unlink, rename)', () => {
    const { t, vfs } = setup();
    const p = vfs.parent(t, vfs.root, '/abs/new/');
    expect([p.dir.path, p.name, p.trailing]).toEqual(['/a/b', 'new', true]);
    expect(vfs.parent(t, vfs.root, '/').name).toBe('');
    expect(outcome(() => vfs.parent(t, vfs.root, '/file/x'))).toBe('ENOTDIR');
  });
});

describe('tmpfs', () => {
  it('keeps link counts and sizes as Linux tmpfs does', () => {
    const { t, vfs } = setup();
    const a = at(vfs, t, '/a').node as TmpNode;
    expect(a.nlink).toBe(3); // ., .., b/..
    expect(a.size).toBe(60); // 2 * 20 + one entry
    const file = at(vfs, t, '/file');
    a.link(t, 'hard', file.node);
    expect((file.node as TmpNode).nlink).toBe(2);
    vfs.root.node.unlink(t, 'file');
    expect((file.node as TmpNode).nlink).toBe(1);
    expect(outcome(() => vfs.root.node.rmdir(t, 'a'))).toBe('ENOTEMPTY');
    expect(outcome(() => a.link(t, 'x', at(vfs, t, '/a/b').node))).toBe('EPERM');
    expect(outcome(() => vfs.root.node.unlink(t, 'a'))).toBe('EISDIR');
  });

  it('rename: replaces, refuses a move below itself, exchanges', () => {
    const { t, vfs } = setup();
    const r = vfs.root.node;
    const a = at(vfs, t, '/a').node;
    expect(outcome(() => r.rename(t, 'a', at(vfs, t, '/a/b').node, 'x', 0))).toBe('EINVAL');
    r.mkdir(t, 'e', 0o755);
    expect(outcome(() => r.rename(t, 'a', r, 'e', 0))).toBe('ok'); // an empty directory is replaced
    expect(at(vfs, t, '/e/b').node.type).toBe(S_IFDIR);
    expect(outcome(() => r.rename(t, 'e', r, 'file', 0))).toBe('ENOTDIR');
    expect(outcome(() => r.rename(t, 'file', r, 'e', 0))).toBe('EISDIR');
    expect(outcome(() => r.rename(t, 'file', r, 'abs', 1 /* RENAME_NOREPLACE */))).toBe('EEXIST');
    r.rename(t, 'file', r, 'abs', 2 /* RENAME_EXCHANGE */);
    expect(at(vfs, t, '/file', false).node.type).toBe(S_IFLNK);
    void a;
  });

  it('checks permissions for users other than root, with the sticky bit', () => {
    const root = task(0, 0);
    const user = task(1000, 1000);
    const other = task(1001, 1001);
    const fs = new TmpFs(0o1777);
    const vfs = new Vfs(fs);
    const r = vfs.root.node;
    r.create(user, 'mine', 1, 0o600, vfs.root).release();
    expect(outcome(() => r.unlink(other, 'mine'))).toBe('EPERM'); // sticky
    expect(outcome(() => at(vfs, other, '/mine').node.open(other, 0, at(vfs, other, '/mine')))).toBe('EACCES');
    expect(outcome(() => at(vfs, user, '/mine').node.setattr(other, { mode: 0o777 }))).toBe('EPERM');
    r.mkdir(root, 'locked', 0o755);
    expect(outcome(() => at(vfs, user, '/locked').node.mkdir(user, 'x', 0o755))).toBe('EACCES');
    r.unlink(user, 'mine');
  });
});

describe('path walks through a host directory (hostfs)', () => {
  // what the walk cache keeps must never change where a walk leads
  function hostTree(): { t: FakeIo; vfs: Vfs; dir: string } {
    const dir = realpathSync(mkdtempSync(join(tmpdir(), 'elfrun-walk-')));
    mkdirSync(join(dir, 'a/b'), { recursive: true });
    mkdirSync(join(dir, 'other'));
    writeFileSync(join(dir, 'a/b/f'), 'in a/b');
    writeFileSync(join(dir, 'other/f'), 'in other');
    const t = task();
    const vfs = (t.vfs = new Vfs(new HostFs(dir)));
    return { t, vfs, dir };
  }
  const hostPath = (l: Loc): string => (l.node as HostNode).path;

  it('a guest change to a directory on the way is seen by the next walk', () => {
    const { t, vfs, dir } = hostTree();
    expect(hostPath(at(vfs, t, '/a/b/f'))).toBe(join(dir, 'a/b/f'));
    // b becomes a link to /other (from the guest's root, which the host would not know)
    const a = at(vfs, t, '/a');
    a.node.unlink(t, 'b/f');
    a.node.rmdir(t, 'b');
    a.node.symlink(t, 'b', Buffer.from('/other'));
    expect(hostPath(at(vfs, t, '/a/b/f'))).toBe(join(dir, 'other/f'));
    rmSync(dir, { recursive: true });
  });

  it('a mount on the way is seen by the next walk', () => {
    const { t, vfs, dir } = hostTree();
    expect(at(vfs, t, '/a/b/f').node.type).toBe(0o100000);
    const inner = new TmpFs(0o755);
    vfs.mount(t, '/a/b', inner);
    expect(outcome(() => at(vfs, t, '/a/b/f'))).toBe('ENOENT');
    inner.root().create(t, 'f', 1, 0o644, vfs.root).release();
    expect(at(vfs, t, '/a/b/f').mnt.fs).toBe(inner);
    rmSync(dir, { recursive: true });
  });

  it('links on the way count toward ELOOP on every walk, as on the first', () => {
    const { t, vfs, dir } = hostTree();
    for (let i = 0; i < 40; i++) symlinkSync(i === 39 ? '/a' : `c${i + 1}`, join(dir, `c${i}`));
    symlinkSync('f', join(dir, 'a/b/l'));
    for (let i = 0; i < 2; i++) {
      expect(hostPath(at(vfs, t, '/c0/b/f'))).toBe(join(dir, 'a/b/f')); // 40 links
      expect(outcome(() => at(vfs, t, '/c0/b/l'))).toBe('ELOOP'); // 41
      expect(hostPath(at(vfs, t, '/c1/b/l'))).toBe(join(dir, 'a/b/f')); // 40
    }
    rmSync(dir, { recursive: true });
  });

  it("another host process's change is seen within a second", () => {
    const { t, vfs, dir } = hostTree();
    expect(hostPath(at(vfs, t, '/a/b/f'))).toBe(join(dir, 'a/b/f'));
    rmSync(join(dir, 'a/b'), { recursive: true });
    symlinkSync('/other', join(dir, 'a/b'));
    Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 1100);
    expect(hostPath(at(vfs, t, '/a/b/f'))).toBe(join(dir, 'other/f'));
    rmSync(dir, { recursive: true });
  });
});
