// Pages shared by every visitor (app/page_cache.py) carry no CSRF token in their forms: this
// fetches the visitor's own before such a form is sent. Pages made for one visitor have theirs.
(() => {
  const tokenUrl = document.currentScript.dataset.csrfUrl;
  document.addEventListener("submit", async (event) => {
    const input = event.target.querySelector('input[name="csrf_token"]');
    if (!input || input.value) return;
    event.preventDefault();
    try {
      const response = await fetch(tokenUrl, { credentials: "same-origin" });
      if (response.ok) input.value = (await response.json()).csrf_token;
    } finally {
      // Sent either way: without a token the server answers with its explanation.
      input.value ||= "-";
      event.target.requestSubmit(event.submitter);
    }
  });
})();
