import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";

import { AddressFields } from "../addresses/AddressFields";
import { ADDRESSES, useAddresses } from "../addresses/queries";
import { api, succeeded, unwrap, type Schemas } from "../api/client";
import { EMPTY_ADDRESS, trimmedAddress, type FormAddress } from "../checkout/body";
import { useCountryName } from "../checkout/countries";
import { ErrorAlert } from "../ErrorAlert";

type Saved = Schemas["SavedAddress"];

/** The customer's addresses, which the checkout offers: add, change, make the default (for
 * shipping and billing), delete. Orders keep their own copy of the address they went to. */
export function AddressBook() {
  const book = useAddresses();
  const client = useQueryClient();
  const [editing, setEditing] = useState<number | "new" | null>(null);
  const done = async () => {
    await client.invalidateQueries({ queryKey: ADDRESSES });
    setEditing(null);
  };
  const remove = useMutation({
    mutationFn: async (id: number) =>
      succeeded(await api.DELETE("/api/v1/addresses/{address_id}", { params: { path: { address_id: id } } })),
    onSuccess: done,
  });
  const makeDefault = useMutation({
    mutationFn: async (id: number) =>
      unwrap(await api.PATCH("/api/v1/addresses/{address_id}", {
        params: { path: { address_id: id } },
        body: { default_shipping: true, default_billing: true },
      })),
    onSuccess: done,
  });
  const error = book.error ?? remove.error ?? makeDefault.error;
  return (
    <section className="mb-4" aria-labelledby="addresses-heading">
      <h2 className="h5" id="addresses-heading">Your addresses</h2>
      {error && <ErrorAlert error={error} />}
      {!book.data ? (
        !book.error && <p role="status">Loading your addresses…</p>
      ) : book.data.length === 0 ? (
        <p>No saved addresses yet: the checkout keeps the one you give.</p>
      ) : (
        <ul className="list-group mb-3" id="addresses">
          {book.data.map((address) => (
            <li className="list-group-item" key={address.id}>
              {editing === address.id ? (
                <AddressForm title="Change the address" initial={address} onDone={done} onCancel={() => setEditing(null)}
                  save={async (body) =>
                    unwrap(await api.PATCH("/api/v1/addresses/{address_id}", {
                      params: { path: { address_id: address.id } },
                      body,
                    }))} />
              ) : (
                <div className="d-flex flex-wrap justify-content-between align-items-start gap-2">
                  <div>
                    <OneLine address={address} />
                    {address.default_shipping && <span className="badge text-bg-secondary ms-2">Default</span>}
                  </div>
                  <div className="d-flex flex-wrap gap-2">
                    <button type="button" className="btn btn-outline-secondary btn-sm" onClick={() => setEditing(address.id)}>
                      Change<span className="visually-hidden"> {address.name}, {address.line1}</span>
                    </button>
                    {!address.default_shipping && (
                      <button type="button" className="btn btn-outline-secondary btn-sm" disabled={makeDefault.isPending}
                        onClick={() => makeDefault.mutate(address.id)}>
                        Make default<span className="visually-hidden"> for {address.name}, {address.line1}</span>
                      </button>
                    )}
                    <button type="button" className="btn btn-outline-danger btn-sm" disabled={remove.isPending}
                      onClick={() => remove.mutate(address.id)}>
                      Delete<span className="visually-hidden"> {address.name}, {address.line1}</span>
                    </button>
                  </div>
                </div>
              )}
            </li>
          ))}
        </ul>
      )}
      {editing === "new" ? (
        <AddressForm title="A new address" initial={EMPTY_ADDRESS} onDone={done} onCancel={() => setEditing(null)}
          save={async (body) => unwrap(await api.POST("/api/v1/addresses", { body }))} />
      ) : (
        <button type="button" className="btn btn-outline-primary btn-sm" onClick={() => setEditing("new")}>
          Add an address
        </button>
      )}
    </section>
  );
}

function OneLine({ address }: { address: Saved }) {
  const country = useCountryName(address.country);
  const parts = [address.name, address.line1, address.line2, `${address.postcode} ${address.city}`, country];
  return <span>{parts.filter(Boolean).join(", ")}</span>;
}

/** One address's fields, sent by ``save`` (POST or PATCH): a refusal shows the API's reasons. */
function AddressForm({ title, initial, save, onDone, onCancel }: {
  title: string;
  initial: FormAddress;
  save: (body: ReturnType<typeof trimmedAddress>) => Promise<Saved>;
  onDone: () => Promise<void>;
  onCancel: () => void;
}) {
  const [value, setValue] = useState<FormAddress>({ ...EMPTY_ADDRESS, ...pick(initial) });
  const mutation = useMutation({ mutationFn: () => save(trimmedAddress(value)), onSuccess: onDone });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    mutation.mutate();
  };
  return (
    <form onSubmit={submit} aria-label={title} className="mb-3">
      <h3 className="h6">{title}</h3>
      {mutation.error && <ErrorAlert error={mutation.error} />}
      <AddressFields prefix="book-" value={value} onChange={(part) => setValue((current) => ({ ...current, ...part }))} />
      <div className="d-flex gap-2 mt-3">
        <button type="submit" className="btn btn-primary btn-sm" disabled={mutation.isPending}>Save the address</button>
        <button type="button" className="btn btn-link btn-sm" onClick={onCancel}>Cancel</button>
      </div>
    </form>
  );
}

/** The fields a form edits, without the saved address's id and default flags. */
function pick({ name, line1, line2, postcode, city, country }: FormAddress): FormAddress {
  return { name, line1, line2: line2 ?? "", postcode, city, country };
}
