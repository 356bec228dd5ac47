import { QueryClient, QueryClientProvider } from "@tanstack/react-query";
import { BrowserRouter, Link, Route, Routes } from "react-router-dom";

import { ApiError } from "./api/client";
import { CataloguePage } from "./catalogue/CataloguePage";

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
          <nav className="container" aria-label="Main">
            <Link to="/" className="navbar-brand">
              Storefront
            </Link>
            <a href="/" className="nav-link">
              Classic shop
            </a>
          </nav>
        </header>
        <main className="container pb-5">
          <Routes>
            <Route path="/" element={<CataloguePage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        </main>
      </BrowserRouter>
    </QueryClientProvider>
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
