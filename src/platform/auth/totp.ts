import * as OTPAuth from 'otpauth';
import QRCode from 'qrcode';

const period = 30;

function totpFor(secretBase32: string, label: string): OTPAuth.TOTP {
  return new OTPAuth.TOTP({ issuer: 'Haven', label, algorithm: 'SHA1', digits: 6, period, secret: OTPAuth.Secret.fromBase32(secretBase32) });
}

export function newTotpSecret(): string {
  return new OTPAuth.Secret({ size: 20 }).base32;
}

export function totpUri(secretBase32: string, label: string): string {
  return totpFor(secretBase32, label).toString();
}

/** An SVG QR code for authenticator apps; inline SVG needs no script or style exemptions. */
export async function totpQrSvg(uri: string): Promise<string> {
  return QRCode.toString(uri, { type: 'svg', margin: 1, errorCorrectionLevel: 'M' });
}

export function totpCode(secretBase32: string, at: Date): string {
  return totpFor(secretBase32, 'code').generate({ timestamp: at.getTime() });
}

/**
 * Checks a code against the current step ±1 and returns the step it matched, so the caller can
 * refuse a code that was already used (replay).
 */
export function matchTotp(secretBase32: string, code: string, at: Date): number | null {
  const cleaned = code.replace(/\s/g, '');
  if (!/^\d{6}$/.test(cleaned)) return null;
  const delta = totpFor(secretBase32, 'code').validate({ token: cleaned, timestamp: at.getTime(), window: 1 });
  if (delta === null) return null;
  return Math.floor(at.getTime() / 1000 / period) + delta;
}
