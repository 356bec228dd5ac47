// The storefront app: built into dist/ for Flask to serve under /app/ (app/frontend.py), or
// served by `make frontend-dev` on :5173 with everything else proxied to Flask on :5000.
import react from "@vitejs/plugin-react";
import { defineConfig } from "vitest/config";

const flask = process.env.FLASK_URL ?? "http://127.0.0.1:5000";

export default defineConfig({
  base: "/app/",
  plugins: [react()],
  build: {
    outDir: "dist",
    emptyOutDir: true,
    // Everything in files with a digest in their names: no inline script or style for the
    // CSP to refuse, and assets that browsers may keep a year.
    assetsInlineLimit: 0,
  },
  server: {
    host: "127.0.0.1",
    port: 5173,
    strictPort: true,
    fs: { allow: [".", "../app/static"] }, // the shop's favicon, shared with the HTML site
    // The same origin for the browser, so session and XSRF-TOKEN cookies work as under Flask:
    // everything but the app itself (Vite serves all of it under /app/) goes to Flask.
    proxy: { "^/(?!app(/|$))": { target: flask } },
  },
  test: {
    include: ["src/**/*.test.ts"],
  },
});
