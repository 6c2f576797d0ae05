import type { Labels, LabelSelector } from './model.js';

/**
 * Whether `labels` satisfy a label selector, as the Kubernetes API defines it: every matchLabels
 * pair and every matchExpressions requirement must hold; an empty selector selects everything.
 */
export function labelSelectorMatches(selector: LabelSelector, labels: Labels): boolean {
  for (const [key, value] of Object.entries(selector.matchLabels ?? {})) {
    if (labels[key] !== value) return false;
  }
  for (const { key, operator, values = [] } of selector.matchExpressions ?? []) {
    const has = Object.hasOwn(labels, key);
    const value = labels[key];
    const holds =
      operator === 'In'
        ? has && values.includes(value!)
        : operator === 'NotIn'
          ? !has || !values.includes(value!)
          : operator === 'Exists'
            ? has
            : !has;
    if (!holds) return false;
  }
  return true;
}
