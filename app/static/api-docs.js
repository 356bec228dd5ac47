// Starts Swagger UI on /api/v1/docs. A static file, not an inline script: the CSP allows
// scripts from 'self' only. The document's URL comes from the container's data attribute.
"use strict";

window.addEventListener("DOMContentLoaded", () => {
  const container = document.getElementById("swagger-ui");
  const csrfToken = document.querySelector('meta[name="csrf-token"]').content;

  // "Try it out" while logged in rides on the session cookie, so writes need the CSRF header;
  // token requests (Authorize button) need none.
  function addCsrfHeader(request) {
    const method = (request.method || "GET").toUpperCase(); // the document fetch has none
    const safe = ["GET", "HEAD", "OPTIONS"].includes(method);
    if (!safe && !("Authentication-Token" in request.headers)) {
      request.headers["X-CSRF-Token"] = csrfToken;
    }
    return request;
  }

  window.ui = SwaggerUIBundle({
    url: container.dataset.specUrl,
    domNode: container,
    deepLinking: true,
    presets: [SwaggerUIBundle.presets.apis],
    layout: "BaseLayout",
    validatorUrl: null, // never send the document to validator.swagger.io
    requestInterceptor: addCsrfHeader,
  });
});
