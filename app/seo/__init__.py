"""Search engines and sharing: robots.txt, the sitemaps, and what a page tells crawlers and
link previews (its canonical URL, OpenGraph tags, schema.org JSON-LD)."""
