import { QueryClient, QueryClientProvider, useMutation, useQueryClient } from "@tanstack/react-query";
import { BrowserRouter, Link, Route, Routes, useNavigate } from "react-router-dom";

import { AccountPage } from "./account/AccountPage";
import { LoginPage, NewPasswordPage, RegisterPage, ResetPage } from "./account/AuthPages";
import { useMe } from "./account/queries";
import { securityPost } from "./account/security";
import { ApiError } from "./api/client";
import { CartPage } from "./cart/CartPage";
import { useCart } from "./cart/queries";
import { CataloguePage } from "./catalogue/CataloguePage";
import { CheckoutPage } from "./checkout/CheckoutPage";
import { CustomerOrderPage, GuestOrderPage } from "./orders/OrderPage";
import { ProductPage } from "./product/ProductPage";

const queryClient = new QueryClient({
  defaultOptions: {
    queries: {
      staleTime: 30_000,
      // A 4xx will be the same next time; a lost connection or a 503 may not.
      retry: (failures, error) => failures < 2 && !(error instanceof ApiError && error.status < 500),
    },
  },
});

export function App() {
  return (
    <QueryClientProvider client={queryClient}>
      <BrowserRouter basename="/app/">
        <header className="navbar navbar-expand border-bottom mb-4">
          <nav className="container flex-wrap" aria-label="Main">
            <Link to="/" className="navbar-brand">
              Storefront
            </Link>
            <div className="navbar-nav ms-auto flex-wrap column-gap-3 align-items-center">
              <CartLink />
              <AccountLinks />
              <a href="/" className="nav-link">
                Classic shop
              </a>
            </div>
          </nav>
        </header>
        <main className="container pb-5">
          <Routes>
            <Route path="/" element={<CataloguePage />} />
            <Route path="/products/:slug" element={<ProductPage />} />
            <Route path="/cart" element={<CartPage />} />
            <Route path="/checkout" element={<CheckoutPage />} />
            <Route path="/orders/guest/:link" element={<GuestOrderPage />} />
            <Route path="/login" element={<LoginPage />} />
            <Route path="/register" element={<RegisterPage />} />
            <Route path="/reset" element={<ResetPage />} />
            <Route path="/reset/:token" element={<NewPasswordPage />} />
            <Route path="/account" element={<AccountPage />} />
            <Route path="/account/orders/:number" element={<CustomerOrderPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </main>
      </BrowserRouter>
    </QueryClientProvider>
  );
}

function CartLink() {
  const cart = useCart();
  const count = cart.data?.items.reduce((sum, item) => sum + item.quantity, 0) ?? 0;
  return (
    <Link to="/cart" className="nav-link" id="cart-link">
      Cart{count > 0 && <span className="badge text-bg-primary ms-1">{count}</span>}
      {count > 0 && <span className="visually-hidden"> items</span>}
    </Link>
  );
}

function AccountLinks() {
  const me = useMe();
  const client = useQueryClient();
  const navigate = useNavigate();
  const logout = useMutation({
    mutationFn: () => securityPost("/logout", {}),
    onSuccess: () => {
      // Leave first, then forget the customer's data: resetting the queries of the page still
      // shown (the account) would ask for them again as a guest, and get 401.
      navigate("/");
      client.removeQueries();
    },
  });
  if (!me.data) {
    return (
      <Link to="/login" className="nav-link">
        Log in
      </Link>
    );
  }
  return (
    <>
      <Link to="/account" className="nav-link">
        Your account
      </Link>
      <button type="button" className="btn btn-link nav-link" onClick={() => logout.mutate()}>
        Log out
      </button>
    </>
  );
}

function NotFound() {
  return (
    <>
      <h1 className="h3">Page not found</h1>
      <p>
        <Link to="/">See all products</Link>
      </p>
    </>
  );
}
