import { domainToASCII } from 'node:url';

/**
 * Host and URL normalisation shared by list import, the compiler, the engine and exports
 * (DESIGN.md "Filtering semantics"): lower case, no trailing dot, no port, IDN as punycode.
 */

const labelPattern = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;
const ipv4Pattern = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}$/;

/** True when every character is printable ASCII other than upper-case letters. */
function isPlainLowerAscii(text: string): boolean {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code > 126 || code < 33 || (code >= 65 && code <= 90)) return false;
  }
  return true;
}

/**
 * A host as entered or requested → its normal form, or null when it is not a valid host name or
 * IPv4 address. Accepts a port ("host:8080"), a trailing dot, upper case and Unicode (IDN).
 */
export function normaliseHost(input: string): string | null {
  let host = input.trim();
  if (host.startsWith('[')) return null; // IPv6 literals are not filtered by name
  const colon = host.indexOf(':');
  if (colon !== -1) {
    if (!/^\d{1,5}$/.test(host.slice(colon + 1))) return null;
    host = host.slice(0, colon);
  }
  while (host.endsWith('.')) host = host.slice(0, -1);
  if (!host || host.length > 253) return null;
  if (!isPlainLowerAscii(host)) {
    host = host.toLowerCase();
    if (!isPlainLowerAscii(host)) {
      const ascii = domainToASCII(host);
      if (!ascii) return null;
      host = ascii;
    }
  }
  if (ipv4Pattern.test(host)) return host;
  const labels = host.split('.');
  for (const label of labels) if (!labelPattern.test(label)) return null;
  return host;
}

export interface SplitUrl {
  /** Normalised host. */
  host: string;
  /** Everything from the first "/" after the host (path and query), or "" when none. */
  rest: string;
}

/**
 * Splits a requested URL (with or without a scheme, as Squid's %URI or a CONNECT "host:port") into
 * its normalised host and the rest. Null when there is no valid host.
 */
export function splitUrl(url: string): SplitUrl | null {
  let start = url.indexOf('://');
  start = start === -1 ? 0 : start + 3;
  let end = url.length;
  for (let i = start; i < url.length; i += 1) {
    const code = url.charCodeAt(i);
    if (code === 47 || code === 63 || code === 35) {
      end = i;
      break;
    }
  }
  let authority = url.slice(start, end);
  const at = authority.lastIndexOf('@');
  if (at !== -1) authority = authority.slice(at + 1);
  const host = normaliseHost(authority);
  if (!host) return null;
  return { host, rest: end < url.length ? (url.charCodeAt(end) === 47 ? url.slice(end) : `/${url.slice(end)}`) : '' };
}

/** A URL-prefix list entry in its normal form: host (without a leading www.) and path, no scheme. */
export function normaliseUrlEntry(entry: string): string | null {
  const split = splitUrl(entry.trim());
  if (!split) return null;
  const host = split.host.startsWith('www.') ? split.host.slice(4) : split.host;
  let rest = split.rest;
  while (rest.endsWith('/')) rest = rest.slice(0, -1);
  return `${host}${rest}`;
}
