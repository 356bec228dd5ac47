import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { Link, useParams, useSearchParams } from "react-router-dom";

import { api, unwrap, type Schemas } from "../api/client";
import { useAddToCart } from "../cart/queries";
import { ErrorAlert } from "../ErrorAlert";
import { formatMoney } from "../money";
import { Gallery } from "./Gallery";
import { chosenVariant, initialChoice, inStockWith, soldWith, type Choice } from "./variants";
import { useTitle } from "../title";

/** One product: its gallery, the variant picker and the cart button (GET /api/v1/products/{slug}). */
export function ProductPage() {
  const { slug = "" } = useParams();
  const product = useQuery({
    queryKey: ["product", slug],
    queryFn: async ({ signal }) =>
      unwrap(await api.GET("/api/v1/products/{slug}", { params: { path: { slug } }, signal })),
  });
  if (product.isError) return <ErrorAlert error={product.error} />;
  if (!product.data) return <p role="status">Loading…</p>;
  return <ProductView key={product.data.id} product={product.data} />;
}

function ProductView({ product }: { product: Schemas["Product"] }) {
  useTitle(product.name);
  const [params, setParams] = useSearchParams();
  const [choice, setChoice] = useState<Choice>(() => initialChoice(product, Number(params.get("variant"))));
  const variant = chosenVariant(product, choice);
  const choose = (option: string, value: string) => {
    const next = { ...choice, [option]: value };
    setChoice(next);
    const chosen = chosenVariant(product, next);
    setParams(chosen ? { variant: String(chosen.id) } : {}, { replace: true }); // shareable
  };
  const regular = variant?.price_cents ?? product.price_cents;
  const now = variant ? variant.sale_price_cents : product.sale_price_cents;

  return (
    <>
      <nav aria-label="Breadcrumb">
        <ol className="breadcrumb">
          <li className="breadcrumb-item">
            <Link to="/">Products</Link>
          </li>
          {product.category && (
            <li className="breadcrumb-item">
              <Link to={`/?category=${encodeURIComponent(product.category.slug)}`}>{product.category.name}</Link>
            </li>
          )}
          <li className="breadcrumb-item active" aria-current="page">
            {product.name}
          </li>
        </ol>
      </nav>
      <div className="row g-4">
        <div className="col-md-6">
          <Gallery key={variant?.image_id ?? "none"} product={product} imageId={variant?.image_id ?? null} />
        </div>
        <div className="col-md-6">
          <h1 className="h2">{product.name}</h1>
          <p className="fs-4" id="price">
            {now !== null ? (
              <>
                <del>{formatMoney(regular, product.currency)}</del>{" "}
                <strong className="text-danger">{formatMoney(now, product.currency)}</strong>
                {product.sale && <span className="badge text-bg-danger ms-2">−{product.sale.percent}%</span>}
              </>
            ) : (
              formatMoney(regular, product.currency)
            )}
          </p>
          {product.options.map((option) => (
            <fieldset key={option.name} className="mb-3">
              <legend className="fs-6 fw-semibold">{option.name}</legend>
              <div className="d-flex flex-wrap gap-2">
                {option.values.map((value) => {
                  const id = `option-${option.name}-${value}`;
                  const sold = soldWith(product, choice, option.name, value);
                  const inStock = inStockWith(product, choice, option.name, value);
                  return (
                    <span key={value}>
                      <input
                        type="radio"
                        className="btn-check"
                        name={option.name}
                        id={id}
                        checked={choice[option.name] === value}
                        disabled={!sold}
                        onChange={() => choose(option.name, value)}
                      />
                      <label className={`btn ${inStock ? "btn-outline-dark" : "btn-outline-secondary"}`} htmlFor={id}>
                        {value}
                        {sold && !inStock && <span className="visually-hidden"> (sold out)</span>}
                      </label>
                    </span>
                  );
                })}
              </div>
            </fieldset>
          ))}
          <AddToCart variant={variant} />
          <p className="mt-4">
            {product.description}
          </p>
        </div>
      </div>
    </>
  );
}

function AddToCart({ variant }: { variant: Schemas["Variant"] | undefined }) {
  const [quantity, setQuantity] = useState(1);
  const add = useAddToCart();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (variant) add.mutate({ variantId: variant.id, quantity });
  };
  const status = !variant ? "Choose an option of each kind." : variant.in_stock ? `${variant.stock} in stock` : "Sold out";
  return (
    <form onSubmit={submit} className="mb-3">
      <p id="availability" className={variant?.in_stock ? "text-success" : "text-secondary"}>
        {status}
      </p>
      <div className="d-flex gap-2 align-items-end">
        <div>
          <label htmlFor="quantity" className="form-label">
            Quantity
          </label>
          <input
            id="quantity"
            type="number"
            className="form-control"
            min={1}
            max={Math.max(1, variant?.stock ?? 1)}
            value={quantity}
            onChange={(event) => setQuantity(Math.max(1, Math.floor(Number(event.target.value)) || 1))}
          />
        </div>
        <button type="submit" className="btn btn-primary" disabled={!variant?.in_stock || add.isPending}>
          Add to cart
        </button>
      </div>
      <div aria-live="polite" className="mt-3">
        {add.isError && <ErrorAlert error={add.error} />}
        {add.isSuccess && (
          <div className="alert alert-success">
            Added to your cart. <Link to="/cart">See your cart</Link>
          </div>
        )}
      </div>
    </form>
  );
}
