import { randomBytes } from 'node:crypto';

/** Base-36 milliseconds, zero-padded: text order is time order until the year 5188. */
const TIME_DIGITS = 9;

/**
 * A new order id such as `0mhx2k1a3-9f8e7d6c5b`: its creation time first, so that ids sort
 * newest-last as text (ListOrders pages by id), then 40 random bits.
 */
export function newOrderId(now = Date.now()): string {
  return `${now.toString(36).padStart(TIME_DIGITS, '0')}-${randomBytes(5).toString('hex')}`;
}

export const ORDER_ID_PATTERN = /^[0-9a-z]{9}-[0-9a-f]{10}$/;
