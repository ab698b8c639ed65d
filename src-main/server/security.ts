import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';

// Web mode listens on loopback, but any web page the user visits can still reach 127.0.0.1 through
// the browser (CSRF, DNS rebinding). Three locks close that: a random per-start token, a Host
// allow-list (defeats DNS rebinding) and an Origin allow-list (defeats cross-site requests).

export const TOKEN_HEADER = 'x-dino-token';

export function newToken(): string {
  return randomBytes(32).toString('base64url');
}

/** Cookies are scoped by host, not port: name the cookie per port so two servers never clobber. */
function cookieName(port: number): string {
  return `dino_token_${port}`;
}

/**
 * The cookie's secret: derived from the token, so it is per start too, but not the token itself.
 * It opens photos, events and the UI's files; the API wants the token in its header.
 */
export function mediaToken(token: string): string {
  return createHmac('sha256', token).update('dino-explorer media cookie').digest('base64url');
}

export function tokenCookie(port: number, secret: string): string {
  return `${cookieName(port)}=${secret}; HttpOnly; SameSite=Strict; Path=/`;
}

export function sameSecret(a: string | undefined, b: string): boolean {
  if (a === undefined) return false;
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function allowedHosts(port: number): string[] {
  return [`127.0.0.1:${port}`, `localhost:${port}`];
}

/** Host must name this server exactly; a rebinding attacker's page sends its own host name. */
export function hostAllowed(req: IncomingMessage, port: number): boolean {
  const host = req.headers.host?.toLowerCase();
  return host !== undefined && allowedHosts(port).includes(host);
}

/** A request without Origin (top-level navigation, same-origin GET) is fine; any other origin is not. */
export function originAllowed(req: IncomingMessage, port: number): boolean {
  const origin = req.headers.origin;
  if (origin === undefined) {
    // Browsers tell us when a request comes from another site even without Origin (e.g. <img>).
    const site = req.headers['sec-fetch-site'];
    return site === undefined || site === 'same-origin' || site === 'none';
  }
  return allowedHosts(port).some((h) => origin.toLowerCase() === `http://${h}`);
}

function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (!header) return out;
  for (const part of header.split(';')) {
    const i = part.indexOf('=');
    if (i > 0) out.set(part.slice(0, i).trim(), part.slice(i + 1).trim());
  }
  return out;
}

/** The token in the request's header (the UI's fetch sets it), if any. */
export function headerToken(req: IncomingMessage): string | undefined {
  const header = req.headers[TOKEN_HEADER];
  return typeof header === 'string' ? header : undefined;
}

/** The media secret in the request's cookie (img, EventSource), if any. */
export function cookieToken(req: IncomingMessage, port: number): string | undefined {
  return parseCookies(req.headers.cookie).get(cookieName(port));
}

const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

export const SECURITY_HEADERS: Record<string, string> = {
  'Content-Security-Policy': CONTENT_SECURITY_POLICY,
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};
