/**
 * The variant picker's rules: a product sells variants, each one value of every option
 * (Size M, Colour blue). The customer chooses values; the variant with all of them is what
 * goes into the cart.
 */
import type { Schemas } from "../api/client";

type Product = Schemas["Product"];
type Variant = Schemas["Variant"];
export type Choice = Record<string, string>;

function hasValues(variant: Variant, choice: Choice): boolean {
  return Object.entries(choice).every(([option, value]) =>
    variant.options.some((v) => v.option === option && v.value === value),
  );
}

/** The variant of a complete choice (every option chosen), else undefined. */
export function chosenVariant(product: Product, choice: Choice): Variant | undefined {
  if (product.options.some((option) => !(option.name in choice))) return undefined;
  return product.variants.find((variant) => hasValues(variant, choice));
}

/** Whether choosing this value, with the other options as chosen, leaves a variant in stock. */
export function inStockWith(product: Product, choice: Choice, option: string, value: string): boolean {
  const next = { ...choice, [option]: value };
  return product.variants.some((variant) => variant.in_stock && hasValues(variant, next));
}

/** Whether the value is sold at all with the other options as chosen. */
export function soldWith(product: Product, choice: Choice, option: string, value: string): boolean {
  const next = { ...choice, [option]: value };
  return product.variants.some((variant) => hasValues(variant, next));
}

/** The first choice to show: a variant's values (?variant=ID), else a product's only variant's. */
export function initialChoice(product: Product, variantId?: number): Choice {
  const variant =
    product.variants.find((v) => v.id === variantId) ??
    (product.variants.length === 1 ? product.variants[0] : undefined);
  return Object.fromEntries(variant?.options.map((v) => [v.option, v.value]) ?? []);
}
