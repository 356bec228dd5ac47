import { formatMoney } from "./money";

/** What the cart, the quote and the order have in common: the parts of the total. */
export interface TotalParts {
  currency: string;
  subtotal_cents: number;
  discount_cents: number;
  voucher_code: string | null;
  tax_cents: number;
  prices_include_tax: boolean;
  total_cents: number;
}

/** Subtotal, voucher, shipping (when known), tax and total, as the shop charges them: prices
 * that include tax show the tax they hold ("of which"), others add it. */
export function Totals({ parts, shipping, estimated = false, id }: {
  parts: TotalParts;
  /** The shipping's name and price; without it, the total is without shipping. */
  shipping?: { name: string; cents: number };
  estimated?: boolean;
  id: string;
}) {
  const money = (cents: number) => formatMoney(cents, parts.currency);
  const tax = `${parts.prices_include_tax ? "Of which tax" : "Tax"}${estimated ? " (estimated)" : ""}`;
  return (
    <dl className="row mb-0" id={id}>
      <dt className="col-7 fw-normal">Subtotal</dt>
      <dd className="col-5 text-end">{money(parts.subtotal_cents)}</dd>
      {parts.discount_cents > 0 && (
        <>
          <dt className="col-7 fw-normal">Voucher {parts.voucher_code}</dt>
          <dd className="col-5 text-end">−{money(parts.discount_cents)}</dd>
        </>
      )}
      {shipping && (
        <>
          <dt className="col-7 fw-normal">Shipping{shipping.name && ` (${shipping.name})`}</dt>
          <dd className="col-5 text-end">{money(shipping.cents)}</dd>
        </>
      )}
      <dt className="col-7 fw-normal">{tax}</dt>
      <dd className="col-5 text-end">{money(parts.tax_cents)}</dd>
      <dt className="col-7">{shipping ? "Total" : "Total without shipping"}</dt>
      <dd className="col-5 text-end fw-bold" id={`${id}-total`}>
        {money(parts.total_cents)}
      </dd>
    </dl>
  );
}
