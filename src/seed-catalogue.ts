import type { Logger } from './lib/log.ts';
import type { Ctx } from './context.ts';
import type { Db } from './db/database.ts';
import type { Clock } from './lib/clock.ts';
import { createCategory, createCollection, createProduct } from './modules/catalog/index.ts';
import { createDiscount, createShippingMethod, createTaxRate } from './modules/pricing/index.ts';

const silent = { info() {}, warn() {}, error() {}, debug() {}, trace() {}, fatal() {}, child() { return silent; }, level: 'silent', silent() {} } as unknown as Logger;

/** Deterministic data: the same demo shop on every machine. */
const CATEGORIES: Record<string, { adjectives: string[]; nouns: [string, number, number][]; sizes?: string[]; colours?: string[] }> = {
  Apparel: { adjectives: ['Organic', 'Classic', 'Relaxed', 'Heavyweight'], nouns: [['Tee', 1900, 180], ['Hoodie', 5900, 650], ['Cap', 2400, 120]], sizes: ['S', 'M', 'L', 'XL'], colours: ['Black', 'Sand'] },
  Kitchen: { adjectives: ['Stoneware', 'Enamel', 'Walnut', 'Copper'], nouns: [['Mug', 1400, 350], ['Bowl', 1800, 500], ['Board', 3200, 900]], colours: ['Natural', 'Slate'] },
  Stationery: { adjectives: ['Dotted', 'Recycled', 'Linen', 'Pocket'], nouns: [['Notebook', 1200, 250], ['Planner', 2200, 400], ['Pen Set', 1600, 90]] },
  Home: { adjectives: ['Wool', 'Ceramic', 'Oak', 'Brass'], nouns: [['Throw', 8900, 1400], ['Vase', 3900, 1100], ['Lamp', 12900, 2600]], colours: ['Ivory', 'Moss'] },
  Outdoors: { adjectives: ['Trail', 'Packable', 'Insulated'], nouns: [['Bottle', 2900, 420], ['Daypack', 7900, 900], ['Blanket', 6900, 1300]] },
};

/**
 * A believable demo shop: 5 categories, 57 products with size/colour variants and stock, German and US tax
 * rates, two shipping methods, discount codes and a collection. Runs inside the signup's shop, in one transaction.
 */
export async function seedDemoCatalogue(db: Db, clock: Clock, tenantId: string): Promise<{ products: number; variants: number }> {
  return db.transaction().execute(async (trx) => {
    const ctx: Ctx = { tenantId, principal: { kind: 'system', tenantId }, db: trx, clock, log: silent };
    let products = 0;
    let variants = 0;
    const featured: string[] = [];
    let n = 0;
    for (const [categoryName, spec] of Object.entries(CATEGORIES)) {
      const category = await createCategory(ctx, { name: categoryName });
      for (const adjective of spec.adjectives) {
        for (const [noun, basePrice, weight] of spec.nouns) {
          n++;
          const title = `${adjective} ${noun}`;
          const options = [
            ...(spec.sizes && noun !== 'Cap' ? [{ name: 'Size', values: spec.sizes }] : []),
            ...(spec.colours ? [{ name: 'Colour', values: spec.colours }] : []),
          ];
          const combos: Record<string, string>[] = options.reduce<Record<string, string>[]>((acc, o) => acc.flatMap((c) => o.values.map((v) => ({ ...c, [o.name]: v }))), [{}]);
          const sku = `${adjective.slice(0, 3)}-${noun.replace(/ /g, '').slice(0, 4)}`.toUpperCase();
          const price = basePrice + (n % 5) * 100;
          const p = await createProduct(ctx, {
            title,
            description: `${title} from our ${categoryName.toLowerCase()} range. Made to last, packed plastic-free.`,
            status: 'active',
            category_id: category.id,
            images: [`https://images.stockroom.dev/demo/${sku.toLowerCase()}.jpg`],
            attributes: { material: adjective.toLowerCase(), range: categoryName.toLowerCase() },
            options,
            variants: combos.map((c, i) => ({
              sku: [sku, ...Object.values(c).map((v) => v.slice(0, 3).toUpperCase())].join('-'),
              price: c.Size === 'XL' ? price + 200 : price,
              compare_at_price: n % 7 === 0 ? price + 1000 : null,
              weight_grams: weight,
              option_values: c,
              low_stock_threshold: 3,
              stock: (n * 7 + i * 3) % 40 === 0 ? 0 : 5 + ((n * 13 + i * 5) % 60),
            })),
          });
          products++;
          variants += p.variants.length;
          if (n % 6 === 0) featured.push(p.id);
        }
      }
    }
    await createCollection(ctx, { title: 'Featured', description: 'Our favourites this season', product_ids: featured });
    await createTaxRate(ctx, { country: 'DE', name: 'MwSt 19 %', rate_bp: 1900 });
    await createTaxRate(ctx, { country: 'FR', name: 'TVA 20 %', rate_bp: 2000 });
    await createTaxRate(ctx, { country: 'US', region: 'CA', name: 'California sales tax', rate_bp: 725 });
    await createTaxRate(ctx, { country: 'US', region: 'NY', name: 'New York sales tax', rate_bp: 400 });
    await createShippingMethod(ctx, { name: 'Standard (3–5 days)', rate_type: 'flat', amount: 495, free_over: 7500 });
    await createShippingMethod(ctx, { name: 'Express parcel (by weight)', rate_type: 'weight', weight_tiers: [{ up_to_grams: 1000, amount: 990 }, { up_to_grams: 5000, amount: 1490 }, { up_to_grams: 20000, amount: 2490 }] });
    await createDiscount(ctx, { code: 'WELCOME10', kind: 'percentage', value: 1000 });
    await createDiscount(ctx, { code: 'FREESHIP', kind: 'free_shipping', min_subtotal: 3000 });
    return { products, variants };
  });
}
