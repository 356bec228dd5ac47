/** The customer's address book (GET /api/v1/addresses): the checkout's and the account's. */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../api/client";

export const ADDRESSES = ["addresses"] as const;

export function useAddresses(enabled = true) {
  return useQuery({
    queryKey: ADDRESSES,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/addresses", { signal })),
    enabled,
  });
}
