/**
 * The GraphQL schema (SDL). `schema.graphql` at the repository's root is this, printed (`stockroom graphql schema`);
 * a test fails when the served schema drifts from the committed file. Money is integer minor units, with the
 * currency on the object that holds it. Lists are cursor connections: `first` (1–100, default 20) and `after`.
 */
export const SDL = /* GraphQL */ `
"An ISO 8601 instant."
scalar DateTime
"Any JSON value."
scalar JSON

type PageInfo {
  hasNextPage: Boolean!
  "Pass as \`after\` for the next page."
  endCursor: String
}

enum ProductStatus { draft active archived }
enum ProductSort { newest oldest price_asc price_desc title_asc }
enum OrderStatus { pending_payment placed paid partially_fulfilled fulfilled completed cancelled refunded }

type ProductOption { name: String! values: [String!]! }

type Variant {
  id: ID!
  sku: String!
  title: String!
  price: Int!
  compareAtPrice: Int
  weightGrams: Int!
  optionValues: JSON!
  "Units across locations — staff only (null for the storefront)."
  available: Int
  inStock: Boolean!
}

type Product {
  id: ID!
  title: String!
  description: String!
  handle: String!
  status: ProductStatus!
  images: [String!]!
  attributes: JSON!
  options: [ProductOption!]!
  variants: [Variant!]!
  priceMin: Int!
  priceMax: Int!
  category: Category
  createdAt: DateTime!
  updatedAt: DateTime!
}
type ProductConnection { nodes: [Product!]! pageInfo: PageInfo! }

type Category { id: ID! name: String! handle: String! position: Int! parent: Category }
type CategoryConnection { nodes: [Category!]! pageInfo: PageInfo! }

type Collection {
  id: ID!
  title: String!
  handle: String!
  description: String!
  products(first: Int = 20, after: String): ProductConnection!
}
type CollectionConnection { nodes: [Collection!]! pageInfo: PageInfo! }

type Address { name: String line1: String line2: String city: String region: String postalCode: String country: String! phone: String }
input AddressInput { name: String line1: String line2: String city: String region: String postalCode: String country: String! phone: String }

type TotalsLine { variantId: ID! sku: String! title: String! quantity: Int! unitPrice: Int! subtotal: Int! discount: Int! tax: Int! total: Int! }
type Totals {
  currency: String!
  taxMode: String!
  lines: [TotalsLine!]!
  subtotal: Int!
  discountTotal: Int!
  shippingTotal: Int!
  taxTotal: Int!
  total: Int!
}

type CartLine { id: ID! variantId: ID! quantity: Int! }
type CartWarning { code: String! detail: String! lineId: ID }
type Cart {
  id: ID!
  status: String!
  email: String
  discountCode: String
  shippingMethodId: ID
  shippingAddress: Address
  lines: [CartLine!]!
  "Recomputed on every read; null for an empty cart."
  totals: Totals
  warnings: [CartWarning!]!
}

type OrderLine { id: ID! variantId: ID! productId: ID! sku: String! title: String! quantity: Int! unitPrice: Int! total: Int! fulfilledQuantity: Int! }
type Payment { id: ID! provider: String! status: String! amount: Int! amountCaptured: Int! amountRefunded: Int! clientSecret: String failureReason: String }
type Order {
  id: ID!
  number: Int!
  name: String!
  status: OrderStatus!
  customerId: ID
  email: String
  currency: String!
  subtotal: Int!
  discountTotal: Int!
  shippingTotal: Int!
  taxTotal: Int!
  total: Int!
  amountPaid: Int!
  amountRefunded: Int!
  lines: [OrderLine!]!
  payments: [Payment!]!
  "The order's chat (staff, and the order's customer)."
  messages(first: Int = 20, after: String): OrderMessageConnection!
  createdAt: DateTime!
  updatedAt: DateTime!
}
type OrderConnection { nodes: [Order!]! pageInfo: PageInfo! }

type OrderMessage { id: ID! orderId: ID! authorType: String! authorId: ID! body: String! createdAt: DateTime! }
type OrderMessageConnection { nodes: [OrderMessage!]! pageInfo: PageInfo! }

type Customer { id: ID! email: String! firstName: String lastName: String hasAccount: Boolean! createdAt: DateTime! }
type CustomerConnection { nodes: [Customer!]! pageInfo: PageInfo! }

type StockLevel { variantId: ID! locationId: ID! available: Int! }
type Location { id: ID! name: String! isDefault: Boolean! }
type LocationConnection { nodes: [Location!]! pageInfo: PageInfo! }
type StockAdjustment { variantId: ID! locationId: ID! available: Int! ledgerEntryId: ID! }

type Discount { id: ID! code: String! kind: String! value: Int! status: String! timesUsed: Int! usageLimit: Int startsAt: DateTime endsAt: DateTime }
type DiscountConnection { nodes: [Discount!]! pageInfo: PageInfo! }

type TaxRate { id: ID! country: String! region: String name: String! rateBp: Int! }
type TaxRateConnection { nodes: [TaxRate!]! pageInfo: PageInfo! }
type ShippingMethod { id: ID! name: String! rateType: String! amount: Int! freeOver: Int countries: [String!]! status: String! }
type ShippingMethodConnection { nodes: [ShippingMethod!]! pageInfo: PageInfo! }

type WebhookEndpoint { id: ID! url: String! events: [String!]! status: String! "Shown once, when created." secret: String }
type WebhookEndpointConnection { nodes: [WebhookEndpoint!]! pageInfo: PageInfo! }

type Job { id: ID! type: String! queue: String! status: String! attempts: Int! lastError: String payload: JSON! createdAt: DateTime! }
type JobConnection { nodes: [Job!]! pageInfo: PageInfo! }

type SalesDay { date: String! orders: Int! revenue: Int! refunds: Int! net: Int! }
type SalesReport { currency: String! timezone: String! from: String! to: String! days: [SalesDay!]! totals: JSON! }

type Me { kind: String! tenantId: ID! id: ID! permissions: [String!]! customer: Customer }

enum ContactStage { lead customer repeat lapsed }
enum ConsentStatus { none pending subscribed unsubscribed }
type ContactConsent { status: ConsentStatus! source: String at: DateTime }
type ContactScores { rfm: String! r: Int! f: Int! m: Int! leadScore: Int! computedAt: DateTime! }
type Activity { id: ID! type: String! summary: String! data: JSON! actor: String! assigneeId: ID dueAt: DateTime doneAt: DateTime occurredAt: DateTime! }
type ActivityConnection { nodes: [Activity!]! pageInfo: PageInfo! }
"A person the shop knows (CRM): one per email."
type Contact {
  id: ID!
  email: String!
  firstName: String!
  lastName: String!
  phone: String
  country: String
  customerId: ID
  source: String!
  stage: ContactStage!
  derivedStage: ContactStage!
  stageOverride: ContactStage
  tags: [String!]!
  custom: JSON!
  consent: ContactConsent!
  orderCount: Int!
  totalSpent: Int!
  firstOrderAt: DateTime
  lastOrderAt: DateTime
  scores: ContactScores
  "Orders, refunds, emails, chat, notes, calls, tasks — newest first."
  timeline(first: Int = 20, after: String, types: [String!]): ActivityConnection!
  createdAt: DateTime!
  updatedAt: DateTime!
}
type ContactConnection { nodes: [Contact!]! pageInfo: PageInfo! }
type Segment { id: ID! name: String! filter: JSON! memberCount: Int! evaluatedAt: DateTime "Members now." count: Int! members(first: Int = 20, after: String): ContactConnection! }
type SegmentConnection { nodes: [Segment!]! pageInfo: PageInfo! }
input CustomConditionInput { key: String! op: String! value: JSON! }
input ContactFilterInput {
  stage: [ContactStage!]
  tagsAny: [String!]
  tagsAll: [String!]
  consent: [ConsentStatus!]
  country: [String!]
  email: String
  minTotalSpent: Int
  maxTotalSpent: Int
  minOrders: Int
  maxOrders: Int
  lastOrderAfter: DateTime
  lastOrderBefore: DateTime
  minLeadScore: Int
  minR: Int
  minF: Int
  minM: Int
  custom: [CustomConditionInput!]
}
input ConsentInput { status: ConsentStatus! source: String }
input ContactInput { email: String! firstName: String lastName: String phone: String country: String tags: [String!] custom: JSON stage: ContactStage consent: ConsentInput }

type Query {
  "Products of the shop (the storefront sees active ones): search, filters, sort."
  products(first: Int = 20, after: String, query: String, categoryId: ID, collectionId: ID, inStock: Boolean, minPrice: Int, maxPrice: Int, sort: ProductSort): ProductConnection!
  product(id: ID, handle: String): Product
  categories(first: Int = 20, after: String): CategoryConnection!
  collections(first: Int = 20, after: String): CollectionConnection!
  collection(id: ID!): Collection
  cart(id: ID!): Cart
  "Who is calling."
  me: Me!
  "Orders: staff see the shop's, a customer their own."
  orders(first: Int = 20, after: String, status: OrderStatus): OrderConnection!
  order(id: ID!): Order
  customers(first: Int = 20, after: String, email: String): CustomerConnection!
  customer(id: ID!): Customer
  stockLevels(variantId: ID!): [StockLevel!]!
  locations(first: Int = 20, after: String): LocationConnection!
  discounts(first: Int = 20, after: String): DiscountConnection!
  taxRates(first: Int = 20, after: String): TaxRateConnection!
  shippingMethods(first: Int = 20, after: String): ShippingMethodConnection!
  webhookEndpoints(first: Int = 20, after: String): WebhookEndpointConnection!
  jobs(first: Int = 20, after: String, status: String): JobConnection!
  salesReport(from: String!, to: String!): SalesReport!
  "CRM: contacts with the segment filters (crm:read)."
  contacts(first: Int = 20, after: String, filter: ContactFilterInput): ContactConnection!
  contact(id: ID!): Contact
  segments(first: Int = 20, after: String): SegmentConnection!
  segment(id: ID!): Segment
}

input CartLineInput { variantId: ID! quantity: Int! }
input CartCreateInput { email: String lines: [CartLineInput!] }
input CartUpdateInput { email: String discountCode: String shippingMethodId: ID shippingAddress: AddressInput }
input PaymentInput { provider: String! cardNumber: String }
input CheckoutInput { cartId: ID lines: [CartLineInput!] email: String shippingMethodId: ID shippingAddress: AddressInput payment: PaymentInput! }
input LineQuantityInput { lineId: ID! quantity: Int! }
input RefundInput { amount: Int lines: [LineQuantityInput!] restock: Boolean reason: String }
input FulfilInput { carrier: String! trackingNumber: String! lines: [LineQuantityInput!] }
input StockAdjustInput { variantId: ID! locationId: ID reason: String! delta: Int setTo: Int note: String }
input CustomerInput { email: String! firstName: String lastName: String }
input DiscountInput { code: String! kind: String! value: Int minSubtotal: Int usageLimit: Int perCustomerLimit: Int startsAt: DateTime endsAt: DateTime }
input WebhookEndpointInput { url: String! events: [String!]! description: String }

type Mutation {
  cartCreate(input: CartCreateInput!): Cart!
  cartLinesAdd(cartId: ID!, line: CartLineInput!): Cart!
  cartLineUpdate(cartId: ID!, lineId: ID!, quantity: Int!): Cart!
  cartLineRemove(cartId: ID!, lineId: ID!): Cart!
  cartUpdate(cartId: ID!, input: CartUpdateInput!): Cart!
  "Checkout: a cart (or, for staff, lines) becomes an order. Send an Idempotency-Key header."
  checkout(input: CheckoutInput!): Order!
  orderCapture(id: ID!): Order!
  orderCancel(id: ID!, restock: Boolean, reason: String): Order!
  orderRefund(id: ID!, input: RefundInput!): Order!
  orderFulfil(id: ID!, input: FulfilInput!): Order!
  orderMessageSend(orderId: ID!, body: String!): OrderMessage!
  stockAdjust(input: StockAdjustInput!): StockAdjustment!
  customerCreate(input: CustomerInput!): Customer!
  discountCreate(input: DiscountInput!): Discount!
  webhookEndpointCreate(input: WebhookEndpointInput!): WebhookEndpoint!
  contactCreate(input: ContactInput!): Contact!
  contactNoteAdd(contactId: ID!, body: String!, type: String = "note"): Activity!
  segmentCreate(name: String!, filter: ContactFilterInput!): Segment!
}

type OrderUpdate { event: String! orderId: ID! number: Int status: String total: Int currency: String at: DateTime! position: Int! }
type InventoryUpdate { event: String! data: JSON! at: DateTime! position: Int! }
type OrderMessageUpdate { event: String! data: JSON! at: DateTime! position: Int! }

type Subscription {
  "Order events: staff see the shop's (one order with orderId), a customer their own."
  orderUpdated(orderId: ID): OrderUpdate!
  "Staff: every stock change. With productId (storefront too): that product's availability."
  inventoryChanged(productId: ID): InventoryUpdate!
  "An order's chat and read receipts (staff, and the order's customer)."
  orderMessages(orderId: ID!): OrderMessageUpdate!
}
`;
