import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { networkInterfaces } from 'node:os';
import { Agent, fetch as undiciFetch, type Dispatcher } from 'undici';

/**
 * THE guard for every outgoing call made on a shop's behalf (webhooks now; app proxies and marketing syncs next):
 * https only, and never to an address inside this deployment — loopback, private, link-local, shared, benchmark,
 * documentation and multicast ranges, the IPv6 forms that embed one of those IPv4 addresses, and this host's own
 * interface addresses. The name is resolved by the connection itself through a lookup that checks every address,
 * so what was checked is what is connected to (no DNS rebinding between a check and the request).
 */
const blocked = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.0.0.0', 24],
  ['192.0.2.0', 24], // TEST-NET-1
  ['192.88.99.0', 24], // 6to4 relay anycast
  ['192.168.0.0', 16],
  ['198.18.0.0', 15],
  ['198.51.100.0', 24], // TEST-NET-2
  ['203.0.113.0', 24], // TEST-NET-3
  ['224.0.0.0', 3], // multicast, reserved, broadcast
] as const) {
  blocked.addSubnet(net, bits, 'ipv4');
}
for (const [net, bits] of [
  ['::', 128],
  ['::1', 128],
  ['100::', 64], // discard
  ['2001::', 32], // Teredo: tunnels to any IPv4
  ['2001:db8::', 32], // documentation
  ['2002::', 16], // 6to4: embeds any IPv4
  ['64:ff9b::', 96], // NAT64: embeds any IPv4
  ['64:ff9b:1::', 48], // local-use NAT64
  ['fc00::', 7],
  ['fe80::', 10],
  ['fec0::', 10], // site-local (deprecated)
  ['ff00::', 8],
] as const) {
  blocked.addSubnet(net, bits, 'ipv6');
}

/** The IPv4 address an IPv6 address carries in its last 32 bits (IPv4-compatible ::/96, mapped ::ffff:0:0/96, translated ::ffff:0:0:0/96). */
function embeddedIpv4(address: string): string | null {
  const words = expandIpv6(address);
  if (!words) return null;
  const zeros = (from: number, to: number) => words.slice(from, to).every((w) => w === 0);
  const compatible = zeros(0, 6);
  const mapped = zeros(0, 5) && words[5] === 0xffff;
  const translated = zeros(0, 4) && words[4] === 0xffff && words[5] === 0;
  if (!compatible && !mapped && !translated) return null;
  const [hi, lo] = [words[6] as number, words[7] as number];
  return `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;
}

function expandIpv6(address: string): number[] | null {
  let a = address.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(a);
  if (v4) {
    const p = (v4[1] as string).split('.').map(Number);
    a = a.slice(0, -(v4[1] as string).length) + `${(((p[0] as number) << 8) | (p[1] as number)).toString(16)}:${(((p[2] as number) << 8) | (p[3] as number)).toString(16)}`;
  }
  const [head, tail] = a.split('::') as [string, string | undefined];
  const h = head ? head.split(':') : [];
  const t = tail ? tail.split(':') : [];
  const fill = a.includes('::') ? 8 - h.length - t.length : 0;
  const words = [...h, ...Array<string>(Math.max(fill, 0)).fill('0'), ...t].map((w) => parseInt(w || '0', 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : null;
}

/** This host's own interface addresses: a receiver "out there" that is really this machine. */
function ownAddresses(): Set<string> {
  return new Set(
    Object.values(networkInterfaces())
      .flat()
      .filter((i): i is NonNullable<typeof i> => Boolean(i))
      .map((i) => i.address.toLowerCase().replace(/%.*$/, '')),
  );
}

export function isPrivateAddress(address: string): boolean {
  const a = address.toLowerCase().replace(/^\[|\]$/g, '').replace(/%.*$/, '');
  const family = isIP(a);
  if (family === 0) return true;
  if (ownAddresses().has(a)) return true;
  if (family === 4) return blocked.check(a, 'ipv4');
  const v4 = embeddedIpv4(a);
  if (v4 && (blocked.check(v4, 'ipv4') || ownAddresses().has(v4))) return true;
  return blocked.check(a, 'ipv6');
}

export type UrlProblem = 'malformed' | 'not_https' | 'private_address' | 'unresolvable';

/**
 * Checks a URL we are about to call on a shop's behalf: https, and every address its host resolves to public.
 * Checked when it is saved (a clear error for the shop); the connection checks again (`outgoingFetch`).
 */
export async function checkOutgoingUrl(raw: string, opts: { allowPrivate: boolean }): Promise<UrlProblem | null> {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'malformed';
  }
  if (url.protocol !== 'https:' && !(opts.allowPrivate && url.protocol === 'http:')) return url.protocol === 'http:' ? 'not_https' : 'malformed';
  if (url.username || url.password) return 'malformed';
  if (opts.allowPrivate) return null;
  const host = url.hostname.replace(/^\[|\]$/g, '');
  let addresses: string[];
  if (isIP(host)) addresses = [host];
  else {
    try {
      addresses = (await lookup(host, { all: true })).map((a) => a.address);
    } catch {
      return 'unresolvable';
    }
  }
  return addresses.length === 0 || addresses.some(isPrivateAddress) ? 'private_address' : null;
}

export class RefusedAddress extends Error {
  constructor(host: string) {
    super(`refused: ${host} resolves to an address inside this deployment`);
    this.name = 'RefusedAddress';
  }
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string | LookupAddress[], family?: number) => void;

/** A DNS lookup for the connection itself: every address the name resolves to must be public, or none is used. */
function guardedLookup(hostname: string, options: { all?: boolean; family?: number }, cb: LookupCallback): void {
  dnsLookup(hostname, { all: true, family: options.family ?? 0 }, (err, addresses) => {
    if (err) return cb(err, []);
    if (addresses.length === 0 || addresses.some((a) => isPrivateAddress(a.address))) return cb(new RefusedAddress(hostname), []);
    if (options.all) return cb(null, addresses);
    const first = addresses[0] as LookupAddress;
    return cb(null, first.address, first.family);
  });
}

const guarded = new Agent({ connect: { lookup: guardedLookup as never }, connections: 64 });
const open = new Agent({ connections: 64 });

/** The dispatcher of calls on a shop's behalf (the app proxy hands it to @fastify/reply-from). */
export function outgoingDispatcher(allowPrivate: boolean): Dispatcher {
  return allowPrivate ? open : guarded;
}

/** Refuses an IP literal inside the deployment (names are checked when the connection resolves them). */
export function assertPublicHost(url: string, allowPrivate: boolean): void {
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(host) && isPrivateAddress(host)) throw new RefusedAddress(host);
}

/**
 * fetch for calls on a shop's behalf. The connection resolves the name through the guard (IP literals are checked
 * here, as they are never looked up); `allowPrivate` (development only) lifts the guard.
 */
export async function outgoingFetch(url: string, init: Parameters<typeof undiciFetch>[1] & { allowPrivate: boolean }): Promise<Awaited<ReturnType<typeof undiciFetch>>> {
  const { allowPrivate, ...rest } = init;
  const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
  if (!allowPrivate && isIP(host) && isPrivateAddress(host)) throw new RefusedAddress(host);
  const dispatcher: Dispatcher = allowPrivate ? open : guarded;
  return undiciFetch(url, { ...rest, dispatcher });
}
