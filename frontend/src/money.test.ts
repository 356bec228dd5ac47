import { describe, expect, it } from "vitest";

import { formatMoney } from "./money";

describe("formatMoney", () => {
  it("formats minor units in the currency and the locale", () => {
    expect(formatMoney(1250, "EUR", "en-GB")).toBe("€12.50");
    expect(formatMoney(1250, "EUR", "de-DE")).toBe("12,50\u00a0€");
    expect(formatMoney(5, "USD", "en-US")).toBe("$0.05");
  });
});
