/**
 * The catalogue's state lives in the address (/app/?q=tea&in_stock=1&page=2), as on the HTML
 * shop: a listing can be shared, reloaded and walked with the back button. These functions
 * turn the address into the API's query and back; they are the only place that knows both.
 */
import type { paths } from "../api/schema";

export type ProductsQuery = NonNullable<paths["/api/v1/products"]["get"]["parameters"]["query"]>;
export type Sort = NonNullable<ProductsQuery["sort"]>;

export const SORTS: readonly Sort[] = ["relevance", "name", "price", "-price", "newest"];
export const PER_PAGE = 24;

export interface CatalogueState {
  q: string;
  category: string;
  inStock: boolean;
  /** The chosen option values, as the API's ?option= takes them ("size:m"). */
  options: string[];
  sort: Sort;
  page: number;
}

function positiveInt(value: string | null): number {
  const number = Number(value);
  return Number.isSafeInteger(number) && number >= 1 ? number : 1;
}

/** The state an address holds; anything it cannot read is left at its default. */
export function parseState(params: URLSearchParams): CatalogueState {
  const sort = params.get("sort") as Sort | null;
  return {
    q: (params.get("q") ?? "").trim(),
    category: params.get("category") ?? "",
    inStock: params.get("in_stock") === "1",
    options: [...new Set(params.getAll("option").filter((option) => option.includes(":")))].sort(),
    sort: sort && SORTS.includes(sort) ? sort : "relevance",
    page: positiveInt(params.get("page")),
  };
}

/** The address of a state: only what differs from the defaults, in a stable order. */
export function toSearchParams(state: CatalogueState): URLSearchParams {
  const params = new URLSearchParams();
  if (state.q) params.set("q", state.q);
  if (state.category) params.set("category", state.category);
  if (state.inStock) params.set("in_stock", "1");
  for (const option of [...state.options].sort()) params.append("option", option);
  if (state.sort !== "relevance") params.set("sort", state.sort);
  if (state.page > 1) params.set("page", String(state.page));
  return params;
}

/** The API's query for a state: one page of products and the facet counts. */
export function toApiQuery(state: CatalogueState): ProductsQuery {
  return {
    q: state.q || undefined,
    category: state.category || undefined,
    in_stock: state.inStock || undefined,
    option: state.options.length ? state.options : undefined,
    sort: state.sort,
    page: state.page,
    per_page: PER_PAGE,
    facets: true,
  };
}

/** A new state with one change; any change but the page's goes back to the first page. */
export function withChange(state: CatalogueState, change: Partial<CatalogueState>): CatalogueState {
  return { ...state, page: 1, ...change };
}

export function toggled(options: string[], option: string): string[] {
  return options.includes(option) ? options.filter((o) => o !== option) : [...options, option];
}
