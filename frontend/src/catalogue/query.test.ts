import { describe, expect, it } from "vitest";

import { parseState, toApiQuery, toSearchParams, toggled, withChange } from "./query";

const parse = (search: string) => parseState(new URLSearchParams(search));

describe("the catalogue's address", () => {
  it("reads every filter", () => {
    expect(parse("q=+tea+&category=drinks&in_stock=1&option=size:m&option=colour:red&sort=-price&page=3")).toEqual({
      q: "tea",
      category: "drinks",
      inStock: true,
      options: ["colour:red", "size:m"],
      sort: "-price",
      page: 3,
    });
  });

  it("falls back to the defaults on what it cannot read", () => {
    expect(parse("page=-2&sort=cheapest&in_stock=yes&option=nocolon&option=size:m&option=size:m")).toEqual({
      q: "",
      category: "",
      inStock: false,
      options: ["size:m"],
      sort: "relevance",
      page: 1,
    });
    expect(parse("page=1.5").page).toBe(1);
    expect(parse("page=99999999999999999999").page).toBe(1);
  });

  it("writes only what differs from the defaults, and reads back the same state", () => {
    const state = parse("option=size:s&q=shirt&page=2&in_stock=1");
    expect(toSearchParams(state).toString()).toBe("q=shirt&in_stock=1&option=size%3As&page=2");
    expect(parse(toSearchParams(state).toString())).toEqual(state);
    expect(toSearchParams(parse("")).toString()).toBe("");
  });
});

describe("changes", () => {
  it("go back to the first page, except a change of page", () => {
    const state = parse("q=tea&page=4");
    expect(withChange(state, { inStock: true })).toMatchObject({ page: 1, inStock: true, q: "tea" });
    expect(withChange(state, { page: 5 }).page).toBe(5);
  });

  it("toggle an option value on and off", () => {
    expect(toggled(["size:m"], "size:l")).toEqual(["size:m", "size:l"]);
    expect(toggled(["size:m", "size:l"], "size:m")).toEqual(["size:l"]);
  });
});

describe("the API's query", () => {
  it("asks for one page with the facets, leaving out empty filters", () => {
    expect(toApiQuery(parse("page=2"))).toEqual({
      q: undefined,
      category: undefined,
      in_stock: undefined,
      option: undefined,
      sort: "relevance",
      page: 2,
      per_page: 24,
      facets: true,
    });
    expect(toApiQuery(parse("q=tea&option=size:m&in_stock=1"))).toMatchObject({
      q: "tea",
      option: ["size:m"],
      in_stock: true,
    });
  });
});
