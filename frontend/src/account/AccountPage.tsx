import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, Navigate } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { ErrorAlert } from "../ErrorAlert";
import { formatMoney } from "../money";
import { STATUS_LABELS } from "../orders/status";
import { AddressBook } from "./AddressBook";
import { Input } from "./AuthPages";
import { ME, useMe } from "./queries";
import { securityPost, type SecurityAnswer } from "./security";
import { useTitle } from "../title";

/** The customer's account: their orders, and two-factor authentication. */
export function AccountPage() {
  useTitle("Your account");
  const me = useMe();
  if (me.isError) return <ErrorAlert error={me.error} />;
  if (me.data === undefined) return <p role="status">Loading…</p>;
  if (me.data === null) return <Navigate to="/login?next=/account" replace />;
  return (
    <>
      <h1 className="h3 mb-3">Your account</h1>
      <p>
        Logged in as <strong>{me.data.email}</strong>.
      </p>
      <Orders />
      <AddressBook />
      <TwoFactor me={me.data} />
    </>
  );
}

function Orders() {
  const orders = useQuery({
    queryKey: ["orders"],
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/orders", { signal })),
  });
  return (
    <section className="mb-4" aria-labelledby="orders-heading">
      <h2 className="h5" id="orders-heading">Your orders</h2>
      {orders.isError ? (
        <ErrorAlert error={orders.error} />
      ) : !orders.data ? (
        <p role="status">Loading…</p>
      ) : orders.data.items.length === 0 ? (
        <p>No orders yet.</p>
      ) : (
        <ul className="list-group" id="orders">
          {orders.data.items.map((order: Schemas["Order"]) => (
            <li key={order.number} className="list-group-item d-flex flex-wrap justify-content-between column-gap-3">
              <Link to={`/account/orders/${order.number}`}>{order.number}</Link>
              <span>{new Date(order.created_at).toLocaleDateString()}</span>
              <span>{STATUS_LABELS[order.status]}</span>
              <span>{formatMoney(order.total_cents, order.currency)}</span>
            </li>
          ))}
        </ul>
      )}
    </section>
  );
}

/** Set up an authenticator app: Flask-Security's /tf-setup gives the key, /tf-validate takes
 * its first code. Recovery codes stay on the shop's own page. */
function TwoFactor({ me }: { me: Schemas["Me"] }) {
  const client = useQueryClient();
  const [code, setCode] = useState("");
  const setup = useMutation({ mutationFn: () => securityPost("/tf-setup", { setup: "authenticator" }) });
  const validate = useMutation({
    mutationFn: () => securityPost("/tf-validate", { code: code.trim() }),
    onSuccess: () => client.invalidateQueries({ queryKey: ME }),
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    validate.mutate();
  };
  return (
    <section aria-labelledby="tf-heading">
      <h2 className="h5" id="tf-heading">Two-factor authentication</h2>
      {me.two_factor ? (
        <p id="two-factor-status">
          On: each login asks for your authenticator app's code. <a href="/mf-recovery-codes">Recovery codes</a>
        </p>
      ) : !setup.data ? (
        <>
          <p id="two-factor-status">Off. An authenticator app's code at each login keeps your account safe.</p>
          <button type="button" className="btn btn-outline-primary" disabled={setup.isPending}
            onClick={() => setup.mutate()}>
            Set up an authenticator app
          </button>
          {setup.isError && <ErrorAlert error={setup.error} />}
        </>
      ) : (
        <form onSubmit={submit}>
          <SetupKey answer={setup.data} />
          <Input id="tf-code" label="The code your app shows" autoComplete="one-time-code" inputMode="numeric"
            value={code} onChange={setCode} />
          <button type="submit" className="btn btn-primary" disabled={validate.isPending}>Turn on</button>
          <div aria-live="polite">{validate.isError && <ErrorAlert error={validate.error} />}</div>
        </form>
      )}
    </section>
  );
}

function SetupKey({ answer }: { answer: SecurityAnswer }) {
  return (
    <>
      <p>
        Add this key to your authenticator app (or <a href={answer.tf_authr_uri}>open it in the app</a> on this
        device), as {answer.tf_authr_issuer} / {answer.tf_authr_username}:
      </p>
      <p>
        <code id="tf-key" className="fs-5">{answer.tf_authr_key}</code>
      </p>
    </>
  );
}
