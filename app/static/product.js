// The product page: picking a variant's options shows that variant's image in the gallery (its
// row in the variants table names it: data-values, the option value ids; data-image, the
// gallery item). Without this script the variants table links to each variant's image.
(() => {
  const form = document.getElementById("add-to-cart");
  const gallery = document.getElementById("gallery");
  if (!form || !gallery) return;
  const selects = [...form.querySelectorAll('select[name^="option_"]')];
  if (!selects.length) return;

  const show = () => {
    const chosen = selects.map((select) => select.value).sort((a, b) => a - b).join(",");
    const row = document.querySelector(`#variants tr[data-values="${chosen}"]`);
    const item = row && row.dataset.image && document.getElementById(row.dataset.image);
    if (!item) return;
    gallery.scrollTo({ left: item.offsetLeft, behavior: "smooth" });
    gallery.querySelectorAll(".gallery-item").forEach((each) => {
      if (each === item) each.setAttribute("aria-current", "true");
      else each.removeAttribute("aria-current"); // an empty aria-current means false
    });
  };
  selects.forEach((select) => select.addEventListener("change", show));
})();
