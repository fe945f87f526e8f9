import Type from 'typebox';

/** RFC 9457 problem details, with our stable `code` and field `errors`. */
export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'URI naming the problem type', examples: ['https://api.example.com/docs/errors#validation_failed'] }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.String({ description: 'Stable machine-readable code; switch on this' }),
    instance: Type.Optional(Type.String({ description: 'The request path' })),
    request_id: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ pointer: Type.String(), detail: Type.String() }))),
  },
  { $id: 'Problem', title: 'Problem' },
);

export type Problem = Type.Static<typeof ProblemSchema>;

/** Problem types point at the error reference this server serves (a URI reference, resolved against the API). */
export const PROBLEM_TYPE_BASE = '/docs/errors#';

const TITLES: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  402: 'Payment Required',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  412: 'Precondition Failed',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  422: 'Unprocessable Content',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
};

export function titleOf(status: number): string {
  return TITLES[status] ?? (status >= 500 ? 'Server Error' : 'Client Error');
}

/** The error statuses every route may answer with, documented on every operation. */
export const COMMON_ERROR_STATUSES = [400, 401, 403, 404, 409, 413, 415, 422, 429, 500] as const;

/** An OpenAPI response that is a problem+json (for statuses beyond the common ones). */
export const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: { $ref: 'Problem#' } } } });
