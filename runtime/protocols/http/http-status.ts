/**
 * HTTP status codes: their reason phrases and preformatted status lines.
 *
 * @module
 */

/** Reason phrases of the status codes registered in RFC 9110 and a few common extensions. */
export const STATUS_REASONS: Readonly<Record<number, string>> = Object.freeze({
  100: "Continue",
  101: "Switching Protocols",
  102: "Processing",
  103: "Early Hints",
  200: "OK",
  201: "Created",
  202: "Accepted",
  203: "Non-Authoritative Information",
  204: "No Content",
  205: "Reset Content",
  206: "Partial Content",
  207: "Multi-Status",
  300: "Multiple Choices",
  301: "Moved Permanently",
  302: "Found",
  303: "See Other",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  402: "Payment Required",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  406: "Not Acceptable",
  407: "Proxy Authentication Required",
  408: "Request Timeout",
  409: "Conflict",
  410: "Gone",
  411: "Length Required",
  412: "Precondition Failed",
  413: "Content Too Large",
  414: "URI Too Long",
  415: "Unsupported Media Type",
  416: "Range Not Satisfiable",
  417: "Expectation Failed",
  421: "Misdirected Request",
  422: "Unprocessable Content",
  426: "Upgrade Required",
  428: "Precondition Required",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  451: "Unavailable For Legal Reasons",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
});

// Index = status code; filled for every registered status, formatted once at load.
const STATUS_LINES: string[] = [];
for (const [code, reason] of Object.entries(STATUS_REASONS)) {
  STATUS_LINES[Number(code)] = `HTTP/1.1 ${code} ${reason}\r\n`;
}

/**
 * The status line of an HTTP/1.1 response, CRLF included: preformatted for registered codes.
 * @param status - a status code from 100 to 999.
 * @param reason - a reason phrase to use instead of the registered one (checked by the caller).
 * @returns such as `HTTP/1.1 200 OK\r\n`.
 */
export function statusLine(status: number, reason?: string): string {
  if (reason === undefined) {
    const line = STATUS_LINES[status];
    if (line !== undefined) return line;
    return `HTTP/1.1 ${status} \r\n`;
  }
  return `HTTP/1.1 ${status} ${reason}\r\n`;
}
