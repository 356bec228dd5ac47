import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useEffect, useId, useState, type FormEvent } from "react";
import { Link, useSearchParams } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { ErrorAlert } from "../ErrorAlert";
import { formatMoney } from "../money";
import {
  parseState,
  toApiQuery,
  toSearchParams,
  toggled,
  withChange,
  type CatalogueState,
  type Sort,
} from "./query";
import { useTitle } from "../title";

const SORT_LABELS: Record<Sort, string> = {
  relevance: "Best match",
  name: "Name",
  price: "Price, lowest first",
  "-price": "Price, highest first",
  newest: "Newest",
};

/** Search, filters and pages over GET /api/v1/products, all of it in the address. */
export function CataloguePage() {
  const [params, setParams] = useSearchParams();
  const state = parseState(params);
  useTitle(state.q ? `“${state.q}”` : "Products");
  const change = (next: CatalogueState) => setParams(toSearchParams(next));

  const products = useQuery({
    queryKey: ["products", toApiQuery(state)],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/products", { params: { query: toApiQuery(state) }, signal })),
    placeholderData: keepPreviousData,
  });
  const page = products.data;

  return (
    <>
      <h1 className="h3 mb-3">Products</h1>
      <SearchForm q={state.q} onSearch={(q) => change(withChange(state, { q }))} />
      <div className="row g-4">
        <aside className="col-md-3" aria-label="Filters">
          <Filters state={state} facets={page?.facets} onChange={change} />
        </aside>
        <section className="col-md-9" aria-labelledby="result-count" aria-busy={products.isFetching}>
          {products.isError ? (
            <ErrorAlert error={products.error} />
          ) : !page ? (
            <p role="status">Loading products…</p>
          ) : (
            <>
              <div className="d-flex flex-wrap justify-content-between align-items-center mb-3 gap-2">
                <p id="result-count" className="mb-0" role="status">
                  {resultCount(page.total, page.total_capped, state.q)}
                </p>
                <SortSelect sort={state.sort} onChange={(sort) => change(withChange(state, { sort }))} />
              </div>
              <ProductGrid products={page.items} />
              <Pager
                page={state.page}
                pages={page.pages}
                onPage={(number) => {
                  change(withChange(state, { page: number }));
                  window.scrollTo(0, 0);
                }}
              />
            </>
          )}
        </section>
      </div>
    </>
  );
}

function resultCount(total: number, capped: boolean, q: string): string {
  const count = `${capped ? "More than " : ""}${total.toLocaleString()} ${total === 1 ? "product" : "products"}`;
  return q ? `${count} for “${q}”` : count;
}

function SearchForm({ q, onSearch }: { q: string; onSearch: (q: string) => void }) {
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]); // the back button changes the address
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onSearch(text.trim());
  };
  return (
    <form role="search" className="d-flex gap-2 mb-4" onSubmit={submit}>
      <label htmlFor="search" className="visually-hidden">
        Search
      </label>
      <input
        id="search"
        type="search"
        className="form-control"
        placeholder="Search products"
        maxLength={200}
        value={text}
        onChange={(event) => setText(event.target.value)}
      />
      <button type="submit" className="btn btn-primary">
        Search
      </button>
    </form>
  );
}

function SortSelect({ sort, onChange }: { sort: Sort; onChange: (sort: Sort) => void }) {
  const id = useId();
  return (
    <div className="d-flex align-items-center gap-2">
      <label htmlFor={id} className="text-nowrap">
        Sort by
      </label>
      <select id={id} className="form-select form-select-sm" value={sort} onChange={(e) => onChange(e.target.value as Sort)}>
        {Object.entries(SORT_LABELS).map(([value, label]) => (
          <option key={value} value={value}>
            {label}
          </option>
        ))}
      </select>
    </div>
  );
}

function Filters({
  state,
  facets,
  onChange,
}: {
  state: CatalogueState;
  facets: Schemas["Facets"] | undefined;
  onChange: (state: CatalogueState) => void;
}) {
  const categories = useQuery({
    queryKey: ["categories"],
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/categories", { signal })),
    staleTime: 5 * 60_000,
  });
  const counts = new Map(facets?.categories.map((c) => [c.id, c.count]));
  const filtered = state.category || state.inStock || state.options.length > 0;
  return (
    <>
      <div className="mb-3">
        <label htmlFor="category" className="form-label fw-semibold">
          Category
        </label>
        <select
          id="category"
          className="form-select"
          value={state.category}
          onChange={(event) => onChange(withChange(state, { category: event.target.value }))}
        >
          <option value="">All categories</option>
          {flatten(categories.data ?? []).map(({ node, depth }) => (
            <option key={node.slug} value={node.slug}>
              {"\u2003".repeat(depth)}
              {node.name}
              {counts.has(node.id) ? ` (${counts.get(node.id)})` : ""}
            </option>
          ))}
        </select>
      </div>
      <div className="form-check mb-3">
        <input
          id="in-stock"
          type="checkbox"
          className="form-check-input"
          checked={state.inStock}
          onChange={(event) => onChange(withChange(state, { inStock: event.target.checked }))}
        />
        <label htmlFor="in-stock" className="form-check-label">
          In stock only{facets ? ` (${facets.in_stock})` : ""}
        </label>
      </div>
      {facets?.options.map((facet) => (
        <fieldset key={facet.name} className="mb-3">
          <legend className="fs-6 fw-semibold">{facet.name}</legend>
          {facet.values.map((value) => (
            <div key={value.option} className="form-check">
              <input
                id={`option-${value.option}`}
                type="checkbox"
                className="form-check-input"
                checked={state.options.includes(value.option)}
                onChange={() => onChange(withChange(state, { options: toggled(state.options, value.option) }))}
              />
              <label htmlFor={`option-${value.option}`} className="form-check-label">
                {value.value} ({value.count})
              </label>
            </div>
          ))}
        </fieldset>
      ))}
      {filtered && (
        <button
          type="button"
          className="btn btn-outline-secondary btn-sm"
          onClick={() => onChange(withChange(state, { category: "", inStock: false, options: [] }))}
        >
          Clear filters
        </button>
      )}
    </>
  );
}

type CategoryNode = Schemas["CategoryNode"];

function flatten(nodes: CategoryNode[], depth = 0): { node: CategoryNode; depth: number }[] {
  return nodes.flatMap((node) => [{ node, depth }, ...flatten(node.children, depth + 1)]);
}

function ProductGrid({ products }: { products: Schemas["Product"][] }) {
  if (products.length === 0) {
    return <p>No products match. Try fewer words or clear the filters.</p>;
  }
  return (
    <ul id="products" className="row row-cols-2 row-cols-lg-3 g-3 list-unstyled">
      {products.map((product) => (
        <li key={product.id} className="col">
          <ProductCard product={product} />
        </li>
      ))}
    </ul>
  );
}

function ProductCard({ product }: { product: Schemas["Product"] }) {
  const picture = product.images[0]?.widths[0]?.webp ?? product.image_url;
  const price = formatMoney(product.price_cents, product.currency);
  return (
    <article className="card h-100">
      {picture && (
        <img src={picture} alt={product.images[0]?.alt ?? ""} className="card-img-top" loading="lazy" />
      )}
      <div className="card-body">
        <h2 className="h6 card-title">
          <Link to={`/products/${product.slug}`} className="stretched-link">
            {product.name}
          </Link>
        </h2>
        {product.sale_price_cents !== null ? (
          <p className="mb-0">
            <del>{price}</del>{" "}
            <strong className="text-danger">{formatMoney(product.sale_price_cents, product.currency)}</strong>
          </p>
        ) : (
          <p className="mb-0">{price}</p>
        )}
        {!product.in_stock && <span className="badge text-bg-secondary">Out of stock</span>}
      </div>
    </article>
  );
}

function Pager({ page, pages, onPage }: { page: number; pages: number; onPage: (page: number) => void }) {
  if (pages <= 1 && page <= 1) return null;
  return (
    <nav aria-label="Pages" className="d-flex justify-content-between align-items-center mt-4">
      <button type="button" className="btn btn-outline-primary" disabled={page <= 1} onClick={() => onPage(page - 1)}>
        Previous
      </button>
      <span>
        Page {page} of {Math.max(page, pages)}
      </span>
      <button
        type="button"
        className="btn btn-outline-primary"
        disabled={page >= pages}
        onClick={() => onPage(page + 1)}
      >
        Next
      </button>
    </nav>
  );
}
