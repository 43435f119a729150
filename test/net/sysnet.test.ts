// /sys/class/net and lo's counters: our lostats fixture against Linux in an
// empty network namespace (unshare -n -m with lo up and a sysfs of that
// namespace mounted on /sys, as a container has it), on both arches; and
// iproute2's `ip -s link` and the attribute files programs read, against
// the same namespace (--net none) or the host's own network (--net host).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { ARCHES, fixture, haveFixtures, haveQemu, ROOT, runElfrun, type TestArch } from '../helpers/oracle.js';

/** argv in a new network namespace whose lo is up, with that namespace's /sys */
const inNetns = (argv: string[]): string[] => ['unshare', '-n', '-m', 'sh', '-c', 'ip link set lo up && mount -t sysfs none /sys && exec "$@"', 'sh', ...argv];
let netnsOk: boolean | undefined;
const canNetns = (): boolean => (netnsOk ??= spawnSync(inNetns(['true'])[0], inNetns(['true']).slice(1), { timeout: 10_000 }).status === 0);

function linux(arch: TestArch, argv: string[], netns: boolean): { stdout: string; stderr: string; status: number | null } {
  const cmd = arch === 'x86_64' ? argv : ['qemu-aarch64', ...argv];
  const full = netns ? inNetns(cmd) : cmd;
  const r = spawnSync(full[0], full.slice(1), { cwd: ROOT, timeout: 60_000 });
  return { stdout: r.stdout.toString('latin1'), stderr: r.stderr.toString('latin1'), status: r.status };
}

for (const arch of ARCHES) {
  describe.runIf(haveFixtures() && canNetns() && (arch === 'x86_64' || haveQemu()))(`lo's attributes and counters on ${arch}`, () => {
    it('lostats: /sys/class/net/lo\'s attributes, and /proc/net/dev, netlink IFLA_STATS/IFLA_STATS64 and statistics/ agreeing as UDP over IPv4 and IPv6 (and ICMP errors) is counted, as Linux in an empty network namespace', () => {
      const want = linux(arch, [fixture(arch, 'lostats')], true);
      const got = runElfrun(fixture(arch, 'lostats'), [], { flags: ['--net', 'none'] });
      expect(want.stdout).toContain('a 100-byte datagram over IPv4: rx 128 bytes 1 packets');
      expect(got.stdout).toBe(want.stdout);
      expect(got.status).toBe(want.status);
    });

    it('nlperm: a request that would change the network, without CAP_NET_ADMIN, is sent and answered by NLMSG_ERROR -EPERM (the request copied, or capped), reads still answered, as Linux', () => {
      const want = linux(arch, [fixture(arch, 'nlperm')], true);
      expect(want.stdout).toContain('ack asked: error -1');
      for (const net of ['none', 'host']) {
        const got = runElfrun(fixture(arch, 'nlperm'), [], { flags: ['--net', net] });
        expect(got.stdout, `--net ${net}`).toBe(want.stdout);
      }
    });
  });
}

const ip = '/usr/bin/ip';
const bb = fixture('x86_64', 'busybox');
describe.runIf(haveFixtures() && existsSync(ip))('/sys/class/net and ip -s link (iproute2, x86_64 dynamic)', () => {
  it.runIf(canNetns())('--net none: ip -s link, ip -s -s link show lo and busybox ifconfig lo, as in an empty network namespace', () => {
    const script = `${ip} -s link; ${ip} -s -s link show lo; ${bb} ifconfig lo`;
    const want = linux('x86_64', [bb, 'sh', '-c', script], true);
    const got = runElfrun(bb, ['sh', '-c', script], { flags: ['--net', 'none'] });
    expect(want.stdout).toContain('LOOPBACK,UP,LOWER_UP');
    expect(got.stdout).toBe(want.stdout);
    expect(got.stderr).toBe(want.stderr);
  });

  it.runIf(canNetns())('ip link set and ip addr add are refused as for a user without CAP_NET_ADMIN, as Linux (natively in a namespace of its own, as uid 65534)', () => {
    const script = `${ip} link set lo mtu 1000; echo "ip $?"; ${ip} addr add 10.9.9.9/24 dev lo; echo "ip $?"; ${ip} link show lo | head -1`;
    // the native side cannot change anything: its own namespace, and no capabilities
    const want = linux('x86_64', ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', bb, 'sh', '-c', script], true);
    expect(want.stderr).toContain('RTNETLINK answers: Operation not permitted');
    for (const net of ['none', 'host']) {
      const got = runElfrun(bb, ['sh', '-c', script], { flags: ['--net', net] });
      expect(got.stdout, `--net ${net}`).toBe(want.stdout);
      expect(got.stderr, `--net ${net}`).toBe(want.stderr);
    }
  });

  it.runIf(canNetns())('--net none: what is under /sys/class/net, its links, and each lo attribute (errors too), as in an empty network namespace', () => {
    const script = `cd /sys/class/net && ls && readlink lo && cd lo && for f in $(ls); do [ -f "$f" ] && echo "$f: $(cat "$f" 2>&1)"; done; ls statistics; cat statistics/*`;
    const want = linux('x86_64', [bb, 'sh', '-c', script], true);
    const got = runElfrun(bb, ['sh', '-c', script], { flags: ['--net', 'none'] });
    expect(want.stdout).toContain('mtu: 65536');
    expect(got.stdout).toBe(want.stdout);
  });

  it('--net host: the host\'s interfaces, their links and attributes, as the host\'s /sys and ip link show them (counters left out: they move)', () => {
    const script = `cd /sys/class/net && for i in $(ls); do echo "$i -> $(readlink $i)"; for f in ifindex iflink mtu address broadcast flags operstate type carrier tx_queue_len addr_len; do echo "  $f: $(cat $i/$f 2>&1)"; done; ls $i/statistics | wc -l; done; ${ip} -o link | cut -d' ' -f1-9`;
    const want = linux('x86_64', [bb, 'sh', '-c', script], false);
    const got = runElfrun(bb, ['sh', '-c', script]);
    expect(want.stdout).toContain('lo -> ../../devices/virtual/net/lo');
    expect(got.stdout).toBe(want.stdout);
  });
});
