import type { Generated } from 'kysely';

/**
 * Table types for Kysely. Conventions (docs/architecture.md):
 * - tenant-owned tables have `tenant_id` and a primary key `(tenant_id, id)`; foreign keys include `tenant_id`;
 * - timestamps are ISO 8601 UTC strings in the API and in code (TEXT on SQLite, timestamptz on PostgreSQL,
 *   read back as ISO strings);
 * - no booleans (SQLite has none): states are text, flags are nullable timestamps;
 * - JSON is stored as text and parsed in the repository that owns it.
 */
export interface TenantsTable {
  id: string;
  name: string;
  slug: string;
  status: 'active' | 'suspended';
  currency: string;
  timezone: string;
  suspended_at: string | null;
  suspended_reason: string | null;
  /** Whether catalogue prices include tax (`inclusive`) or tax is added on top (`exclusive`). */
  tax_mode: 'exclusive' | 'inclusive';
  /** Bumped by every change (0009): the shop's ETag. */
  version: number;
  /** Hours a cart with an email waits before its one reminder; 0: no reminders (0011). */
  cart_reminder_hours?: number;
  /** Where the reminder's link back goes: `<storefront_url>?cart=<id>` (0011). */
  storefront_url?: string | null;
  created_at: string;
  updated_at: string;
}

export interface RolesTable {
  tenant_id: string;
  id: string;
  name: string;
  /** `owner`, `admin` or `clerk` for the built-in roles (their permissions come from code); null for custom roles. */
  system_key: string | null;
  description: string;
  /** JSON array of permission names (custom roles only). */
  permissions: string;
  created_at: string;
  updated_at: string;
}

export interface UsersTable {
  tenant_id: string;
  id: string;
  email: string;
  name: string;
  password_hash: string;
  role_id: string;
  status: 'active' | 'disabled';
  last_login_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface CustomersTable {
  tenant_id: string;
  id: string;
  email: string;
  first_name: string;
  last_name: string;
  password_hash: string | null;
  status: 'active' | 'disabled';
  /** Bumped by every change (0009): the customer's ETag. */
  version: number;
  created_at: string;
  updated_at: string;
}

export interface SessionsTable {
  tenant_id: string;
  id: string;
  subject_type: 'user' | 'customer';
  subject_id: string;
  created_at: string;
  expires_at: string;
  revoked_at: string | null;
  revoked_reason: string | null;
}

export interface RefreshTokensTable {
  tenant_id: string;
  id: string;
  session_id: string;
  token_hash: string;
  created_at: string;
  expires_at: string;
  used_at: string | null;
}

export interface ApiKeysTable {
  tenant_id: string;
  id: string;
  type: 'secret' | 'publishable';
  name: string;
  token_hash: string;
  /** The whole key for publishable keys (they are public); null for secret keys, which are shown once. */
  token: string | null;
  /** Last four characters, to tell keys apart in lists. */
  last4: string;
  /** JSON array of permission names (secret keys). */
  permissions: string;
  created_by: string | null;
  created_at: string;
  revoked_at: string | null;
}

export interface IdempotencyKeysTable {
  /** Empty string for requests that have no tenant (signup, platform). */
  tenant_id: string;
  /** Who sent it: `usr_…`, `key_…`, `cus_…`, `platform` or `ip:<address>`. */
  principal: string;
  key: string;
  method: string;
  route: string;
  body_hash: string;
  state: 'in_flight' | 'done';
  response_status: number | null;
  response_headers: string | null;
  response_body: string | null;
  created_at: string;
  expires_at: string;
  /** How far the request got, written in the same transaction as that business change (0009). */
  recovery_point: string | null;
  /** The object the request made (an order id), to resume or rebuild the answer from. */
  resource_id: string | null;
  /** The node (process) working on the request, until `locked_until`; null once released. */
  locked_by: string | null;
  locked_until: string | null;
}

// --- commerce (0002) -----------------------------------------------------------------------------

export interface CategoriesTable {
  tenant_id: string;
  id: string;
  parent_id: string | null;
  name: string;
  handle: string;
  position: number;
  created_at: string;
  updated_at: string;
}

export interface ProductsTable {
  tenant_id: string;
  id: string;
  title: string;
  description: string;
  handle: string;
  status: 'draft' | 'active' | 'archived';
  category_id: string | null;
  /** JSON array of image URLs. */
  images: string;
  /** JSON object of string attributes. */
  attributes: string;
  /** JSON array of { name, values[] }. */
  options: string;
  /** Every variant's SKU, space-separated: searchable text kept in step with the variants. */
  skus: string;
  /** Cheapest and dearest variant price, kept in step with the variants (for price filters and sorting). */
  min_price: number;
  max_price: number;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface VariantsTable {
  tenant_id: string;
  id: string;
  product_id: string;
  sku: string;
  title: string;
  price: number;
  compare_at_price: number | null;
  weight_grams: number;
  /** JSON object option name → value. */
  option_values: string;
  low_stock_threshold: number;
  position: number;
  created_at: string;
  updated_at: string;
}

export interface CollectionsTable {
  tenant_id: string;
  id: string;
  title: string;
  handle: string;
  description: string;
  created_at: string;
  updated_at: string;
}

export interface CollectionProductsTable {
  tenant_id: string;
  collection_id: string;
  product_id: string;
  position: number;
}

export interface ProductsFtsTable {
  rowid: Generated<number>;
  tenant_id: string;
  product_id: string;
  title: string;
  description: string;
  skus: string;
}

export interface LocationsTable {
  tenant_id: string;
  id: string;
  name: string;
  is_default: number;
  created_at: string;
}

export interface StockLevelsTable {
  tenant_id: string;
  variant_id: string;
  location_id: string;
  available: number;
  updated_at: string;
}

export type LedgerReason = 'sale' | 'return' | 'adjustment' | 'count' | 'release';

export interface InventoryLedgerTable {
  tenant_id: string;
  id: string;
  variant_id: string;
  location_id: string;
  delta: number;
  balance_after: number;
  reason: LedgerReason;
  actor: string;
  reference: string | null;
  note: string | null;
  created_at: string;
}

export interface ReservationsTable {
  tenant_id: string;
  id: string;
  order_id: string;
  status: 'held' | 'converted' | 'released';
  expires_at: string;
  created_at: string;
  updated_at: string;
}

export interface TaxRatesTable {
  tenant_id: string;
  id: string;
  country: string;
  /** '' for the whole country. */
  region: string;
  name: string;
  /** Basis points: 1900 = 19 %. */
  rate_bp: number;
  created_at: string;
}

export interface ShippingMethodsTable {
  tenant_id: string;
  id: string;
  name: string;
  rate_type: 'flat' | 'weight';
  amount: number;
  /** JSON array of { up_to_grams, amount }, ascending. */
  weight_tiers: string;
  free_over: number | null;
  /** JSON array of ISO country codes; [] for everywhere. */
  countries: string;
  status: 'active' | 'inactive';
  created_at: string;
  updated_at: string;
}

export interface DiscountsTable {
  tenant_id: string;
  id: string;
  code: string;
  kind: 'percentage' | 'fixed_amount' | 'free_shipping';
  /** Basis points for percentage, minor units for fixed_amount, 0 for free_shipping. */
  value: number;
  min_subtotal: number;
  starts_at: string | null;
  ends_at: string | null;
  usage_limit: number | null;
  per_customer_limit: number | null;
  times_used: number;
  status: 'active' | 'disabled';
  version: number;
  created_at: string;
  updated_at: string;
}

export interface DiscountUsagesTable {
  tenant_id: string;
  discount_id: string;
  customer_key: string;
  count: number;
}

export interface CartsTable {
  tenant_id: string;
  id: string;
  customer_id: string | null;
  status: 'open' | 'ordered' | 'merged';
  email: string | null;
  discount_code: string | null;
  shipping_method_id: string | null;
  /** JSON address. */
  shipping_address: string | null;
  billing_address: string | null;
  version: number;
  created_at: string;
  updated_at: string;
  /** When the abandoned-cart reminder went out (0011). */
  reminded_at?: string | null;
}

export interface CartLinesTable {
  tenant_id: string;
  id: string;
  cart_id: string;
  variant_id: string;
  quantity: number;
  created_at: string;
}

export type OrderStatus = 'pending_payment' | 'paid' | 'partially_fulfilled' | 'fulfilled' | 'completed' | 'cancelled' | 'partially_refunded' | 'refunded';

export interface OrderCountersTable {
  tenant_id: string;
  last_number: number;
}

export interface OrdersTable {
  tenant_id: string;
  id: string;
  number: number;
  status: OrderStatus;
  customer_id: string | null;
  email: string | null;
  cart_id: string | null;
  currency: string;
  tax_mode: 'exclusive' | 'inclusive';
  subtotal: number;
  discount_total: number;
  shipping_total: number;
  tax_total: number;
  total: number;
  amount_paid: number;
  amount_refunded: number;
  discount_id: string | null;
  discount_code: string | null;
  shipping_method_id: string | null;
  shipping_method_name: string | null;
  shipping_address: string | null;
  billing_address: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface OrderLinesTable {
  tenant_id: string;
  id: string;
  order_id: string;
  variant_id: string;
  product_id: string;
  sku: string;
  title: string;
  quantity: number;
  unit_price: number;
  subtotal: number;
  discount: number;
  tax: number;
  total: number;
  fulfilled_quantity: number;
  position: number;
}

export interface OrderEventsTable {
  tenant_id: string;
  id: string;
  order_id: string;
  type: string;
  from_status: string | null;
  to_status: string | null;
  data: string;
  actor: string;
  created_at: string;
}

export interface FulfillmentsTable {
  tenant_id: string;
  id: string;
  order_id: string;
  carrier: string;
  tracking_number: string;
  /** JSON array of { line_id, quantity }. */
  lines: string;
  created_at: string;
}

export type PaymentStatus = 'pending' | 'requires_action' | 'authorized' | 'captured' | 'failed' | 'cancelled';

export interface PaymentsTable {
  tenant_id: string;
  id: string;
  order_id: string;
  provider: 'manual' | 'test' | 'stripe';
  status: PaymentStatus;
  amount: number;
  amount_captured: number;
  amount_refunded: number;
  currency: string;
  provider_ref: string | null;
  client_secret: string | null;
  failure_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface RefundsTable {
  tenant_id: string;
  id: string;
  order_id: string;
  payment_id: string;
  amount: number;
  reason: string;
  provider_ref: string | null;
  status: RefundStatus;
  created_at: string;
}

export type RefundStatus = 'pending' | 'succeeded' | 'failed';

export type PaymentActionKind = 'checkout' | 'capture' | 'cancel' | 'refund' | 'void';

/** The intent of a call to a payment provider, recorded before the call, settled after it (0009). */
export interface PaymentActionsTable {
  tenant_id: string;
  id: string;
  order_id: string;
  kind: PaymentActionKind;
  status: 'pending' | 'succeeded' | 'failed';
  /** JSON: what the action is to do (payments, refunds with their ids, restock, reason …). */
  input: string;
  /** JSON: what the provider answered. */
  result: string | null;
  /** JSON: { kind, code, detail } of a failed action, replayed to a retried request. */
  error: string | null;
  attempts: number;
  /** The reconciliation job takes a pending action only after this (a lease for the request working on it). */
  next_attempt_at: string;
  created_at: string;
  updated_at: string;
}

export interface NodesTable {
  id: string;
  kind: string;
  started_at: string;
  heartbeat_at: string;
}

export interface ProcessedWebhooksTable {
  provider: string;
  event_id: string;
  tenant_id: string;
  created_at: string;
}

export interface OutboxEventsTable {
  tenant_id: string;
  id: string;
  type: string;
  version: number;
  aggregate_id: string;
  /** JSON payload. */
  payload: string;
  created_at: string;
  published_at: string | null;
  /** The request that wrote it, and its trace (0014). */
  request_id?: string | null;
  traceparent?: string | null;
}

export interface ChangeVersionsTable {
  tenant_id: string;
  topic: string;
  version: number;
}

export type JobStatus = 'queued' | 'running' | 'succeeded' | 'dead' | 'cancelled';

export interface JobsTable {
  /** '' for the deployment's own jobs. */
  tenant_id: string;
  id: string;
  queue: string;
  type: string;
  /** JSON */
  payload: string;
  status: JobStatus;
  attempts: number;
  max_attempts: number;
  run_at: string;
  locked_by: string | null;
  lease_until: string | null;
  last_error: string | null;
  /** JSON */
  result: string | null;
  progress: number | null;
  dedupe_key: string | null;
  /** Jobs with the same key in a shop run one at a time, in the order they were enqueued (0009). */
  ordering_key: string | null;
  created_at: string;
  updated_at: string;
  finished_at: string | null;
  /** The request (or event) that caused it, and its trace (0014). */
  request_id?: string | null;
  traceparent?: string | null;
}

export interface ScheduleSlotsTable {
  tenant_id: string;
  schedule: string;
  slot_at: string;
  job_id: string;
  claimed_by: string;
  created_at: string;
}

export interface WebhookEndpointsTable {
  tenant_id: string;
  id: string;
  url: string;
  description: string;
  /** JSON array of event types; ["*"] for all. */
  events: string;
  /** whsec_… — kept retrievable: it signs every delivery. */
  secret: string;
  status: 'enabled' | 'disabled';
  disabled_reason: string | null;
  created_at: string;
  updated_at: string;
}

export interface WebhookDeliveriesTable {
  tenant_id: string;
  id: string;
  endpoint_id: string;
  event_id: string;
  event_type: string;
  /** The JSON body sent. */
  payload: string;
  status: 'pending' | 'succeeded' | 'failed';
  attempts: number;
  last_status_code: number | null;
  last_error: string | null;
  created_at: string;
  updated_at: string;
  delivered_at: string | null;
}

export interface WebhookAttemptsTable {
  tenant_id: string;
  id: string;
  delivery_id: string;
  status_code: number | null;
  duration_ms: number;
  error: string | null;
  created_at: string;
}

export interface EmailsTable {
  tenant_id: string;
  id: string;
  key: string;
  template: string;
  to: string;
  subject: string;
  status: 'sending' | 'sent';
  message_id: string | null;
  created_at: string;
  sent_at: string | null;
}

export interface PasswordResetsTable {
  tenant_id: string;
  id: string;
  subject_type: 'user' | 'customer';
  subject_id: string;
  token_hash: string;
  expires_at: string;
  used_at: string | null;
  created_at: string;
}

export interface DailyReportsTable {
  tenant_id: string;
  /** Local date in the shop's time zone, YYYY-MM-DD. */
  date: string;
  /** JSON of the day's sales figures. */
  data: string;
  computed_at: string;
}

export interface ExportFilesTable {
  tenant_id: string;
  job_id: string;
  kind: string;
  filename: string;
  content: string;
  rows: number;
  created_at: string;
}

/** A CSV export's rows, one batch a chunk, in order (0009). */
export interface ExportChunksTable {
  tenant_id: string;
  job_id: string;
  seq: number;
  content: string;
}

export interface ShopSchedulesTable {
  tenant_id: string;
  id: string;
  name: string;
  cron: string;
  timezone: string;
  /** What runs: export_orders, export_customers, export_products. */
  task: string;
  status: 'active' | 'paused';
  created_at: string;
  updated_at: string;
  /** The user or API key that made it: each slot runs only while it still has the task's permissions. */
  created_by: string | null;
  /** Why the schedule paused itself (its creator lost a permission the task needs). */
  paused_reason: string | null;
}

export interface RealtimeChannelsTable {
  tenant_id: string;
  /** e.g. `orders`, `inventory`, `products/<id>/availability`, `orders/<id>/messages`, `customers/<id>/orders`. */
  channel: string;
  /** Names this history: a client that holds another epoch refetches instead of resuming. */
  epoch: string;
  /** The position of the channel's last message (0: none yet). */
  position: number;
  updated_at: string;
}

export interface RealtimeMessagesTable {
  tenant_id: string;
  channel: string;
  position: number;
  event_id: string;
  type: string;
  /** JSON. */
  data: string;
  created_at: string;
}

export interface ConversationsTable {
  tenant_id: string;
  order_id: string;
  customer_id: string | null;
  message_count: number;
  last_message_id: string;
  last_message_at: string;
  last_author: 'customer' | 'staff';
  staff_read_id: string | null;
  customer_read_id: string | null;
  unread_for_staff: number;
  unread_for_customer: number;
}

export interface OrderMessagesTable {
  tenant_id: string;
  id: string;
  order_id: string;
  author_type: 'customer' | 'staff';
  /** The customer, user or API key that wrote it. */
  author_id: string;
  body: string;
  created_at: string;
}

export interface DashboardDaysTable {
  tenant_id: string;
  /** The shop's local date. */
  day: string;
  currency: string;
  orders: number;
  gross_sales: number;
  refunds: number;
  updated_at: string;
}

export interface DashboardProductsTable {
  tenant_id: string;
  day: string;
  product_id: string;
  title: string;
  quantity: number;
  revenue: number;
}

export interface DashboardMinutesTable {
  tenant_id: string;
  /** UTC, `YYYY-MM-DDTHH:MM`. */
  minute: string;
  orders: number;
  sales: number;
}

export type ContactStage = 'lead' | 'customer' | 'repeat' | 'lapsed';
export type Consent = 'none' | 'pending' | 'subscribed' | 'unsubscribed';

export interface ContactsTable {
  tenant_id: string;
  id: string;
  /** Lower case; one contact per email per shop. */
  email: string;
  first_name: string;
  last_name: string;
  phone: string | null;
  country: string | null;
  customer_id: string | null;
  /** How the shop first knew the person: account, order, newsletter, cart, import, api. */
  source: string;
  /** Derived from orders (lead → customer → repeat; lapsed after 180 days without one). */
  stage: ContactStage;
  /** Set by staff: wins over the derived stage. */
  stage_override: ContactStage | null;
  /** JSON array of strings. */
  tags: string;
  /** JSON object of the shop's own fields. */
  custom: string;
  consent: Consent;
  consent_source: string | null;
  consent_at: string | null;
  order_count: number;
  /** Paid minus refunded, in the shop's currency. */
  total_spent: number;
  first_order_at: string | null;
  last_order_at: string | null;
  erased_at: string | null;
  version: number;
  created_at: string;
  updated_at: string;
}

export interface ContactFieldsTable {
  tenant_id: string;
  key: string;
  label: string;
  type: 'text' | 'number' | 'date' | 'boolean' | 'choice';
  /** JSON array (choice fields). */
  choices: string;
  created_at: string;
}

export interface ContactActivitiesTable {
  tenant_id: string;
  id: string;
  contact_id: string;
  /** order.created, order.paid, order.refunded, order.cancelled, email.sent, chat.message, account.created, note, call, task … */
  type: string;
  summary: string;
  data: string;
  actor: string;
  event_id: string | null;
  assignee_id: string | null;
  due_at: string | null;
  done_at: string | null;
  reminded_at: string | null;
  occurred_at: string;
  created_at: string;
}

export interface ContactScoresTable {
  tenant_id: string;
  contact_id: string;
  recency_days: number | null;
  frequency: number;
  monetary: number;
  r: number;
  f: number;
  m: number;
  rfm: string;
  lead_score: number;
  /** JSON: the RFM inputs and, per rule, the points it gave. */
  explanation: string;
  computed_at: string;
}

export interface ContactScoreHistoryTable {
  tenant_id: string;
  contact_id: string;
  computed_at: string;
  rfm: string;
  lead_score: number;
}

export interface ScoreRulesTable {
  tenant_id: string;
  id: string;
  name: string;
  kind: 'activity' | 'attribute';
  activity_type: string | null;
  attribute: string | null;
  value: string | null;
  points: number;
  half_life_days: number | null;
  created_at: string;
}

export interface SegmentsTable {
  tenant_id: string;
  id: string;
  name: string;
  /** JSON: the saved filter. */
  filter: string;
  member_count: number;
  evaluated_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface SegmentMembersTable {
  tenant_id: string;
  segment_id: string;
  contact_id: string;
  since: string;
}

export interface ContactAuditTable {
  tenant_id: string;
  id: string;
  action: 'merge' | 'export' | 'erase';
  contact_id: string;
  actor: string;
  detail: string;
  created_at: string;
}

export interface MarketingConnectionsTable {
  tenant_id: string;
  id: string;
  kind: 'mailchimp' | 'webhook';
  name: string;
  /** JSON: mailchimp { base_url, list_id } · webhook { url }. */
  config: string;
  /** The platform's API key, or the webhook signing secret: stored as it is (it is used to call out). */
  secret: string;
  last_unsubscribe_sync_at: string | null;
  created_at: string;
}

export interface MarketingSyncRunsTable {
  tenant_id: string;
  id: string;
  connection_id: string;
  segment_id: string;
  status: 'queued' | 'running' | 'succeeded' | 'failed';
  /** JSON: members sent, skipped without consent, failed, unsubscribes taken back. */
  report: string;
  error: string | null;
  created_at: string;
  finished_at: string | null;
}

/** An import of products or contacts from a CSV or NDJSON file (0013). */
export interface ImportsTable {
  tenant_id: string;
  id: string;
  kind: 'products' | 'contacts';
  format: 'csv' | 'ndjson';
  mode: 'dry_run' | 'apply';
  status: 'uploading' | 'queued' | 'running' | 'succeeded' | 'failed' | 'cancelled';
  /** The import whose chunks hold the file (itself, or the dry run an apply follows). */
  upload_id: string;
  filename: string;
  size_bytes: number;
  job_id: string | null;
  rows_done: number;
  bytes_done: number;
  created: number;
  updated: number;
  unchanged: number;
  failed: number;
  error_count: number;
  /** The last data row whose batch committed. */
  checkpoint_row: number;
  /** Why the whole import failed (a file that cannot be read), null otherwise. */
  error: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  finished_at: string | null;
}

export interface ImportChunksTable {
  tenant_id: string;
  upload_id: string;
  seq: number;
  data: Uint8Array;
}

export interface ImportErrorsTable {
  tenant_id: string;
  import_id: string;
  /** The row of the file (the header is row 1 in a CSV; the line number in NDJSON). */
  row: number;
  /** The column (CSV) or JSON pointer (NDJSON); '' for the row as a whole. */
  column: string;
  code: string;
  message: string;
}

export interface AppsTable {
  tenant_id: string;
  id: string;
  /** The path segment: /apps/<handle>/… and /api/apps/<handle>/… */
  handle: string;
  name: string;
  /** The app's base URL; requests go to <url>/<rest of the path>. */
  url: string;
  /** Signs the context Stockroom sends (HMAC-SHA256); stored as it is (it signs). */
  secret: string;
  timeout_ms: number;
  status: 'enabled' | 'disabled';
  created_at: string;
  updated_at: string;
}

export interface BrokerCommandsTable {
  tenant_id: string;
  /** The sender's command id: a command sent twice is applied once. */
  id: string;
  type: string;
  /** JSON: what happened (applied, or the error's code). */
  outcome: string;
  received_at: string;
}

export interface Database {
  tenants: TenantsTable;
  roles: RolesTable;
  users: UsersTable;
  customers: CustomersTable;
  sessions: SessionsTable;
  refresh_tokens: RefreshTokensTable;
  api_keys: ApiKeysTable;
  idempotency_keys: IdempotencyKeysTable;
  categories: CategoriesTable;
  products: ProductsTable;
  variants: VariantsTable;
  collections: CollectionsTable;
  collection_products: CollectionProductsTable;
  products_fts: ProductsFtsTable;
  locations: LocationsTable;
  stock_levels: StockLevelsTable;
  inventory_ledger: InventoryLedgerTable;
  reservations: ReservationsTable;
  tax_rates: TaxRatesTable;
  shipping_methods: ShippingMethodsTable;
  discounts: DiscountsTable;
  discount_usages: DiscountUsagesTable;
  carts: CartsTable;
  cart_lines: CartLinesTable;
  order_counters: OrderCountersTable;
  orders: OrdersTable;
  order_lines: OrderLinesTable;
  order_events: OrderEventsTable;
  fulfillments: FulfillmentsTable;
  payments: PaymentsTable;
  refunds: RefundsTable;
  payment_actions: PaymentActionsTable;
  nodes: NodesTable;
  export_chunks: ExportChunksTable;
  processed_webhooks: ProcessedWebhooksTable;
  outbox_events: OutboxEventsTable;
  change_versions: ChangeVersionsTable;
  jobs: JobsTable;
  schedule_slots: ScheduleSlotsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  emails: EmailsTable;
  password_resets: PasswordResetsTable;
  daily_reports: DailyReportsTable;
  export_files: ExportFilesTable;
  shop_schedules: ShopSchedulesTable;
  realtime_channels: RealtimeChannelsTable;
  realtime_messages: RealtimeMessagesTable;
  conversations: ConversationsTable;
  order_messages: OrderMessagesTable;
  dashboard_days: DashboardDaysTable;
  dashboard_products: DashboardProductsTable;
  dashboard_minutes: DashboardMinutesTable;
  contacts: ContactsTable;
  contact_fields: ContactFieldsTable;
  contact_activities: ContactActivitiesTable;
  contact_scores: ContactScoresTable;
  contact_score_history: ContactScoreHistoryTable;
  score_rules: ScoreRulesTable;
  segments: SegmentsTable;
  segment_members: SegmentMembersTable;
  contact_audit: ContactAuditTable;
  marketing_connections: MarketingConnectionsTable;
  marketing_sync_runs: MarketingSyncRunsTable;
  apps: AppsTable;
  broker_commands: BrokerCommandsTable;
  imports: ImportsTable;
  import_chunks: ImportChunksTable;
  import_errors: ImportErrorsTable;
}
