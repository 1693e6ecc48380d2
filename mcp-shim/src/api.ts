// HTTP client for the daemon's localhost API (`/local/*`, see docs/api.md in the nocturne repo).
//
// Every call sends the bearer token; the URL is always http://127.0.0.1:<port>, so the Host
// header fetch derives from it is one the daemon accepts (it refuses other hosts against DNS
// rebinding). Bodies are JSON with `Content-Type: application/json`, which the daemon requires
// for any request with a body.

/** An error the daemon answered with (`{"error":{"code","message"}}`), or one on the way to it. */
export class ApiError extends Error {
  constructor(
    /** HTTP status, or 0 when no answer arrived. */
    readonly status: number,
    /** The daemon's machine-readable code, kept verbatim (e.g. `unknown_agent`). */
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = "ApiError";
  }
}

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface PublishRequest {
  domain: string;
  title: string;
  content: string;
  tags?: string[] | undefined;
  confidence?: number | undefined;
  id?: string | undefined;
  ttl_seconds?: number | undefined;
}

export interface VoteRequest {
  id: string;
  domain: string;
  vote: 1 | -1;
  reason?: string | undefined;
}

export interface QueryRequest {
  domain: string;
  q?: string | undefined;
  min_confidence?: number | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface ClaimRequest {
  domain?: string | undefined;
  kind?: "verify" | "review" | "synthesize" | "custom" | undefined;
  id?: string | undefined;
}

export interface SubmitRequest {
  id: string;
  epoch: number;
  result_id: string;
  domain?: string | undefined;
}

export interface ReflectRequest {
  summary: string;
  domains?: string[] | undefined;
}

/** Requests the daemon cannot finish in this time are abandoned (the daemon itself answers 504 earlier). */
const REQUEST_TIMEOUT_MS = 60_000;

function isJsonObject(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

export class LocalApi {
  /**
   * @param baseUrl `http://127.0.0.1:<port>` as the daemon reported it.
   * @param token the content of `<home>/api.token`.
   * @param describeOutage called when the daemon cannot be reached, to say why (e.g. the child
   *   daemon exited); its text is appended to the error message the model sees.
   */
  constructor(
    readonly baseUrl: string,
    private readonly token: string,
    private readonly describeOutage: () => string = () => "",
  ) {}

  health(): Promise<JsonObject> {
    return this.request("GET", "/local/health");
  }

  peers(): Promise<JsonObject> {
    return this.request("GET", "/local/peers");
  }

  domains(): Promise<JsonObject> {
    return this.request("GET", "/local/domains");
  }

  anomalies(): Promise<JsonObject> {
    return this.request("GET", "/local/anomalies");
  }

  publish(entry: PublishRequest): Promise<JsonObject> {
    // JSON.stringify drops undefined members: the daemon refuses unknown fields, and an absent
    // optional field must stay absent rather than become null.
    return this.request("POST", "/local/knowledge", entry);
  }

  query(query: QueryRequest): Promise<JsonObject> {
    const params = new URLSearchParams();
    params.set("domain", query.domain);
    // Only parameters that were given: the daemon refuses a parameter given twice, and an empty
    // one would be a value, not an absence.
    if (query.q !== undefined && query.q !== "") params.set("q", query.q);
    if (query.min_confidence !== undefined) params.set("min_confidence", String(query.min_confidence));
    if (query.limit !== undefined) params.set("limit", String(query.limit));
    if (query.cursor !== undefined && query.cursor !== "") params.set("cursor", query.cursor);
    return this.request("GET", `/local/knowledge?${params.toString()}`);
  }

  vote(request: VoteRequest): Promise<JsonObject> {
    const body: Record<string, unknown> = { domain: request.domain, vote: request.vote };
    if (request.reason !== undefined && request.reason !== "") body["reason"] = request.reason;
    return this.request("POST", `/local/knowledge/${encodeURIComponent(request.id)}/vote`, body);
  }

  /** Claims the next open task (an empty object when there is none: the daemon answers 204). */
  claimTask(request: ClaimRequest): Promise<JsonObject> {
    const params = new URLSearchParams();
    if (request.domain !== undefined && request.domain !== "") params.set("domain", request.domain);
    if (request.kind !== undefined) params.set("kind", request.kind);
    if (request.id !== undefined && request.id !== "") params.set("id", request.id);
    const query = params.toString();
    return this.request("GET", `/local/compute${query ? `?${query}` : ""}`);
  }

  submitResult(request: SubmitRequest): Promise<JsonObject> {
    const body: Record<string, unknown> = { result_id: request.result_id, epoch: request.epoch };
    if (request.domain !== undefined && request.domain !== "") body["domain"] = request.domain;
    return this.request("POST", `/local/compute/${encodeURIComponent(request.id)}/result`, body);
  }

  releaseTask(id: string, epoch: number): Promise<JsonObject> {
    return this.request("POST", `/local/compute/${encodeURIComponent(id)}/release`, { epoch });
  }

  awareness(): Promise<JsonObject> {
    return this.request("GET", "/local/awareness");
  }

  reflect(request: ReflectRequest): Promise<JsonObject> {
    const body: Record<string, unknown> = { summary: request.summary };
    if (request.domains !== undefined && request.domains.length > 0) body["domains"] = request.domains;
    return this.request("POST", "/local/reflect", body);
  }

  delete(id: string, domain?: string): Promise<JsonObject> {
    // The domain is needed only when this node published the id in several domains.
    const query = domain !== undefined && domain !== "" ? `?${new URLSearchParams({ domain }).toString()}` : "";
    return this.request("DELETE", `/local/knowledge/${encodeURIComponent(id)}${query}`);
  }

  /** Sends one request; resolves with the JSON object of a 2xx answer, else throws ApiError. */
  async request(method: string, path: string, body?: unknown): Promise<JsonObject> {
    const headers: Record<string, string> = { Authorization: `Bearer ${this.token}` };
    const init: RequestInit = { method, headers, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) };
    if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response: Response;
    try {
      response = await fetch(`${this.baseUrl}${path}`, init);
    } catch (err) {
      const cause = err instanceof Error && err.cause instanceof Error ? err.cause.message : String(err);
      const outage = this.describeOutage();
      throw new ApiError(
        0,
        "daemon_unreachable",
        `the nocturne-agent API at ${this.baseUrl} did not answer (${cause})${outage ? `: ${outage}` : ""}`,
      );
    }
    const text = await response.text();
    let parsed: unknown;
    try {
      parsed = text === "" ? {} : JSON.parse(text);
    } catch {
      parsed = undefined;
    }
    if (!response.ok) {
      const error = isJsonObject(parsed) ? parsed["error"] : undefined;
      if (isJsonObject(error) && typeof error["code"] === "string") {
        const message = typeof error["message"] === "string" ? error["message"] : "";
        throw new ApiError(response.status, error["code"], message);
      }
      throw new ApiError(response.status, `http_${response.status}`, text.slice(0, 500));
    }
    if (!isJsonObject(parsed)) {
      throw new ApiError(response.status, "bad_response", `expected a JSON object from ${method} ${path}`);
    }
    return parsed;
  }
}
