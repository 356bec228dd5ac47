/** What the checkout form holds, and the POST /api/v1/orders body it makes. */
import type { Schemas } from "../api/client";

export type Address = Schemas["Address"];
export type Country = Address["country"];
export type CheckoutRequest = Schemas["CheckoutRequest"];
/** An address as typed: no country chosen yet is "". */
export type FormAddress = Omit<Address, "country"> & { country: Country | "" };

export interface CheckoutForm {
  email: string;
  /** A saved address's id, or "new" for the fields below. */
  addressId: number | "new";
  address: FormAddress;
  shippingMethodId: number | undefined;
  paymentMethod: string;
  cardNumber: string;
}

export const EMPTY_ADDRESS: FormAddress = { name: "", line1: "", line2: "", postcode: "", city: "", country: "" };

/** The body: a guest's e-mail, the saved address or the typed one (trimmed), the method, and
 * the card number only for a method that takes one; a payment page comes back to the app.
 * The cart's voucher applies by itself. */
export function checkoutBody(form: CheckoutForm, guest: boolean, takesCard: boolean): CheckoutRequest {
  const address = trimmedAddress(form.address);
  return {
    ...(guest ? { email: form.email.trim() } : {}),
    ...(form.addressId === "new" ? { shipping_address: address } : { shipping_address_id: form.addressId }),
    ...(form.shippingMethodId ? { shipping_method_id: form.shippingMethodId } : {}),
    payment: takesCard
      ? { method: form.paymentMethod as CheckoutRequest["payment"]["method"], card_number: form.cardNumber }
      : { method: form.paymentMethod as CheckoutRequest["payment"]["method"] },
    return_to: "app", // a hosted payment page (Stripe) sends the customer back to this app
  };
}

/** An address as typed, each field trimmed: what the API is sent. */
export function trimmedAddress(address: FormAddress): Address {
  return Object.fromEntries(Object.entries(address).map(([key, value]) => [key, String(value).trim()])) as Address;
}

/** The country the quote is for: the saved address's, else the one typed. */
export function shippingCountry(form: CheckoutForm, saved: Schemas["SavedAddress"][]): Country | "" {
  if (form.addressId === "new") return form.address.country;
  return saved.find((address) => address.id === form.addressId)?.country ?? "";
}
