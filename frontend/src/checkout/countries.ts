/** The countries an address may name, in the visitor's language (GET /api/v1/countries). */
import { useQuery } from "@tanstack/react-query";

import { api, unwrap } from "../api/client";

export function useCountries() {
  return useQuery({
    queryKey: ["countries"],
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/countries", { signal })),
    staleTime: Infinity,
  });
}

/** A country's name once the list has come, its code until then. */
export function useCountryName(code: string): string {
  return useCountries().data?.find((country) => country.code === code)?.name ?? code;
}
