import { describe, expect, it } from "vitest";

import { ApiError, readCookie, unwrap } from "./client";

describe("readCookie", () => {
  it("finds a cookie among others and decodes it", () => {
    expect(readCookie("a=1; XSRF-TOKEN=Ijk%3D.x; b=2", "XSRF-TOKEN")).toBe("Ijk=.x");
  });

  it("keeps '=' inside the value", () => {
    expect(readCookie("XSRF-TOKEN=abc==", "XSRF-TOKEN")).toBe("abc==");
  });

  it("is undefined for a missing cookie or a name that is only a prefix", () => {
    expect(readCookie("", "XSRF-TOKEN")).toBeUndefined();
    expect(readCookie("XSRF-TOKEN-OLD=1", "XSRF-TOKEN")).toBeUndefined();
  });
});

describe("unwrap", () => {
  const response = (status: number) => new Response(null, { status });

  it("returns the data of a success", () => {
    expect(unwrap({ data: { id: 1 }, response: response(200) })).toEqual({ id: 1 });
  });

  it("throws the API's error with its message, code and fields", () => {
    const error = {
      error: { status: 422, code: "invalid", message: "Check the form.", fields: { q: ["Too long."] } },
    };
    const thrown = (() => {
      try {
        unwrap({ error, response: response(422) });
      } catch (caught) {
        return caught;
      }
    })();
    expect(thrown).toBeInstanceOf(ApiError);
    expect(thrown).toMatchObject({ status: 422, code: "invalid", message: "Check the form." });
    expect((thrown as ApiError).fields).toEqual({ q: ["Too long."] });
  });

  it("says what to do when the body is not the API's (a proxy's 502)", () => {
    expect(() => unwrap({ error: "Bad Gateway", response: response(502) })).toThrow(
      "The shop answered 502. Try again in a moment.",
    );
  });
});
