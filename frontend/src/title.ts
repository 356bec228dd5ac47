import { useEffect } from "react";

/** The window's title for the screen shown: what screen readers announce and tabs show. */
export function useTitle(title: string) {
  useEffect(() => {
    document.title = title ? `${title} · Storefront` : "Storefront";
  }, [title]);
}
