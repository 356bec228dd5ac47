"""Uploaded media: where files are stored (``storage``) and how an upload becomes safe,
re-encoded images (``processing``). Knows nothing of products: the catalogue's services
(app/catalog/images.py) decide what is stored under which key."""
