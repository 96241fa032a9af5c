// The API client: every call carries the signed-in user's Firebase ID token; every failure
// becomes an ApiError holding the message the API gave ({"error": {code, message, requestId}}).

export class ApiError extends Error {
  constructor(status, code, message, requestId, details) {
    super(message);
    this.status = status;
    this.code = code;
    this.requestId = requestId;
    this.details = details;
  }
}

export function createApi(base, getToken) {
  const root = base.replace(/\/$/, "");

  async function headers(extra = {}) {
    const token = await getToken();
    return token ? { Authorization: `Bearer ${token}`, ...extra } : { ...extra };
  }

  async function failure(response) {
    let body = null;
    try {
      body = await response.json();
    } catch {
      /* not JSON: the status says enough */
    }
    const error = body && body.error;
    return new ApiError(
      response.status,
      (error && error.code) || `http_${response.status}`,
      (error && error.message) || `The server answered ${response.status} ${response.statusText}.`,
      (error && error.requestId) || response.headers.get("X-Request-Id"),
      error && error.details,
    );
  }

  async function call(method, path, body, query) {
    const url = new URL(root + path);
    for (const [key, value] of Object.entries(query || {})) {
      if (value !== undefined && value !== null && value !== "") url.searchParams.set(key, value);
    }
    const init = { method, headers: await headers(body === undefined ? {} : { "Content-Type": "application/json" }) };
    if (body !== undefined) init.body = JSON.stringify(body);
    let response;
    try {
      response = await fetch(url, init);
    } catch (exc) {
      throw new ApiError(0, "network", `Could not reach the server (${exc.message}).`);
    }
    if (!response.ok) throw await failure(response);
    return response.status === 204 ? null : response.json();
  }

  // A server-sent-event stream over fetch (POST, so EventSource cannot be used): calls
  // onEvent(name, data) for each event as it arrives.
  async function stream(path, body, onEvent) {
    const response = await fetch(root + path, {
      method: "POST",
      headers: await headers({ "Content-Type": "application/json", Accept: "text/event-stream" }),
      body: JSON.stringify(body),
    });
    if (!response.ok) throw await failure(response);
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buffer += value;
      let end;
      while ((end = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let name = "message";
        const data = [];
        for (const line of block.split("\n")) {
          if (line.startsWith("event:")) name = line.slice(6).trim();
          else if (line.startsWith("data:")) data.push(line.slice(5).trimStart());
        }
        if (data.length) onEvent(name, JSON.parse(data.join("\n")));
      }
    }
  }

  return {
    get: (path, query) => call("GET", path, undefined, query),
    post: (path, body = {}, query) => call("POST", path, body, query),
    put: (path, body = {}) => call("PUT", path, body),
    patch: (path, body = {}) => call("PATCH", path, body),
    del: (path, body, query) => call("DELETE", path, body, query),
    stream,
  };
}
