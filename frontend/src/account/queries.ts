/** Who is calling: a customer (GET /api/v1/me), or null for a guest. */
import { useQuery } from "@tanstack/react-query";

import { ApiError, api, readCookie, unwrap } from "../api/client";

/** The shop's "signed in" mark (app/accounts/menu.py): no secret, readable by scripts. A
 * browser without it is a guest's, and is not asked about (no 401 on every visit). */
const MEMBER_COOKIE = "member";

export const ME = ["me"] as const;

export function useMe() {
  return useQuery({
    queryKey: ME,
    queryFn: async ({ signal }) => {
      if (!readCookie(document.cookie, MEMBER_COOKIE)) return null;
      try {
        return unwrap(await api.GET("/api/v1/me", { signal }));
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null; // a guest
        throw error;
      }
    },
    staleTime: 60_000,
  });
}
