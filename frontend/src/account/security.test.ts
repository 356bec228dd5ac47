import { describe, expect, it } from "vitest";

import { securityError } from "./security";

describe("securityError", () => {
  it("says each of Flask-Security's messages once", () => {
    const error = securityError(400, {
      errors: ["Invalid password"],
      field_errors: { password: ["Invalid password"], email: ["Not an e-mail."] },
    });
    expect(error).toMatchObject({ status: 400, message: "Invalid password Not an e-mail." });
  });

  it("falls back to what to do", () => {
    expect(securityError(502, undefined).message).toBe("The shop answered 502. Try again in a moment.");
  });
});
