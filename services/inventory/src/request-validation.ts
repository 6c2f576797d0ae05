// Every boundary validates (ARCHITECTURE.md rule 5): a bad request is refused with
// INVALID_ARGUMENT naming the field before anything is read or written. SKUs and ids become
// Key/Value keys, so they are held to what a key token may hold.
import { invalidArgument } from '@catmesh/runtime';

const TOKEN = /^[A-Za-z0-9_-]+$/;
export const MAX_SKU_LENGTH = 64;
export const MAX_ID_LENGTH = 128;
/** More than anyone orders or restocks at once; keeps the sums far from unsafe integers. */
export const MAX_QUANTITY = 1_000_000;

function checkToken(value: string, field: string, maxLength: number): void {
  if (value.length === 0) throw invalidArgument(field, 'must not be empty');
  if (value.length > maxLength || !TOKEN.test(value)) {
    throw invalidArgument(field, `must be 1-${maxLength} letters, digits, '-' or '_'`);
  }
}

export function checkSku(sku: string): void {
  checkToken(sku, 'sku', MAX_SKU_LENGTH);
}

export function checkId(id: string, field: 'order_id' | 'restock_id'): void {
  checkToken(id, field, MAX_ID_LENGTH);
}

export function checkQuantity(quantity: number): void {
  if (quantity <= 0) throw invalidArgument('quantity', 'must be greater than 0');
  if (quantity > MAX_QUANTITY) throw invalidArgument('quantity', `must be at most ${MAX_QUANTITY}`);
}
