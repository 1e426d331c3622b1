// The one way the browser calls Plenary's JSON endpoints.
//
// Every state-changing request needs the CSRF token that base.html puts in
// <meta name="csrf-token">, and every error comes back in one shape:
//   {"error": {"code": "...", "message": "...", "fields": {"name": ["..."]}}}
// apiFetch turns that shape into a thrown ApiError, so callers only write
//   try { await apiFetch(url, {method: "POST", body: {...}}) } catch (e) { e.code, e.fields }

export class ApiError extends Error {
  constructor(message, { status = 0, code = "error", fields = {} } = {}) {
    super(message);
    this.name = "ApiError";
    /** HTTP status, or 0 when no response arrived. */
    this.status = status;
    /** Machine-readable reason, e.g. "validation_error", "forbidden". */
    this.code = code;
    /** Field name -> list of messages, for validation errors. */
    this.fields = fields;
  }
}

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.getAttribute("content") ?? "";
}

function isPlainBody(body) {
  return (
    body !== null &&
    typeof body === "object" &&
    !(body instanceof FormData) &&
    !(body instanceof URLSearchParams) &&
    !(body instanceof Blob) &&
    !(body instanceof ArrayBuffer) &&
    !ArrayBuffer.isView(body)
  );
}

/**
 * fetch() for our API: JSON in, JSON out, CSRF header, session cookie.
 * A plain object `body` is sent as JSON (and makes the method POST unless given).
 * Resolves to the parsed JSON (null for an empty answer); rejects with ApiError.
 */
export async function apiFetch(url, options = {}) {
  const { body, headers, ...rest } = options;
  /** @type {RequestInit & {headers: Headers}} */
  const request = { credentials: "same-origin", ...rest, headers: new Headers(headers) };
  request.headers.set("Accept", "application/json");

  if (isPlainBody(body)) {
    request.body = JSON.stringify(body);
    request.headers.set("Content-Type", "application/json");
    request.method ??= "POST";
  } else if (body !== undefined) {
    request.body = body;
  }

  // The token is a secret of this origin: never hand it to another one.
  if (new URL(url, document.baseURI).origin === window.location.origin) {
    request.headers.set("X-CSRFToken", csrfToken());
  }

  let response;
  try {
    response = await fetch(url, request);
  } catch {
    throw new ApiError("The server could not be reached.", { code: "network_error" });
  }

  const isJson = (response.headers.get("Content-Type") ?? "").includes("json");
  const data = isJson && response.status !== 204 ? await response.json().catch(() => null) : null;

  if (!response.ok) {
    const error = data?.error;
    throw new ApiError(error?.message ?? `Request failed (HTTP ${response.status}).`, {
      status: response.status,
      code: error?.code ?? `http_${response.status}`,
      fields: error?.fields ?? {},
    });
  }
  return data;
}
