import type { Schemas } from "../api/client";

/** An order's status in words for the customer. */
export const STATUS_LABELS: Record<Schemas["Order"]["status"], string> = {
  pending_payment: "Waiting for payment",
  paid: "Paid",
  shipped: "Shipped",
  delivered: "Delivered",
  cancelled: "Cancelled",
  partially_refunded: "Partly refunded",
  refunded: "Refunded",
};
