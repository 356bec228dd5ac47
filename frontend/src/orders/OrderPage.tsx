import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState, type ReactNode } from "react";
import { Link, useLocation, useParams, useSearchParams } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { ErrorAlert } from "../ErrorAlert";
import { Totals } from "../Totals";
import { formatMoney } from "../money";
import { useCountryName } from "../checkout/countries";
import { useTitle } from "../title";
import { STATUS_LABELS } from "./status";

/** A guest's order by the link its checkout gave (GET /api/v1/orders/guest/{link}). */
export function GuestOrderPage() {
  const { link = "" } = useParams();
  const query = usePaymentReturn();
  const order = useQuery({
    queryKey: ["guest-order", link],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/orders/guest/{link}", { params: { path: { link }, query }, signal })),
  });
  return <OrderView query={order} />;
}

/** One of the customer's orders (GET /api/v1/orders/{number}). */
export function CustomerOrderPage() {
  const { number = "" } = useParams();
  const query = usePaymentReturn();
  const order = useQuery({
    queryKey: ["orders", number],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/orders/{number}", { params: { path: { number }, query }, signal })),
  });
  return <OrderView query={order} actions={order.data?.cancellable && <CancelOrder number={number} />} />;
}

/** Back from a hosted payment page (Stripe's), the address carries ``?session_id=``: the
 * order's reads pass it on, so the API asks the provider at once rather than await its
 * webhook. The address is cleaned, so a reload or a bookmark does not carry it. */
function usePaymentReturn(): { session_id?: string } {
  const [params, setParams] = useSearchParams();
  const [sessionId] = useState(() => params.get("session_id") ?? undefined);
  useEffect(() => {
    if (params.has("session_id")) setParams({}, { replace: true });
  }, [params, setParams]);
  return sessionId ? { session_id: sessionId } : {};
}

/** Cancel the customer's order (POST /api/v1/orders/{number}/cancel), while the API says it
 * may be (the order's ``cancellable``): the answer is the cancelled order. */
function CancelOrder({ number }: { number: string }) {
  const client = useQueryClient();
  const cancel = useMutation({
    mutationFn: async () =>
      unwrap(await api.POST("/api/v1/orders/{number}/cancel", { params: { path: { number } } })),
    onSuccess: (order) => {
      client.setQueryData(["orders", number], order);
      client.invalidateQueries({ queryKey: ["orders"], exact: true }); // the account's list
    },
  });
  return (
    <div className="mb-4">
      {cancel.error && <ErrorAlert error={cancel.error} />}
      <button type="button" className="btn btn-outline-danger btn-sm" id="cancel-order"
        disabled={cancel.isPending} onClick={() => cancel.mutate()}>
        Cancel this order
      </button>
    </div>
  );
}

function OrderView({ query, actions }: {
  query: { data?: Schemas["Order"]; error: Error | null };
  actions?: ReactNode;
}) {
  const placed = (useLocation().state as { placed?: boolean } | null)?.placed;
  useTitle(query.data ? `Order ${query.data.number}` : "Your order");
  if (query.error) return <ErrorAlert error={query.error} />;
  const order = query.data;
  if (!order) return <p role="status">Loading your order…</p>;
  const money = (cents: number) => formatMoney(cents, order.currency);
  return (
    <>
      {placed && (
        <div className="alert alert-success" role="status">
          Thank you! Your order <strong>{order.number}</strong> is placed. A confirmation is on its way to{" "}
          {order.email}.
        </div>
      )}
      <h1 className="h3">Order {order.number}</h1>
      <p>
        Status: <strong id="order-status">{STATUS_LABELS[order.status]}</strong> · placed{" "}
        {new Date(order.created_at).toLocaleString()}
      </p>
      {order.payment_url && (
        <p>
          <a className="btn btn-primary" id="pay-now" href={order.payment_url}>
            Pay now
          </a>{" "}
          on the secure payment page.
        </p>
      )}
      <table className="table" id="order-lines">
        <caption className="visually-hidden">What you ordered</caption>
        <thead>
          <tr>
            <th scope="col">Product</th>
            <th scope="col" className="text-end">Quantity</th>
            <th scope="col" className="text-end">Price</th>
          </tr>
        </thead>
        <tbody>
          {order.lines.map((line) => (
            <tr key={line.id}>
              <td>
                {line.name} {line.options && <span className="text-secondary">({line.options})</span>}
              </td>
              <td className="text-end">{line.quantity}</td>
              <td className="text-end">{money(line.line_total_cents)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <div className="col-md-6 mb-4">
        <Totals parts={order} shipping={{ name: order.shipping_method, cents: order.shipping_cents }} id="order-totals" />
      </div>
      <h2 className="h5">Shipping to</h2>
      <address>
        {order.shipping_address.name}
        <br />
        {order.shipping_address.line1}
        {order.shipping_address.line2 && (
          <>
            <br />
            {order.shipping_address.line2}
          </>
        )}
        <br />
        {order.shipping_address.postcode} {order.shipping_address.city}
        <br />
        <CountryName code={order.shipping_address.country} />
      </address>
      {actions}
      <p>
        <Link to="/">Continue shopping</Link>
      </p>
    </>
  );
}

function CountryName({ code }: { code: string }) {
  return <>{useCountryName(code)}</>;
}
