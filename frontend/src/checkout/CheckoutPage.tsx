import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent, type ReactNode } from "react";
import { Link, useNavigate } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { useMe } from "../account/queries";
import { CART, useCart } from "../cart/queries";
import { Voucher } from "../cart/CartPage";
import { AddressFields, Field } from "../addresses/AddressFields";
import { useAddresses } from "../addresses/queries";
import { ErrorAlert } from "../ErrorAlert";
import { Totals } from "../Totals";
import { formatMoney } from "../money";
import { checkoutBody, EMPTY_ADDRESS, shippingCountry, type CheckoutForm, type Country } from "./body";
import { useTitle } from "../title";

/** Checkout for guests and customers: address, shipping method, voucher, payment, then
 * POST /api/v1/orders. The quote (GET /api/v1/cart/quote) prices what the order will be. */
export function CheckoutPage() {
  useTitle("Checkout");
  const cart = useCart();
  const me = useMe();
  if (cart.isError || me.isError) return <ErrorAlert error={(cart.error ?? me.error)!} />;
  if (!cart.data || me.data === undefined) return <p role="status">Loading…</p>;
  if (cart.data.items.length === 0) {
    return (
      <p>
        Your cart is empty. <Link to="/">See the products</Link>
      </p>
    );
  }
  return <Checkout cart={cart.data} me={me.data} />;
}

function Checkout({ cart, me }: { cart: Schemas["Cart"]; me: Schemas["Me"] | null }) {
  const saved = useAddresses(me !== null);
  const addresses = saved.data ?? [];
  const [form, setForm] = useState<CheckoutForm>({
    email: "",
    addressId: "new",
    address: EMPTY_ADDRESS,
    shippingMethodId: undefined,
    paymentMethod: "",
    cardNumber: "",
  });
  // A customer's default shipping address, once the book has come.
  const [pickedDefault, setPickedDefault] = useState(false);
  if (!pickedDefault && saved.data) {
    setPickedDefault(true);
    const preferred = saved.data.find((address) => address.default_shipping) ?? saved.data[0];
    if (preferred) setForm({ ...form, addressId: preferred.id });
  }
  const change = (part: Partial<CheckoutForm>) => setForm((current) => ({ ...current, ...part }));
  const changeAddress = (part: Partial<CheckoutForm["address"]>) =>
    setForm((current) => ({ ...current, address: { ...current.address, ...part } }));

  const country = shippingCountry(form, addresses);
  const quote = useQuery({
    queryKey: ["quote", country, form.shippingMethodId, cart],
    queryFn: async ({ signal }) =>
      unwrap(
        await api.GET("/api/v1/cart/quote", {
          params: { query: { country: country as Country, shipping_method_id: form.shippingMethodId } },
          signal,
        }),
      ),
    enabled: country !== "",
    retry: false,
  });
  const methods = quote.data?.payment_methods ?? [];
  const payment = methods.find((method) => method.id === form.paymentMethod) ?? methods[0];

  const client = useQueryClient();
  const navigate = useNavigate();
  const place = useMutation({
    mutationFn: async () =>
      unwrap(
        await api.POST("/api/v1/orders", {
          body: checkoutBody({ ...form, paymentMethod: payment?.id ?? "" }, me === null, payment?.takes_card ?? false),
        }),
      ),
    onSuccess: (order) => {
      client.invalidateQueries({ queryKey: CART });
      if (order.payment_url) {
        window.location.assign(order.payment_url); // the provider's page, then back to the order
      } else if (order.link) {
        navigate(`/orders/guest/${order.link}`, { state: { placed: true } });
      } else {
        client.invalidateQueries({ queryKey: ["orders"] });
        navigate(`/account/orders/${order.number}`, { state: { placed: true } });
      }
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    place.mutate();
  };

  return (
    <form onSubmit={submit}>
      <h1 className="h3 mb-3">Checkout</h1>
      <div className="row g-4">
        <div className="col-lg-7">
          {me === null ? (
            <Section title="Your e-mail">
              <Field label="E-mail" id="email">
                <input
                  id="email"
                  type="email"
                  className="form-control"
                  autoComplete="email"
                  required
                  maxLength={255}
                  value={form.email}
                  onChange={(e) => change({ email: e.target.value })}
                />
              </Field>
              <p className="form-text">
                The confirmation and a link to your order go there. <Link to="/login?next=/checkout">Log in</Link> to use your
                account.
              </p>
            </Section>
          ) : (
            <p>
              Ordering as <strong>{me.email}</strong>.
            </p>
          )}
          <Section title="Shipping address">
            {addresses.length > 0 && (
              <div className="mb-3">
                {addresses.map((address) => (
                  <div className="form-check" key={address.id}>
                    <input
                      className="form-check-input"
                      type="radio"
                      name="address"
                      id={`address-${address.id}`}
                      checked={form.addressId === address.id}
                      onChange={() => change({ addressId: address.id, shippingMethodId: undefined })}
                    />
                    <label className="form-check-label" htmlFor={`address-${address.id}`}>
                      {address.name}, {address.line1}, {address.postcode} {address.city}, {address.country}
                    </label>
                  </div>
                ))}
                <div className="form-check">
                  <input
                    className="form-check-input"
                    type="radio"
                    name="address"
                    id="address-new"
                    checked={form.addressId === "new"}
                    onChange={() => change({ addressId: "new", shippingMethodId: undefined })}
                  />
                  <label className="form-check-label" htmlFor="address-new">
                    A new address
                  </label>
                </div>
              </div>
            )}
            {form.addressId === "new" && (
              <AddressFields
                value={form.address}
                onChange={(part) => {
                  changeAddress(part);
                  if (part.country !== undefined) change({ shippingMethodId: undefined });
                }}
              />
            )}
          </Section>
          <Section title="Shipping method">
            {!country ? (
              <p className="text-secondary">Choose the country first.</p>
            ) : quote.isError ? (
              <ErrorAlert error={quote.error} />
            ) : quote.data?.shipping_methods.length === 0 ? (
              <p>Shipping is free.</p>
            ) : (
              quote.data?.shipping_methods.map((method) => (
                <div className="form-check" key={method.id}>
                  <input className="form-check-input" type="radio" name="shipping" id={`shipping-${method.id}`}
                    checked={quote.data.shipping_method?.id === method.id}
                    onChange={() => change({ shippingMethodId: method.id })} />
                  <label className="form-check-label" htmlFor={`shipping-${method.id}`}>
                    {method.name}: {formatMoney(method.price_cents, cart.currency)}
                  </label>
                </div>
              ))
            )}
          </Section>
          <Section title="Payment">
            {methods.map((method) => (
              <div className="form-check" key={method.id}>
                <input className="form-check-input" type="radio" name="payment" id={`payment-${method.id}`}
                  checked={payment?.id === method.id} onChange={() => change({ paymentMethod: method.id })} />
                <label className="form-check-label" htmlFor={`payment-${method.id}`}>{method.name}</label>
              </div>
            ))}
            {payment?.takes_card && (
              <div className="mt-2">
                <Field label="Card number" id="card-number">
                  <input id="card-number" className="form-control" inputMode="numeric" autoComplete="cc-number"
                    required maxLength={32} value={form.cardNumber}
                    onChange={(e) => change({ cardNumber: e.target.value })} />
                </Field>
                <p className="form-text">Test cards: 4242 4242 4242 4242 succeeds, 4000 0000 0000 0002 is declined.</p>
              </div>
            )}
          </Section>
        </div>
        <div className="col-lg-5">
          <Section title="Your order">
            <ul className="list-unstyled" id="checkout-lines">
              {cart.items.map((item) => (
                <li key={item.variant_id} className="d-flex justify-content-between">
                  <span>
                    {item.quantity} × {item.name} {item.options && <span className="text-secondary">({item.options})</span>}
                  </span>
                  <span>{formatMoney(item.line_total_cents, cart.currency)}</span>
                </li>
              ))}
            </ul>
            {quote.data && (
              <Totals
                parts={{ ...quote.data, currency: cart.currency }}
                shipping={{ name: quote.data.shipping_method?.name ?? "", cents: quote.data.shipping_cents }}
                id="checkout-totals"
              />
            )}
            <Voucher cart={cart} />
            <div aria-live="polite">{place.isError && <ErrorAlert error={place.error} />}</div>
            <button type="submit" className="btn btn-primary w-100 mt-3" disabled={place.isPending || !quote.data}>
              {place.isPending ? "Placing your order…" : "Place order"}
            </button>
          </Section>
        </div>
      </div>
    </form>
  );
}

function Section({ title, children }: { title: string; children: ReactNode }) {
  return (
    <section className="mb-4">
      <h2 className="h5">{title}</h2>
      {children}
    </section>
  );
}
