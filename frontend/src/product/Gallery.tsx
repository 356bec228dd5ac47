import { useState } from "react";

import type { Schemas } from "../api/client";

type Image = Schemas["Image"];

/** The product's pictures: a large one and a button for each (the chosen variant's first). */
export function Gallery({ product, imageId }: { product: Schemas["Product"]; imageId: number | null }) {
  const [picked, setPicked] = useState<number | null>(null);
  const images = product.images;
  if (images.length === 0) {
    return product.image_url ? <img src={product.image_url} alt="" className="img-fluid rounded" /> : null;
  }
  // The chosen variant's picture until a thumbnail is clicked (a new variant remounts this).
  const shown = images.find((image) => image.id === (picked ?? imageId)) ?? images[0]!;
  return (
    <figure id="gallery">
      <Picture image={shown} sizes="(min-width: 768px) 50vw, 100vw" className="img-fluid rounded mb-2" />
      {images.length > 1 && (
        <div className="d-flex flex-wrap gap-2" role="group" aria-label="Pictures">
          {images.map((image, index) => (
            <button
              key={image.id}
              type="button"
              className={`btn p-0 border ${image.id === shown.id ? "border-primary" : ""}`}
              aria-pressed={image.id === shown.id}
              aria-label={`Picture ${index + 1}${image.alt ? `: ${image.alt}` : ""}`}
              onClick={() => setPicked(image.id)}
            >
              <Picture image={image} sizes="80px" className="thumbnail" />
            </button>
          ))}
        </div>
      )}
    </figure>
  );
}

function Picture({ image, sizes, className }: { image: Image; sizes: string; className: string }) {
  const srcset = (format: "webp" | "jpeg") => image.widths.map((w) => `${w[format]} ${w.width}w`).join(", ");
  const fallback = image.widths.at(-1);
  return (
    <picture>
      <source type="image/webp" srcSet={srcset("webp")} sizes={sizes} />
      <img
        src={fallback?.jpeg}
        srcSet={srcset("jpeg")}
        sizes={sizes}
        width={image.width}
        height={image.height}
        alt={image.alt}
        className={className}
      />
    </picture>
  );
}
