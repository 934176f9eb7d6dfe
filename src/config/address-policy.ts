import { BlockList, isIP } from 'node:net';

/**
 * Addresses no song may be downloaded from unless the operator allows them:
 * loopback, private, link-local (cloud metadata at 169.254.169.254),
 * carrier-grade NAT, multicast, documentation and other special ranges. A
 * `url` track or a play URL from api-proxy pointing there would make the
 * station fetch from its own machine or LAN on an attacker's behalf.
 */
const SPECIAL_V4 = [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24],
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24],
  ['203.0.113.0', 24],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const;
const SPECIAL_V6 = [
  ['::', 128],
  ['::1', 128],
  ['64:ff9b::', 96],
  ['100::', 64],
  ['2001:db8::', 32],
  ['2002::', 16],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const;

const special = new BlockList();
for (const [net, bits] of SPECIAL_V4) special.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of SPECIAL_V6) special.addSubnet(net, bits, 'ipv6');

/** `[::1]` -> `::1`; `::ffff:10.0.0.1` -> `10.0.0.1` (a mapped address is the IPv4 one). */
export function plainAddress(host: string): string {
  const bare = host.replace(/^\[|\]$/g, '');
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(bare);
  return mapped ? mapped[1]! : bare;
}

/**
 * Which hosts media may come from. Public addresses always; special ones
 * only when listed in `allow` (MEDIA_ALLOW_HOSTS): host names, addresses, or
 * networks in CIDR form, e.g. `nas.local,192.168.1.0/24,::1`.
 */
export class AddressPolicy {
  private readonly names = new Set<string>();
  private readonly allowed = new BlockList();

  constructor(allow: readonly string[] = []) {
    for (const entry of allow) {
      const [net, bits] = entry.split('/');
      const addr = plainAddress(net ?? '');
      const family = isIP(addr);
      if (family === 0) this.names.add(entry.toLowerCase().replace(/\.$/, ''));
      else if (bits === undefined) this.allowed.addAddress(addr, family === 4 ? 'ipv4' : 'ipv6');
      else this.allowed.addSubnet(addr, Number(bits), family === 4 ? 'ipv4' : 'ipv6');
    }
  }

  /** Whether `address` (where `hostname` resolved to) may be connected to. */
  allows(address: string, hostname = address): boolean {
    const addr = plainAddress(address);
    const family = isIP(addr);
    if (family === 0) return false;
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (!special.check(addr, type)) return true;
    return this.allowed.check(addr, type) || this.names.has(hostname.toLowerCase().replace(/\.$/, ''));
  }
}

/** Entries of MEDIA_ALLOW_HOSTS that are neither a host name, an address nor a network; for config errors. */
export function invalidAllowEntries(entries: readonly string[]): string[] {
  return entries.filter((e) => {
    const [net, bits, extra] = e.split('/');
    const family = isIP(plainAddress(net ?? ''));
    if (extra !== undefined) return true;
    if (bits !== undefined) return family === 0 || !/^\d+$/.test(bits) || Number(bits) > (family === 4 ? 32 : 128);
    return family === 0 && !/^[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?)*\.?$/.test(e);
  });
}
