/**
 * The catalogue module's public face: products and variants, categories, collections, and what other modules
 * and workflows read of them (sellable variants for pricing, carts and checkout).
 */
export { addVariant, createProduct, deleteVariant, getProduct, listProducts, sellableVariants, updateProduct, updateVariant, type Product, type SellableVariant, type Variant } from './catalog.service.ts';
export { categoriesByIds, createCategory, deleteCategory, listCategories, updateCategory, type Category } from './categories.service.ts';
export { createCollection, deleteCollection, getCollection, listCollections, updateCollection, type Collection } from './collections.service.ts';
export { Amount } from './catalog.schemas.ts';
export { importProducts, type BatchOutcome, type ImportProduct, type ImportVariant, type RowProblem } from './import.service.ts';
