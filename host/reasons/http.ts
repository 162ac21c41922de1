/**
 * The provider's HTTP API: 400 `{error: <reason>, message}` for a bad query, 401 for a request to
 * /api/* or /metrics without a reader's token (host/provider/http-api.ts, host/provider/api-tokens.ts).
 */
export const httpReasons = {
  'unknown-parameter': 'a query parameter the endpoint does not take',
  'bad-limit': 'a limit that is not an integer in 1..the maximum list length',
  'bad-time': 'a time that is neither Unix seconds nor an ISO 8601 date-time with a zone',
  'bad-range': 'a series range whose from is after its to',
  'range-too-large': 'a series range of more slots than one request may ask for',
  'token-required': 'a request without an `Authorization: Bearer <token>` header; 401',
  'token-refused': 'a request whose bearer token is no reader’s; 401',
  'bad-api-tokens': 'an API tokens file that is not one (scheme, version, readers with SHA-256 digests)',
} as const;
