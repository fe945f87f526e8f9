import Type, { type TSchema } from 'typebox';
import { DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE } from '../lib/pagination.ts';

/** Query of every list: cursor pagination with a capped page size. */
export const PageQuery = {
  limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: DEFAULT_PAGE_SIZE, description: `Page size, at most ${MAX_PAGE_SIZE}` })),
  cursor: Type.Optional(Type.String({ maxLength: 200, description: 'next_cursor of the previous page' })),
};

/** The query of a list that takes nothing but the page. */
export const PageOnlyQuery = Type.Object({ ...PageQuery }, { additionalProperties: false });

/** The page a list query asks for (the default size when none is given). */
export const pageRequest = (q: { limit?: number | undefined; cursor?: string | undefined }) => ({ limit: q.limit ?? DEFAULT_PAGE_SIZE, cursor: q.cursor });

export const Page = <T extends TSchema>(item: T, name: string) =>
  Type.Object(
    {
      data: Type.Array(item),
      has_more: Type.Boolean(),
      next_cursor: Type.Union([Type.String(), Type.Null()]),
    },
    { title: `${name}Page` },
  );

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]+_[0-9a-z]+$' }) }, { additionalProperties: false });

export const Email = Type.String({ format: 'email', maxLength: 254 });
export const Password = Type.String({ minLength: 1, maxLength: 256 });
export const Name = (max = 200) => Type.String({ minLength: 1, maxLength: max, pattern: '\\S' });
export const Timestamp = Type.String({ format: 'date-time' });
export const NullableTimestamp = Type.Union([Timestamp, Type.Null()]);

/** Bodies reject unknown fields. */
export const Body = <T extends Record<string, TSchema>>(props: T, title?: string, example?: Record<string, unknown>) =>
  Type.Object(props, { additionalProperties: false, ...(title ? { title } : {}), ...(example ? { examples: [example] } : {}) });

export const NoContent = Type.Null({ description: 'No content' });

/** Access and refresh token: the answer of every login (staff and customers) and of a refresh. */
export const TokenPairSchema = Type.Object(
  {
    token_type: Type.Literal('Bearer'),
    access_token: Type.String({ description: 'JWT (EdDSA), send as Authorization: Bearer' }),
    expires_in: Type.Integer({ description: 'Seconds the access token is valid' }),
    refresh_token: Type.String({ description: 'Opaque, single use: each refresh returns a new one' }),
    refresh_expires_at: Timestamp,
  },
  { title: 'TokenPair' },
);
