/** The caller's cart (a guest's through the cart cookie the API sets, a customer's by the session). */
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";

import { api, unwrap } from "../api/client";

export const CART = ["cart"] as const;

export function useCart() {
  return useQuery({
    queryKey: CART,
    queryFn: async ({ signal }) => unwrap(await api.GET("/api/v1/cart", { signal })),
    staleTime: 0,
  });
}

/** A change to the cart: its answer is the cart as it is now. */
function useCartChange<T>(change: (input: T) => Promise<unknown>) {
  const client = useQueryClient();
  return useMutation({
    mutationFn: change,
    onSuccess: (cart) => client.setQueryData(CART, cart),
    onSettled: () => client.invalidateQueries({ queryKey: ["quote"] }),
  });
}

export function useAddToCart() {
  return useCartChange(async ({ variantId, quantity }: { variantId: number; quantity: number }) =>
    unwrap(await api.POST("/api/v1/cart/items", { body: { variant_id: variantId, quantity } })),
  );
}

export function useSetQuantity() {
  return useCartChange(async ({ variantId, quantity }: { variantId: number; quantity: number }) =>
    unwrap(
      await api.PATCH("/api/v1/cart/lines/{variant_id}", {
        params: { path: { variant_id: variantId } },
        body: { quantity },
      }),
    ),
  );
}

export function useRemoveLine() {
  return useCartChange(async (variantId: number) =>
    unwrap(
      await api.DELETE("/api/v1/cart/lines/{variant_id}", { params: { path: { variant_id: variantId } } }),
    ),
  );
}

export function useApplyVoucher() {
  return useCartChange(async (code: string) =>
    unwrap(await api.POST("/api/v1/cart/voucher", { body: { code } })),
  );
}

export function useRemoveVoucher() {
  return useCartChange(async () => unwrap(await api.DELETE("/api/v1/cart/voucher")));
}
