/**
 * Flask-Security's own JSON views (/login, /tf-validate, /register, /reset, /logout,
 * /tf-setup): they are not part of /api/v1 nor its document, so they are called here, the
 * way Flask-Security documents for single-page apps: JSON bodies, the session cookie, and the
 * X-XSRF-Token header on every POST.
 */
import { ApiError, XSRF_HEADER, xsrfToken } from "../api/client";

/** What Flask-Security answers: {meta: {code}, response: {...}}. */
export interface SecurityAnswer {
  csrf_token?: string;
  tf_required?: boolean;
  tf_state?: string;
  tf_authr_key?: string;
  tf_authr_b32key?: string;
  tf_authr_uri?: string;
  tf_authr_issuer?: string;
  tf_authr_username?: string;
  errors?: string[];
  field_errors?: Record<string, string[]>;
}

/** Flask-Security's error answer as an ApiError: its messages, each once, in one sentence. */
export function securityError(status: number, answer: SecurityAnswer | undefined): ApiError {
  const messages = new Set([...(answer?.errors ?? []), ...Object.values(answer?.field_errors ?? {}).flat()]);
  const message = [...messages].join(" ") || `The shop answered ${status}. Try again in a moment.`;
  return new ApiError(status, { error: { status, code: "security", message } });
}

export async function securityPost(path: string, body: object): Promise<SecurityAnswer> {
  const token = await xsrfToken();
  const response = await fetch(path, {
    method: "POST",
    credentials: "same-origin",
    headers: { "Content-Type": "application/json", Accept: "application/json", ...(token ? { [XSRF_HEADER]: token } : {}) },
    body: JSON.stringify(body),
  });
  const answer = (await response.json().catch(() => undefined)) as { response?: SecurityAnswer } | undefined;
  if (!response.ok) throw securityError(response.status, answer?.response);
  return answer?.response ?? {};
}
