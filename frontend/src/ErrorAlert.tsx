import { ApiError } from "./api/client";

/** What went wrong, in words, and what to do next. */
export function ErrorAlert({ error }: { error: Error }) {
  const message =
    error instanceof ApiError ? error.message : "The shop could not be reached. Check your connection and try again.";
  return (
    <div className="alert alert-danger" role="alert">
      {message}
    </div>
  );
}
