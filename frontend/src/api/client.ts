/**
 * The typed client of the JSON API: paths and bodies come from schema.d.ts, which
 * `make frontend-client` generates from /api/v1/openapi.json (`make test` fails when they
 * disagree).
 *
 * Authentication is Flask-Security's for single-page apps: the session cookie, which
 * JavaScript never sees, and on every write the CSRF token that Flask-Security puts in the
 * XSRF-TOKEN cookie, sent back in the X-XSRF-Token header. Nothing is kept in localStorage.
 */
import createClient, { type Middleware } from "openapi-fetch";

import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type ApiErrorBody = Schemas["Error"];

export const XSRF_COOKIE = "XSRF-TOKEN";
export const XSRF_HEADER = "X-XSRF-Token";
const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** A cookie's value from a `document.cookie` string, or undefined. */
export function readCookie(cookies: string, name: string): string | undefined {
  for (const pair of cookies.split(";")) {
    const [key, ...value] = pair.trim().split("=");
    if (key === name) return decodeURIComponent(value.join("="));
  }
  return undefined;
}

let fetchingToken: Promise<unknown> | undefined;

/**
 * The CSRF token for a write. Flask-Security sets its cookie at login; before that (a guest's
 * cart) and after a logout, a JSON GET /login sets it: Flask-Security's way for single-page
 * apps. Writes at the same moment wait for the one GET.
 */
export async function xsrfToken(): Promise<string | undefined> {
  const token = readCookie(document.cookie, XSRF_COOKIE);
  if (token) return token;
  fetchingToken ??= fetch("/login", {
    headers: { Accept: "application/json" },
    credentials: "same-origin",
  }).finally(() => {
    fetchingToken = undefined;
  });
  await fetchingToken;
  return readCookie(document.cookie, XSRF_COOKIE);
}

const xsrf: Middleware = {
  async onRequest({ request }) {
    if (!SAFE_METHODS.has(request.method)) {
      const token = await xsrfToken();
      if (token) request.headers.set(XSRF_HEADER, token);
    }
    return request;
  },
};

export const api = createClient<paths>({ credentials: "same-origin" });
api.use(xsrf);

/** An answer of the API's one error shape, as an exception for TanStack Query. */
export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly fields: Record<string, string[]>;

  constructor(status: number, body: unknown) {
    const detail = (body as Partial<ApiErrorBody> | undefined)?.error;
    super(detail?.message ?? `The shop answered ${status}. Try again in a moment.`);
    this.status = status;
    this.code = detail?.code ?? "unknown";
    this.fields = detail?.fields ?? {};
  }
}

/** The data of a successful answer, or an ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.data === undefined || result.error !== undefined) {
    throw new ApiError(result.response.status, result.error);
  }
  return result.data;
}

/** An answer with no body (204), or its error as an ApiError. */
export function succeeded(result: { error?: unknown; response: Response }): void {
  if (!result.response.ok || result.error !== undefined) throw new ApiError(result.response.status, result.error);
}
