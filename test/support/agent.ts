import type { HavenApp } from '../../src/app.js';
import { totpCode } from '../../src/platform/auth/totp.js';
import type { TestClock } from './clock.js';

type Form = Record<string, string | string[]>;

export interface Response {
  statusCode: number;
  body: string;
  headers: Record<string, string | string[] | number | undefined>;
  location: string | undefined;
}

/**
 * A tiny browser over app.inject(): keeps cookies, and sends the CSRF token that Haven's pages carry.
 */
export class TestAgent {
  private cookies = new Map<string, string>();
  private csrfToken: string | undefined;

  constructor(private readonly app: HavenApp) {}

  private cookieHeader(): string {
    return [...this.cookies.entries()].map(([name, value]) => `${name}=${value}`).join('; ');
  }

  private remember(headers: Record<string, unknown>): void {
    const setCookie = headers['set-cookie'];
    const list = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
    for (const line of list as string[]) {
      const [pair, ...attributes] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      const expired = attributes.some((attribute) => /expires=Thu, 01 Jan 1970/i.test(attribute) || /max-age=0/i.test(attribute));
      if (expired || value === '') this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
  }

  cookie(name: string): string | undefined {
    return this.cookies.get(name);
  }

  async request(
    method: 'GET' | 'POST',
    url: string,
    options: { form?: Form; headers?: Record<string, string>; payload?: string | Buffer } = {},
  ): Promise<Response> {
    const headers: Record<string, string> = { ...options.headers };
    if (this.cookies.size > 0) headers.cookie = this.cookieHeader();
    let payload = options.payload;
    if (options.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(options.form)) for (const item of Array.isArray(value) ? value : [value]) params.append(key, item);
      payload = params.toString();
    }
    const response = await this.app.inject({ method, url, headers, ...(payload !== undefined ? { payload } : {}) });
    this.remember(response.headers);
    const match = /name="_csrf" value="([^"]+)"/.exec(response.body);
    if (match) this.csrfToken = match[1];
    return { statusCode: response.statusCode, body: response.body, headers: response.headers, location: response.headers.location };
  }

  get(url: string): Promise<Response> {
    return this.request('GET', url);
  }

  /** Posts a form with the CSRF token (fetching one from a public page first if needed). */
  async post(url: string, form: Form = {}, options: { csrf?: boolean } = {}): Promise<Response> {
    if (options.csrf !== false && !this.csrfToken) await this.get('/sign-in');
    return this.request('POST', url, { form: options.csrf === false ? form : { _csrf: this.csrfToken!, ...form } });
  }

  /** Posts a multipart form (file uploads) with the CSRF token. */
  async postMultipart(
    url: string,
    fields: Record<string, string>,
    files: Record<string, { name: string; type: string; data: Buffer }> = {},
  ): Promise<Response> {
    if (!this.csrfToken) await this.get('/sign-in');
    const boundary = `----haven${Math.random().toString(36).slice(2)}`;
    const parts: Buffer[] = [];
    for (const [name, value] of Object.entries({ _csrf: this.csrfToken!, ...fields }))
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
    for (const [name, file] of Object.entries(files)) {
      parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"; filename="${file.name}"\r\nContent-Type: ${file.type}\r\n\r\n`));
      parts.push(file.data, Buffer.from('\r\n'));
    }
    parts.push(Buffer.from(`--${boundary}--\r\n`));
    return this.request('POST', url, { headers: { 'content-type': `multipart/form-data; boundary=${boundary}` }, payload: Buffer.concat(parts) });
  }

  /** Signs in with a password, and a TOTP code computed from the secret when the account has one. */
  async signIn(email: string, password: string, totpSecret?: string, clock?: TestClock): Promise<Response> {
    const response = await this.post('/sign-in', { email, password });
    if (response.location?.startsWith('/sign-in/two-factor')) {
      if (!totpSecret || !clock) throw new Error('This account needs a TOTP secret and the test clock');
      return this.post('/sign-in/two-factor', { code: totpCode(totpSecret, clock()), next: '/' });
    }
    return response;
  }
}
