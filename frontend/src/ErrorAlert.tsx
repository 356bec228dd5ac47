import { ApiError } from "./api/client";

/** What went wrong, in words, and what to do next; a 422's messages field by field. */
export function ErrorAlert({ error }: { error: Error }) {
  const message =
    error instanceof ApiError ? error.message : "The shop could not be reached. Check your connection and try again.";
  const fields = error instanceof ApiError ? Object.entries(error.fields) : [];
  return (
    <div className="alert alert-danger mt-2" role="alert">
      {message}
      {fields.length > 0 && (
        <ul className="mb-0">
          {fields.map(([field, messages]) => (
            <li key={field}>
              {field.replaceAll("_", " ").replaceAll(".", ": ")}: {messages.join(" ")}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}
