import { isIPv4 } from 'node:net';

function ipv4Number(address: string): number {
  return address.split('.').reduce((n, part) => n * 256 + Number(part), 0);
}

/** Why `text` is not an IPv4 CIDR (`10.0.0.0/8`), or undefined when it is one. */
export function ipv4CidrProblem(text: string): string | undefined {
  const [address = '', bits, extra] = text.split('/');
  if (extra !== undefined || bits === undefined || !/^\d{1,2}$/.test(bits) || Number(bits) > 32) {
    return `${JSON.stringify(text)} is not a CIDR such as 10.0.0.0/8`;
  }
  if (!isIPv4(address)) {
    return `${JSON.stringify(text)}: only IPv4 blocks are modelled`;
  }
  return undefined;
}

export function ipv4InCidr(address: string, cidr: string): boolean {
  const [base = '', bits = '32'] = cidr.split('/');
  const width = Number(bits);
  const mask = width === 0 ? 0 : (~0 << (32 - width)) >>> 0;
  return (ipv4Number(address) & mask) >>> 0 === (ipv4Number(base) & mask) >>> 0;
}
