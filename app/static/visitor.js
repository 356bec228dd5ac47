// Pages shared by every visitor (app/page_cache.py) carry nobody's parts. This script adds the
// visitor's own: a form's CSRF token, fetched before the form is sent, and, in a browser
// signed in (the "member" cookie, app/accounts/menu.py), the member's links in the header.
// Pages made for one visitor have theirs already.
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

  const nav = document.getElementById("visitor-nav");
  const memberNav = document.getElementById("member-nav");
  if (!nav || !nav.dataset.menuUrl || !memberNav) return;
  if (!/(?:^|;\s*)member=1(?:;|$)/.test(document.cookie)) return;

  const showMember = (member) => {
    const links = memberNav.content.cloneNode(true);
    if (!member.admin) links.querySelectorAll(".admin-only").forEach((item) => item.remove());
    document.querySelectorAll(".visitor-only").forEach((item) => item.remove());
    nav.append(links);
    document.querySelectorAll(".member-email").forEach((item) => {
      item.textContent = member.email;
    });
    document.querySelectorAll(".member-only").forEach((item) => {
      item.hidden = false;
    });
  };

  fetch(nav.dataset.menuUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then((response) => (response.ok ? response.json() : null))
    .then((member) => {
      if (member && member.email) showMember(member);
      else if (member) document.cookie = "member=; Max-Age=0; Path=/; SameSite=Lax"; // signed out
    })
    .catch(() => {}); // offline: the page stays as every visitor sees it
})();
