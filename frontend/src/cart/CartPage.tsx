import { useState, type FormEvent } from "react";
import { Link } from "react-router-dom";

import type { Schemas } from "../api/client";
import { ErrorAlert } from "../ErrorAlert";
import { Totals } from "../Totals";
import { formatMoney } from "../money";
import { useApplyVoucher, useCart, useRemoveLine, useRemoveVoucher, useSetQuantity } from "./queries";
import { useTitle } from "../title";

/** The cart: its lines, quantities, voucher and totals (GET /api/v1/cart and its changes). */
export function CartPage() {
  useTitle("Your cart");
  const cart = useCart();
  if (cart.isError) return <ErrorAlert error={cart.error} />;
  if (!cart.data) return <p role="status">Loading your cart…</p>;
  const { items, currency } = cart.data;
  return (
    <>
      <h1 className="h3 mb-3">Your cart</h1>
      {items.length === 0 ? (
        <p>
          Your cart is empty. <Link to="/">See the products</Link>
        </p>
      ) : (
        <div className="row g-4">
          <div className="col-lg-8">
            <ul className="list-group" id="cart-lines">
              {items.map((item) => (
                <CartLine key={item.variant_id} item={item} currency={currency} />
              ))}
            </ul>
          </div>
          <div className="col-lg-4">
            <Totals parts={cart.data} estimated id="cart-totals" />
            <Voucher cart={cart.data} />
            <Link to="/checkout" className="btn btn-primary w-100 mt-3">
              Check out
            </Link>
          </div>
        </div>
      )}
    </>
  );
}

function CartLine({ item, currency }: { item: Schemas["CartItem"]; currency: string }) {
  const [quantity, setQuantity] = useState(item.quantity);
  const update = useSetQuantity();
  const remove = useRemoveLine();
  const id = `quantity-${item.variant_id}`;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ variantId: item.variant_id, quantity });
  };
  return (
    <li className="list-group-item">
      <div className="d-flex flex-wrap justify-content-between gap-2">
        <div>
          <strong>{item.name}</strong>
          {item.options && <div className="text-secondary">{item.options}</div>}
          <div>
            {formatMoney(item.unit_price_cents, currency)} each
            {item.unit_price_cents < item.regular_price_cents && (
              <del className="ms-2 text-secondary">{formatMoney(item.regular_price_cents, currency)}</del>
            )}
          </div>
        </div>
        <form className="d-flex gap-2 align-items-center" onSubmit={submit}>
          <label htmlFor={id} className="visually-hidden">
            Quantity of {item.name} {item.options}
          </label>
          <input
            id={id}
            type="number"
            min={1}
            className="form-control"
            value={quantity}
            onChange={(event) => setQuantity(Math.max(1, Math.floor(Number(event.target.value)) || 1))}
          />
          <button type="submit" className="btn btn-outline-primary btn-sm" disabled={update.isPending}>
            Update
          </button>
          <button
            type="button"
            className="btn btn-outline-danger btn-sm"
            disabled={remove.isPending}
            onClick={() => remove.mutate(item.variant_id)}
          >
            Remove<span className="visually-hidden"> {item.name} {item.options}</span>
          </button>
        </form>
        <strong className="text-end">{formatMoney(item.line_total_cents, currency)}</strong>
      </div>
      {update.isError && <ErrorAlert error={update.error} />}
      {remove.isError && <ErrorAlert error={remove.error} />}
    </li>
  );
}

export function Voucher({ cart }: { cart: Schemas["Cart"] }) {
  const [code, setCode] = useState("");
  const apply = useApplyVoucher();
  const remove = useRemoveVoucher();
  if (cart.voucher_code) {
    return (
      <div className="mt-3">
        <p className="mb-1">
          Voucher <strong>{cart.voucher_code}</strong>
        </p>
        {cart.voucher_problem && <p className="text-danger mb-1">{cart.voucher_problem}</p>}
        <button type="button" className="btn btn-link p-0" onClick={() => remove.mutate()}>
          Remove the voucher
        </button>
      </div>
    );
  }
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (code.trim()) apply.mutate(code.trim(), { onSuccess: () => setCode("") });
  };
  return (
    <form className="mt-3" onSubmit={submit}>
      <label htmlFor="voucher" className="form-label">
        Voucher code
      </label>
      <div className="input-group">
        <input id="voucher" className="form-control" maxLength={32} value={code} onChange={(e) => setCode(e.target.value)} />
        <button type="submit" className="btn btn-outline-secondary" disabled={apply.isPending}>
          Apply
        </button>
      </div>
      {apply.isError && <ErrorAlert error={apply.error} />}
    </form>
  );
}
