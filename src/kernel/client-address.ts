import { isIPv6 } from 'node:net';

/**
 * The key a client's address is counted under, for caps and lock-outs:
 * `::ffff:1.2.3.4` and `1.2.3.4` are one client, and an IPv6 address counts
 * by its /64 (one home or one server is given a whole /64, so counting
 * single IPv6 addresses would give an attacker 2^64 fresh ones).
 */
export function clientKey(address: string | undefined): string {
  const a = address ?? '?';
  if (a.startsWith('::ffff:') && a.includes('.')) return a.slice(7);
  if (!isIPv6(a)) return a;
  const groups = expandIPv6(a.split('%')[0]!);
  return groups ? `${groups.slice(0, 4).join(':')}::/64` : a;
}

/** The eight 16-bit groups of an IPv6 address, as lower-case hex without leading zeros; null if it is not one. */
function expandIPv6(a: string): string[] | null {
  const [head, tail, extra] = a.toLowerCase().split('::');
  if (extra !== undefined) return null;
  const part = (s: string | undefined): string[] => (s ? s.split(':') : []);
  let left = part(head);
  let right = part(tail);
  // An embedded IPv4 tail (::1.2.3.4) is two groups.
  const last = (tail === undefined ? left : right).at(-1);
  if (last?.includes('.')) {
    const o = last.split('.').map(Number);
    const v4 = [((o[0]! << 8) | o[1]!).toString(16), ((o[2]! << 8) | o[3]!).toString(16)];
    if (tail === undefined) left = [...left.slice(0, -1), ...v4];
    else right = [...right.slice(0, -1), ...v4];
  }
  const fill = tail === undefined ? 0 : 8 - left.length - right.length;
  if (fill < 0) return null;
  const groups = [...left, ...Array<string>(fill).fill('0'), ...right];
  return groups.length === 8 ? groups.map((g) => (parseInt(g, 16) || 0).toString(16)) : null;
}
