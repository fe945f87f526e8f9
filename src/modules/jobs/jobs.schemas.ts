import Type from 'typebox';
import { Timestamp } from '../../http/schemas.ts';

/** A background job as the API shows it. */
export const JobStatusSchema = Type.Union([Type.Literal('queued'), Type.Literal('running'), Type.Literal('succeeded'), Type.Literal('dead'), Type.Literal('cancelled')]);
export const JobSchema = Type.Object(
  {
    id: Type.String(),
    tenant_id: Type.Union([Type.String(), Type.Null()], { description: 'null for the deployment’s own jobs' }),
    queue: Type.String(),
    type: Type.String(),
    payload: Type.Record(Type.String(), Type.Unknown()),
    status: JobStatusSchema,
    attempts: Type.Integer(),
    max_attempts: Type.Integer(),
    run_at: Timestamp,
    last_error: Type.Union([Type.String(), Type.Null()]),
    result: Type.Unknown(),
    progress: Type.Union([Type.Integer(), Type.Null()], { description: 'Percent done, for long jobs' }),
    created_at: Timestamp,
    updated_at: Timestamp,
    finished_at: Type.Union([Timestamp, Type.Null()]),
  },
  { title: 'Job' },
);
