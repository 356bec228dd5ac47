import { describe, expect, it } from "vitest";

import { checkoutBody, EMPTY_ADDRESS, shippingCountry, type CheckoutForm } from "./body";

const form: CheckoutForm = {
  email: " guest@example.com ",
  addressId: "new",
  address: { ...EMPTY_ADDRESS, name: " Ada ", line1: "Unter den Linden 1", postcode: "10117", city: "Berlin", country: "DE" },
  shippingMethodId: 2,
  paymentMethod: "test",
  cardNumber: "4242 4242 4242 4242",
};

describe("checkoutBody", () => {
  it("gives a guest's e-mail and the typed address, trimmed, and the card for a card method", () => {
    expect(checkoutBody(form, true, true)).toEqual({
      email: "guest@example.com",
      shipping_address: { name: "Ada", line1: "Unter den Linden 1", line2: "", postcode: "10117", city: "Berlin", country: "DE" },
      shipping_method_id: 2,
      payment: { method: "test", card_number: "4242 4242 4242 4242" },
      return_to: "app",
    });
  });

  it("gives a customer's saved address by id, no e-mail, and no card for a bank transfer", () => {
    expect(checkoutBody({ ...form, addressId: 7, paymentMethod: "manual" }, false, false)).toEqual({
      shipping_address_id: 7,
      shipping_method_id: 2,
      payment: { method: "manual" },
      return_to: "app",
    });
  });
});

describe("shippingCountry", () => {
  const saved = [{ id: 7, country: "AT" }] as never;
  it("is the saved address's country, or the typed one", () => {
    expect(shippingCountry({ ...form, addressId: 7 }, saved)).toBe("AT");
    expect(shippingCountry(form, saved)).toBe("DE");
  });
});
