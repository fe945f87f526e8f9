import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import Type from 'typebox';
import type { Deps } from '../../deps.ts';
import { access } from '../../http/access.ts';
import { etagOf, ifMatchVersion, sendWithEtag } from '../../http/etag.ts';
import { problemResponse } from '../../http/problem.ts';
import { Body, Email, IdParams, Name, NoContent, Page, PageOnlyQuery, PageQuery, Timestamp, pageRequest } from '../../http/schemas.ts';
import {
  auditOf,
  completeTask,
  confirmConsent,
  createConnection,
  deleteConnection,
  getRun,
  listConnections,
  startSync,
  createContact,
  createField,
  createRule,
  createSegment,
  createTask,
  deleteField,
  deleteRule,
  deleteSegment,
  eraseContact,
  exportContact,
  getContact,
  getSegment,
  listContacts,
  listFields,
  listRules,
  listSegments,
  logActivity,
  mergeContacts,
  scoresOf,
  segmentMembers,
  signUp,
  timeline,
  unsubscribe,
  updateContact,
} from './index.ts';

const Id = Type.String({ minLength: 1, maxLength: 64, pattern: '^[a-z]+_[0-9a-z]+$' });
const Stage = Type.Union([Type.Literal('lead'), Type.Literal('customer'), Type.Literal('repeat'), Type.Literal('lapsed')]);
const ConsentStatus = Type.Union([Type.Literal('none'), Type.Literal('pending'), Type.Literal('subscribed'), Type.Literal('unsubscribed')]);
const Country = Type.String({ pattern: '^[A-Z]{2}$' });
const Tag = Type.String({ minLength: 1, maxLength: 50 });
const Nullable = <T extends Parameters<typeof Type.Union>[0][number]>(t: T) => Type.Union([t, Type.Null()]);

const ContactSchema = Type.Object(
  {
    id: Type.String(),
    email: Type.String(),
    first_name: Type.String(),
    last_name: Type.String(),
    phone: Nullable(Type.String()),
    country: Nullable(Type.String()),
    customer_id: Nullable(Type.String()),
    source: Type.String({ description: 'account, order, newsletter, api, import …' }),
    stage: Stage,
    derived_stage: Stage,
    stage_override: Nullable(Stage),
    tags: Type.Array(Type.String()),
    custom: Type.Record(Type.String(), Type.Unknown()),
    consent: Type.Object({ status: ConsentStatus, source: Nullable(Type.String()), at: Nullable(Timestamp) }),
    order_count: Type.Integer(),
    total_spent: Type.Integer(),
    first_order_at: Nullable(Timestamp),
    last_order_at: Nullable(Timestamp),
    scores: Nullable(Type.Object({ rfm: Type.String(), r: Type.Integer(), f: Type.Integer(), m: Type.Integer(), lead_score: Type.Integer(), computed_at: Timestamp })),
    version: Type.Integer(),
    created_at: Timestamp,
    updated_at: Timestamp,
  },
  { title: 'Contact' },
);
const ContactFields = {
  first_name: Type.Optional(Type.String({ maxLength: 100 })),
  last_name: Type.Optional(Type.String({ maxLength: 100 })),
  phone: Type.Optional(Nullable(Type.String({ maxLength: 30 }))),
  country: Type.Optional(Nullable(Country)),
  tags: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
  custom: Type.Optional(Type.Record(Type.String({ maxLength: 40 }), Type.Unknown(), { maxProperties: 100 })),
  stage: Type.Optional(Nullable(Stage)),
  consent: Type.Optional(Type.Object({ status: ConsentStatus, source: Type.Optional(Type.String({ maxLength: 100 })) }, { additionalProperties: false })),
};
const Filter = Type.Object(
  {
    stage: Type.Optional(Type.Array(Stage, { maxItems: 4 })),
    tags_any: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
    tags_all: Type.Optional(Type.Array(Tag, { maxItems: 50 })),
    consent: Type.Optional(Type.Array(ConsentStatus, { maxItems: 4 })),
    country: Type.Optional(Type.Array(Country, { maxItems: 250 })),
    email: Type.Optional(Type.String({ maxLength: 254 })),
    min_total_spent: Type.Optional(Type.Integer()),
    max_total_spent: Type.Optional(Type.Integer()),
    min_orders: Type.Optional(Type.Integer({ minimum: 0 })),
    max_orders: Type.Optional(Type.Integer({ minimum: 0 })),
    last_order_after: Type.Optional(Timestamp),
    last_order_before: Type.Optional(Timestamp),
    min_lead_score: Type.Optional(Type.Integer()),
    min_r: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    min_f: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    min_m: Type.Optional(Type.Integer({ minimum: 1, maximum: 5 })),
    custom: Type.Optional(
      Type.Array(
        Type.Object({ key: Type.String({ maxLength: 40 }), op: Type.Union([Type.Literal('eq'), Type.Literal('gt'), Type.Literal('lt')]), value: Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean()]) }, { additionalProperties: false }),
        { maxItems: 20 },
      ),
    ),
  },
  { additionalProperties: false, title: 'ContactFilter' },
);
const ActivitySchema = Type.Object(
  { id: Type.String(), contact_id: Type.String(), type: Type.String(), summary: Type.String(), data: Type.Record(Type.String(), Type.Unknown()), actor: Type.String(), assignee_id: Nullable(Type.String()), due_at: Nullable(Timestamp), done_at: Nullable(Timestamp), occurred_at: Timestamp },
  { title: 'Activity' },
);
const FieldSchema = Type.Object({ key: Type.String(), label: Type.String(), type: Type.String(), choices: Type.Array(Type.String()) }, { title: 'ContactField' });
const RuleSchema = Type.Object(
  { id: Type.String(), name: Type.String(), kind: Type.String(), activity_type: Nullable(Type.String()), attribute: Nullable(Type.String()), value: Nullable(Type.String()), points: Type.Integer(), half_life_days: Nullable(Type.Integer()), created_at: Timestamp },
  { title: 'ScoreRule' },
);
const SegmentSchema = Type.Object({ id: Type.String(), name: Type.String(), filter: Filter, member_count: Type.Integer(), evaluated_at: Nullable(Timestamp), created_at: Timestamp, updated_at: Timestamp }, { title: 'Segment' });
const SegmentWithCount = Type.Intersect([SegmentSchema, Type.Object({ count: Type.Integer({ description: 'Members now' }) })]);
const Loose = Type.Record(Type.String(), Type.Unknown());

/** The CRM over REST: contacts, fields, timeline, notes and tasks, scores, segments, privacy; consent links. */
export const crmRoutes: FastifyPluginAsyncTypebox<{ deps: Deps }> = async (app, { deps }) => {
  const tags = ['crm'];
  const read = access.staff('crm:read');
  const write = access.staff('crm:write');
  const contactParams = IdParams;

  app.get(
    '/api/contacts',
    {
      config: { access: read },
      schema: { tags, summary: 'Contacts, newest first; the same filters as segments', operationId: 'listContacts', querystring: Type.Object({ ...PageQuery, stage: Type.Optional(Stage), tag: Type.Optional(Tag), email: Type.Optional(Type.String({ maxLength: 254 })), consent: Type.Optional(ConsentStatus) }, { additionalProperties: false }), response: { 200: Page(ContactSchema, 'Contact') } },
    },
    async (req) => {
      const q = req.query;
      return listContacts(deps.ctx(req), { stage: q.stage ? [q.stage] : undefined, tags_any: q.tag ? [q.tag.toLowerCase()] : undefined, email: q.email, consent: q.consent ? [q.consent] : undefined }, pageRequest(q));
    },
  );
  app.post(
    '/api/contacts',
    { config: { access: write }, schema: { tags, summary: 'Add a contact (a lead); one per email', operationId: 'createContact', body: Body({ email: Email, ...ContactFields }, 'ContactCreate', { email: 'lena@example.com', first_name: 'Lena', tags: ['trade fair'], consent: { status: 'subscribed', source: 'trade fair form' } }), response: { 201: ContactSchema } } },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createContact(ctx, req.body))),
  );
  app.get('/api/contacts/:id', { config: { access: read }, schema: { tags, summary: 'Read a contact (ETag)', operationId: 'getContact', params: contactParams, response: { 200: ContactSchema } } }, async (req, reply) => {
    const c = await getContact(deps.ctx(req), req.params.id);
    return sendWithEtag(req, reply, etagOf(c.id, c.version), c);
  });
  app.patch(
    '/api/contacts/:id',
    {
      config: { access: write },
      schema: { tags, summary: 'Change a contact (If-Match with its ETag); stage sets an override, null returns to the derived one', operationId: 'updateContact', params: contactParams, body: Body({ email: Type.Optional(Email), ...ContactFields }, 'ContactUpdate'), response: { 200: ContactSchema, 412: problemResponse('The contact changed since it was read') } },
    },
    async (req, reply) => {
      const c = await deps.tx(req, (ctx) => updateContact(ctx, req.params.id, req.body, ifMatchVersion(req, req.params.id)));
      return sendWithEtag(req, reply, etagOf(c.id, c.version), c);
    },
  );
  app.post(
    '/api/contacts/:id/merge',
    { config: { access: write }, schema: { tags, summary: 'Merge another contact into this one (audited)', operationId: 'mergeContacts', params: contactParams, body: Body({ contact_id: Id }, 'ContactMerge'), response: { 200: ContactSchema } } },
    async (req) => deps.tx(req, (ctx) => mergeContacts(ctx, req.params.id, req.body.contact_id)),
  );
  app.get(
    '/api/contacts/:id/timeline',
    {
      config: { access: read },
      schema: { tags, summary: 'What happened with a contact, newest first (orders, refunds, emails, chat, notes, calls, tasks)', operationId: 'contactTimeline', params: contactParams, querystring: Type.Object({ ...PageQuery, type: Type.Optional(Type.String({ maxLength: 200, description: 'Comma-separated types' })) }, { additionalProperties: false }), response: { 200: Page(ActivitySchema, 'Activity') } },
    },
    async (req) => timeline(deps.ctx(req), req.params.id, { ...pageRequest(req.query), types: req.query.type?.split(',').map((t) => t.trim()).filter(Boolean) }),
  );
  app.post(
    '/api/contacts/:id/notes',
    { config: { access: write }, schema: { tags, summary: 'Log a note or a call', operationId: 'logContactActivity', params: contactParams, body: Body({ type: Type.Optional(Type.Union([Type.Literal('note'), Type.Literal('call')])), body: Type.String({ minLength: 1, maxLength: 10_000 }), occurred_at: Type.Optional(Timestamp) }, 'NoteCreate'), response: { 201: ActivitySchema } } },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => logActivity(ctx, req.params.id, { type: req.body.type ?? 'note', body: req.body.body, occurred_at: req.body.occurred_at }))),
  );
  app.post(
    '/api/contacts/:id/tasks',
    { config: { access: write }, schema: { tags, summary: 'A task for a staff user, due at a time (reminded when due)', operationId: 'createContactTask', params: contactParams, body: Body({ title: Name(200), assignee_id: Id, due_at: Timestamp }, 'TaskCreate'), response: { 201: ActivitySchema } } },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createTask(ctx, req.params.id, req.body))),
  );
  app.patch(
    '/api/contacts/:id/tasks/:taskId',
    { config: { access: write }, schema: { tags, summary: 'Mark a task done (or open again)', operationId: 'updateContactTask', params: Type.Object({ id: Id, taskId: Id }, { additionalProperties: false }), body: Body({ done: Type.Boolean() }, 'TaskUpdate'), response: { 200: ActivitySchema } } },
    async (req) => deps.tx(req, (ctx) => completeTask(ctx, req.params.id, req.params.taskId, req.body.done)),
  );
  app.get('/api/contacts/:id/scores', { config: { access: read }, schema: { tags, summary: 'RFM and lead score, with their explanation and history', operationId: 'contactScores', params: contactParams, response: { 200: Loose } } }, async (req) =>
    scoresOf(deps.ctx(req), req.params.id),
  );
  app.get('/api/contacts/:id/audit', { config: { access: read }, schema: { tags, summary: 'Merges, exports and erasures of a contact', operationId: 'contactAudit', params: contactParams, response: { 200: Type.Object({ data: Type.Array(Loose) }) } } }, async (req) => ({
    data: await auditOf(deps.ctx(req), req.params.id),
  }));
  app.get('/api/contacts/:id/export', { config: { access: read }, schema: { tags, summary: 'Everything held about a contact, as JSON (audited)', operationId: 'exportContact', params: contactParams, response: { 200: Loose } } }, async (req) =>
    deps.tx(req, (ctx) => exportContact(ctx, req.params.id)),
  );
  app.post(
    '/api/contacts/:id/erase',
    { config: { access: write }, schema: { tags, summary: 'Erase a contact’s personal data everywhere; orders keep their amounts (audited)', operationId: 'eraseContact', params: contactParams, response: { 200: Loose } } },
    async (req) => deps.tx(req, (ctx) => eraseContact(ctx, req.params.id)),
  );

  // --- fields, rules, segments
  app.get('/api/contact-fields', { config: { access: read }, schema: { tags, summary: 'The shop’s own contact fields', operationId: 'listContactFields', response: { 200: Type.Object({ data: Type.Array(FieldSchema) }) } } }, async (req) => ({ data: await listFields(deps.ctx(req)) }));
  app.post(
    '/api/contact-fields',
    {
      config: { access: write },
      schema: { tags, summary: 'Define a contact field (text, number, date, boolean, choice)', operationId: 'createContactField', body: Body({ key: Type.String({ maxLength: 40 }), label: Name(100), type: Type.Union(['text', 'number', 'date', 'boolean', 'choice'].map((x) => Type.Literal(x))), choices: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 100 }), { maxItems: 100 })) }, 'ContactFieldCreate'), response: { 201: FieldSchema } },
    },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createField(ctx, req.body as never))),
  );
  app.delete('/api/contact-fields/:key', { config: { access: write }, schema: { tags, summary: 'Remove a field definition', operationId: 'deleteContactField', params: Type.Object({ key: Type.String({ maxLength: 40 }) }), response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteField(ctx, req.params.key));
    return reply.code(204).send(null);
  });
  app.get('/api/score-rules', { config: { access: read }, schema: { tags, summary: 'Lead-score rules', operationId: 'listScoreRules', response: { 200: Type.Object({ data: Type.Array(RuleSchema) }) } } }, async (req) => ({ data: await listRules(deps.ctx(req)) }));
  app.post(
    '/api/score-rules',
    {
      config: { access: write },
      schema: {
        tags,
        summary: 'A lead-score rule: an activity (with decay) or an attribute gives points',
        operationId: 'createScoreRule',
        body: Body({ name: Name(100), kind: Type.Union([Type.Literal('activity'), Type.Literal('attribute')]), activity_type: Type.Optional(Type.String({ maxLength: 50 })), attribute: Type.Optional(Type.String({ maxLength: 50 })), value: Type.Optional(Type.String({ maxLength: 200 })), points: Type.Integer({ minimum: -1000, maximum: 1000 }), half_life_days: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })) }, 'ScoreRuleCreate'),
        response: { 201: RuleSchema },
      },
    },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createRule(ctx, req.body))),
  );
  app.delete('/api/score-rules/:id', { config: { access: write }, schema: { tags, summary: 'Remove a rule', operationId: 'deleteScoreRule', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteRule(ctx, req.params.id));
    return reply.code(204).send(null);
  });
  app.get('/api/segments', { config: { access: read }, schema: { tags, summary: 'Saved contact filters', operationId: 'listSegments', querystring: PageOnlyQuery, response: { 200: Page(SegmentSchema, 'Segment') } } }, async (req) =>
    listSegments(deps.ctx(req), pageRequest(req.query)),
  );
  app.post('/api/segments', { config: { access: write }, schema: { tags, summary: 'Save a filter as a segment', operationId: 'createSegment', body: Body({ name: Name(100), filter: Filter }, 'SegmentCreate'), response: { 201: SegmentWithCount } } }, async (req, reply) =>
    reply.code(201).send(await deps.tx(req, (ctx) => createSegment(ctx, req.body))),
  );
  app.get('/api/segments/:id', { config: { access: read }, schema: { tags, summary: 'A segment with its member count now', operationId: 'getSegment', params: IdParams, response: { 200: SegmentWithCount } } }, async (req) => getSegment(deps.ctx(req), req.params.id));
  app.get('/api/segments/:id/members', { config: { access: read }, schema: { tags, summary: 'The contacts a segment matches now', operationId: 'segmentMembers', params: IdParams, querystring: PageOnlyQuery, response: { 200: Page(ContactSchema, 'Contact') } } }, async (req) =>
    segmentMembers(deps.ctx(req), req.params.id, pageRequest(req.query)),
  );
  app.delete('/api/segments/:id', { config: { access: write }, schema: { tags, summary: 'Remove a segment', operationId: 'deleteSegment', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteSegment(ctx, req.params.id));
    return reply.code(204).send(null);
  });

  // --- marketing sync
  const ConnectionSchema = Type.Object({ id: Type.String(), kind: Type.String(), name: Type.String(), config: Loose, last_unsubscribe_sync_at: Nullable(Timestamp), created_at: Timestamp, secret: Type.Optional(Type.String({ description: 'Webhook connections: the signing secret, shown once' })) }, { title: 'MarketingConnection' });
  const RunSchema = Type.Object({ id: Type.String(), connection_id: Type.String(), segment_id: Type.String(), status: Type.String(), report: Loose, error: Nullable(Type.String()), created_at: Timestamp, finished_at: Nullable(Timestamp) }, { title: 'SyncRun' });
  app.get('/api/marketing/connections', { config: { access: read }, schema: { tags, summary: 'Marketing platforms the shop syncs to', operationId: 'listMarketingConnections', response: { 200: Type.Object({ data: Type.Array(ConnectionSchema) }) } } }, async (req) => ({
    data: await listConnections(deps.ctx(req)),
  }));
  app.post(
    '/api/marketing/connections',
    {
      config: { access: write, idempotent: false },
      schema: {
        tags,
        summary: 'Connect Mailchimp (api_key, list_id) or a signed webhook (url)',
        operationId: 'createMarketingConnection',
        body: Body({ kind: Type.Union([Type.Literal('mailchimp'), Type.Literal('webhook')]), name: Name(100), api_key: Type.Optional(Type.String({ maxLength: 200 })), list_id: Type.Optional(Type.String({ maxLength: 100 })), base_url: Type.Optional(Type.String({ maxLength: 300 })), url: Type.Optional(Type.String({ maxLength: 2000 })) }, 'MarketingConnectionCreate'),
        response: { 201: ConnectionSchema },
      },
    },
    async (req, reply) => reply.code(201).send(await deps.tx(req, (ctx) => createConnection(ctx, req.body, deps.config.webhooksAllowPrivate))),
  );
  app.delete('/api/marketing/connections/:id', { config: { access: write }, schema: { tags, summary: 'Remove a connection', operationId: 'deleteMarketingConnection', params: IdParams, response: { 204: NoContent } } }, async (req, reply) => {
    await deps.tx(req, (ctx) => deleteConnection(ctx, req.params.id));
    return reply.code(204).send(null);
  });
  app.post(
    '/api/marketing/connections/:id/sync',
    { config: { access: write }, schema: { tags, summary: 'Send a segment’s consented members (a job; follow the run)', operationId: 'startMarketingSync', params: IdParams, body: Body({ segment_id: Id }, 'SyncStart'), response: { 202: RunSchema } } },
    async (req, reply) => reply.code(202).send(await deps.tx(req, (ctx) => startSync(ctx, req.params.id, req.body.segment_id))),
  );
  app.get('/api/marketing/runs/:id', { config: { access: read }, schema: { tags, summary: 'A sync run and its report', operationId: 'getMarketingRun', params: IdParams, response: { 200: RunSchema } } }, async (req) => getRun(deps.ctx(req), req.params.id));

  // --- the storefront's newsletter sign-up
  app.post(
    '/api/newsletter',
    {
      config: { access: access.shopper() },
      schema: { tags, summary: 'Newsletter sign-up from the storefront (double opt-in by default: a confirmation email)', operationId: 'newsletterSignUp', body: Body({ email: Email, first_name: Type.Optional(Type.String({ maxLength: 100 })), double_opt_in: Type.Optional(Type.Boolean({ default: true })) }, 'NewsletterSignUp'), response: { 202: Type.Object({ consent: ConsentStatus }) } },
    },
    async (req, reply) => {
      const r = await deps.tx(req, (ctx) => signUp(ctx, { email: req.body.email, first_name: req.body.first_name, double_opt_in: req.body.double_opt_in ?? true }));
      // Not the contact id: a storefront learns nothing about who else is known.
      return reply.code(202).send({ consent: r.consent });
    },
  );

  // --- consent links (no credential: the token is the proof)
  const Token = Type.Object({ token: Type.String({ minLength: 10, maxLength: 300 }) }, { additionalProperties: false });
  app.post('/api/consent/unsubscribe', { config: { access: access.public() }, schema: { tags, summary: 'One-click unsubscribe (RFC 8058): the token from the email’s link', operationId: 'unsubscribe', querystring: Token, response: { 200: Type.Object({ unsubscribed: Type.Boolean() }) } } }, async (req) => {
    await unsubscribe(deps.db, deps.clock, deps.consentSecret, req.query.token);
    return { unsubscribed: true };
  });
  // The confirmation link is clicked from an email: GET as well as POST.
  for (const method of ['POST', 'GET'] as const) {
    app.route({
      method,
      url: '/api/consent/confirm',
      config: { access: access.public() },
      schema: { tags, summary: 'Double opt-in: confirm a pending subscription with the emailed token', operationId: method === 'GET' ? 'confirmConsentLink' : 'confirmConsent', querystring: Token, response: { 200: Type.Object({ subscribed: Type.Boolean() }) } },
      handler: async (req) => {
        await confirmConsent(deps.db, deps.clock, deps.consentSecret, (req.query as { token: string }).token);
        return { subscribed: true };
      },
    });
  }
};
