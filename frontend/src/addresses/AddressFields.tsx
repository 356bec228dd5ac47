import type { ReactNode } from "react";

import { useCountries } from "../checkout/countries";
import type { Country, FormAddress } from "../checkout/body";

/** An address's fields, as the checkout and the address book ask for them (the API's limits).
 * ``prefix`` keeps the ids apart when a page shows more than one form. */
export function AddressFields({ value, onChange, prefix = "" }: {
  value: FormAddress;
  onChange: (part: Partial<FormAddress>) => void;
  prefix?: string;
}) {
  const countries = useCountries();
  const id = (name: string) => `${prefix}${name}`;
  return (
    <div className="row g-2">
      <Field label="Name" id={id("name")} wide>
        <input id={id("name")} className="form-control" autoComplete="name" required maxLength={120}
          value={value.name} onChange={(e) => onChange({ name: e.target.value })} />
      </Field>
      <Field label="Street and number" id={id("line1")} wide>
        <input id={id("line1")} className="form-control" autoComplete="address-line1" required maxLength={200}
          value={value.line1} onChange={(e) => onChange({ line1: e.target.value })} />
      </Field>
      <Field label="Address line 2 (optional)" id={id("line2")} wide>
        <input id={id("line2")} className="form-control" autoComplete="address-line2" maxLength={200}
          value={value.line2 ?? ""} onChange={(e) => onChange({ line2: e.target.value })} />
      </Field>
      <Field label="Postcode" id={id("postcode")}>
        <input id={id("postcode")} className="form-control" autoComplete="postal-code" required maxLength={20}
          value={value.postcode} onChange={(e) => onChange({ postcode: e.target.value })} />
      </Field>
      <Field label="City" id={id("city")}>
        <input id={id("city")} className="form-control" autoComplete="address-level2" required maxLength={100}
          value={value.city} onChange={(e) => onChange({ city: e.target.value })} />
      </Field>
      <Field label="Country" id={id("country")} wide>
        <select id={id("country")} className="form-select" autoComplete="country" required value={value.country}
          onChange={(e) => onChange({ country: e.target.value as Country })}>
          <option value="">Choose…</option>
          {countries.data?.map((c) => (
            <option key={c.code} value={c.code}>{c.name}</option>
          ))}
        </select>
      </Field>
    </div>
  );
}

/** A labelled field in the checkout's and the address book's grid. */
export function Field({ label, id, wide, children }: { label: string; id: string; wide?: boolean; children: ReactNode }) {
  return (
    <div className={wide ? "col-12" : "col-sm-6"}>
      <label htmlFor={id} className="form-label">
        {label}
      </label>
      {children}
    </div>
  );
}
