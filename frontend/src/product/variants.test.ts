import { describe, expect, it } from "vitest";

import type { Schemas } from "../api/client";
import { chosenVariant, initialChoice, inStockWith, soldWith } from "./variants";

function variant(id: number, size: string, colour: string, stock: number): Schemas["Variant"] {
  return {
    id,
    sku: `TS-${size}-${colour}`,
    price_cents: 1500,
    sale_price_cents: null,
    in_stock: stock > 0,
    stock,
    image_id: null,
    options: [
      { option: "Size", value: size },
      { option: "Colour", value: colour },
    ],
  };
}

const tshirt = {
  options: [
    { name: "Size", values: ["S", "M"] },
    { name: "Colour", values: ["red", "blue"] },
  ],
  variants: [variant(1, "S", "red", 2), variant(2, "S", "blue", 0), variant(3, "M", "red", 1)],
} as unknown as Schemas["Product"];

describe("chosenVariant", () => {
  it("is the variant with every chosen value", () => {
    expect(chosenVariant(tshirt, { Size: "M", Colour: "red" })?.id).toBe(3);
  });

  it("is undefined until every option is chosen, or for a combination not sold", () => {
    expect(chosenVariant(tshirt, { Size: "M" })).toBeUndefined();
    expect(chosenVariant(tshirt, { Size: "M", Colour: "blue" })).toBeUndefined();
  });
});

describe("what the picker offers", () => {
  it("tells values in stock with the other choices from those sold out or not sold", () => {
    expect(inStockWith(tshirt, { Size: "S" }, "Colour", "red")).toBe(true);
    expect(inStockWith(tshirt, { Size: "S" }, "Colour", "blue")).toBe(false);
    expect(soldWith(tshirt, { Size: "S" }, "Colour", "blue")).toBe(true);
    expect(soldWith(tshirt, { Size: "M" }, "Colour", "blue")).toBe(false);
  });

  it("starts from the variant asked for, or a product's only variant, else nothing", () => {
    expect(initialChoice(tshirt, 3)).toEqual({ Size: "M", Colour: "red" });
    expect(initialChoice(tshirt)).toEqual({});
    const simple = { options: [], variants: [{ ...variant(9, "", "", 1), options: [] }] };
    expect(chosenVariant(simple as unknown as Schemas["Product"], initialChoice(simple as never))?.id).toBe(9);
  });
});
