"""Safe defaults. Secrets live in instance/application.cfg.py; environment variables override.

Every key here can be overridden by an environment variable prefixed ``STOREFRONT_``
(``STOREFRONT_SECURITY_CONFIRMABLE=false``), and a few common ones without prefix
(see ``app_factory.ENV_NAMES``).
"""

ENV = "development"  # "production": secure cookies, HSTS, TRUSTED_HOSTS, start-up checks
SECRET_KEY = None  # instance/application.cfg.py
SQLALCHEMY_DATABASE_URI = "sqlite:///storefront.db"  # relative: lives in instance/
SQLALCHEMY_ENGINE_OPTIONS = {"pool_pre_ping": True}  # a connection lost in an outage is replaced
DATABASE_RETRY_AFTER = 10  # seconds, in the Retry-After of the 503 answered while the DB is down
# A unit of work (app/transactions.py) that meets a deadlock or lock-wait timeout runs again,
# up to TRANSACTION_ATTEMPTS times in all, after a random pause of up to
# TRANSACTION_BACKOFF * 2**(attempt - 1) seconds; then the answer is 503 with this Retry-After.
TRANSACTION_ATTEMPTS = 4
TRANSACTION_BACKOFF = 0.05
TRANSACTION_RETRY_AFTER = 1

# Sessions and cookies (Secure is added in production by the factory)
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = False
REMEMBER_COOKIE_HTTPONLY = True
REMEMBER_COOKIE_SAMESITE = "Lax"
REMEMBER_COOKIE_SECURE = False
REMEMBER_COOKIE_DURATION = 60 * 60 * 24 * 30  # seconds "remember me" lasts (Flask-Login)
PREFERRED_URL_SCHEME = "http"
# Proxies in front of the app (werkzeug ProxyFix). PROXY_FIX_X_FOR: how many set
# X-Forwarded-For and X-Forwarded-Proto (0: none, trust neither). PROXY_FIX_X_HOST: how many
# set X-Forwarded-Host (0: never trust it; links come from SITE_URL anyway).
PROXY_FIX_X_FOR = 0
PROXY_FIX_X_HOST = 0
# Hosts this app answers (Flask; port ignored, ".example.com" also matches subdomains). None:
# any host in development; in production the factory sets [SITE_URL's host].
TRUSTED_HOSTS = None
# Request bodies over this many bytes get 413 before they are read (uwsgi.ini: limit-post).
# Chunked bodies (no Content-Length) too: 413 once they pass it, never cut (app/wrappers.py).
MAX_CONTENT_LENGTH = 1024 * 1024
# JSON bodies nesting arrays and objects deeper than this are 400, before they are parsed
# (about 1,000 levels would exhaust Python's recursion limit in the parser).
JSON_MAX_DEPTH = 32

# CSRF on every form and every session-authenticated POST. Flask-Security drives the
# checks (SECURITY_CSRF_PROTECT_MECHANISMS), so the global check is off; the pages
# blueprint checks every unsafe request itself (app/pages.py).
WTF_CSRF_ENABLED = True
WTF_CSRF_CHECK_DEFAULT = False
WTF_CSRF_TIME_LIMIT = None  # the token lives as long as the session

# Flask-Security-Too
SECURITY_PASSWORD_HASH = "bcrypt"  # nosec B105  # a hash scheme's name, not a password
SECURITY_PASSWORD_SALT = None  # instance/application.cfg.py
SECURITY_PASSWORD_LENGTH_MIN = 8
SECURITY_PASSWORD_COMPLEXITY_CHECKER = "zxcvbn"  # nosec B105  # a checker's name
SECURITY_ZXCVBN_MINIMUM_SCORE = 3
SECURITY_EMAIL_VALIDATOR_ARGS = {"check_deliverability": False}  # no DNS look-ups
SECURITY_REGISTERABLE = True
SECURITY_CONFIRMABLE = True  # False: users may log in without confirming their e-mail
SECURITY_RECOVERABLE = True
SECURITY_CHANGEABLE = True
SECURITY_TRACKABLE = True
SECURITY_TWO_FACTOR = True
SECURITY_TWO_FACTOR_ENABLED_METHODS = ["authenticator"]
SECURITY_TWO_FACTOR_ALWAYS_VALIDATE = True
SECURITY_MULTI_FACTOR_RECOVERY_CODES = True
# Fernet keys (first one encrypts, all decrypt: prepend a new key to rotate). Without a key
# the codes are stored in plain text; production refuses to start without one.
SECURITY_MULTI_FACTOR_RECOVERY_CODES_KEYS = None  # instance/application.cfg.py
SECURITY_TOTP_ISSUER = "Storefront"
SECURITY_TOTP_SECRETS = None  # instance/application.cfg.py
SECURITY_SEND_REGISTER_EMAIL = True  # the welcome mail carries the confirmation link
SECURITY_POST_LOGIN_VIEW = "/account"
SECURITY_POST_REGISTER_VIEW = "/"
SECURITY_POST_CONFIRM_VIEW = "/login"
SECURITY_REDIRECT_ALLOW_SUBDOMAINS = False
SECURITY_CSRF_PROTECT_MECHANISMS = ["session", "basic"]  # token auth needs no CSRF
# Single-page apps (the React storefront, frontend/), as Flask-Security documents: the CSRF
# token in this cookie, which JavaScript reads and sends back in the X-XSRF-Token header
# (SECURITY_CSRF_HEADER, which Flask-Security adds to WTF_CSRF_HEADERS). Set at login and by
# a JSON GET /login (how the app gets one before logging in), removed at logout. Secure in
# production (the factory adds it).
SECURITY_CSRF_COOKIE_NAME = "XSRF-TOKEN"
SECURITY_CSRF_COOKIE = {"samesite": "Strict", "httponly": False, "secure": False}
# An API token is never a fresh login: disabling 2FA, recovery codes, password and e-mail
# changes need a browser session (Flask-Security's own views accept only "session").
SECURITY_FRESHNESS_ALLOW_AUTH_TOKEN = False
SECURITY_API_ENABLED_METHODS = ["session"]
SECURITY_CACHE_CONTROL = {"private": None, "no-store": None}
SECURITY_TOKEN_MAX_AGE = 60 * 60 * 24  # API tokens expire after a day
SECURITY_RETURN_GENERIC_RESPONSES = False  # deliberate: a shop tells "already registered"
SECURITY_EMAIL_SENDER = "Storefront <no-reply@localhost>"
SECURITY_MSG_UNAUTHENTICATED = ("Please log in to see this page.", "info")

# Mail (Flask-Mailman). Development writes one .eml file per message to instance/outbox/.
MAIL_BACKEND = "app.mail.EmailBackend"
MAIL_FILE_PATH = None  # default: <instance>/outbox
MAIL_SERVER = "localhost"
MAIL_PORT = 25
MAIL_USE_TLS = False
MAIL_USE_SSL = False
MAIL_USERNAME = None
MAIL_PASSWORD = None
MAIL_DEFAULT_SENDER = SECURITY_EMAIL_SENDER

# Rate limits (Flask-Limiter). Use redis://... in production so all workers share counts.
RATELIMIT_STORAGE_URI = "memory://"
# Background jobs (app/jobs/, Celery): e-mails. True runs each job inline once its transaction
# commits, in the process that made it (no Redis, no worker: make run). False queues it on
# JOBS_BROKER_URL for `make worker`, retried after each of JOBS_RETRY_DELAYS seconds (then
# kept as failed, for an admin to retry); a job a dead worker held runs again after
# JOBS_VISIBILITY_TIMEOUT seconds.
JOBS_EAGER = True
JOBS_BROKER_URL = "redis://127.0.0.1:6379/2"
JOBS_RETRY_DELAYS = [10, 30, 90, 270, 810, 2430]  # exponential: x3 each time, 1 h in all
JOBS_VISIBILITY_TIMEOUT = 600
# The workers' timetable (JOBS_EAGER = False): job -> cron line (SHOP_TIMEZONE) or seconds.
# One worker's scheduler runs it; another takes over JOBS_SCHEDULER_TAKEOVER seconds after
# that worker stops. Inline (JOBS_EAGER = True), run the same commands from cron instead.
JOBS_SCHEDULE = {
    "orders.expire": "*/5 * * * *",  # python dbmanager.py orders expire
    "cart.purge": "30 3 * * *",  # python dbmanager.py cart purge
    "jobs.purge": "45 3 * * *",  # python dbmanager.py jobs purge
}
JOBS_SCHEDULER_TAKEOVER = 60
JOBS_SENT_MAIL_DAYS = 30  # how long an e-mail's sent-once key is kept (longer than retries)
RATELIMIT_HEADERS_ENABLED = True
RATELIMIT_LOGIN_FAILURES = "10 per minute"  # failed logins / token requests per client
RATELIMIT_ACCOUNT_EMAILS = "60 per hour"  # register, reset, confirmation resend per client
# Guest checkouts (web and API, every attempt): per client address and per e-mail address.
RATELIMIT_GUEST_CHECKOUT = "20 per hour"
RATELIMIT_VOUCHER_GUESSES = "10 per minute"  # refused voucher codes per client

# The page cache (app/page_cache.py): whole catalogue responses for anonymous visitors, served
# without running the app, and started afresh by every catalogue write. The store is
# Flask-Caching's: Redis at CACHE_REDIS_URL, shared by every worker and app server (several
# servers need it); without it, under uwsgi, uwsgi's shared memory (uwsgi.ini's cache2, every
# worker of the machine); else the process's memory (SimpleCache, `make run`). Several
# processes with none of those to share (another server) serve without it, with a warning.
PAGE_CACHE = True
CACHE_REDIS_URL = None  # e.g. redis://127.0.0.1:6379/1
CACHE_TYPE = None  # None: chosen as above (app_factory._choose_cache)
CACHE_UWSGI_NAME = "storefront"  # the cache2 name in uwsgi.ini
CACHE_OPTIONS: dict = {}
CACHE_DEFAULT_TIMEOUT = 300  # seconds an entry lives at most
CACHE_THRESHOLD = 1000  # entries SimpleCache keeps
CACHE_KEY_PREFIX = "storefront:"

# Observability. /metrics (Prometheus's text format; app/metrics.py) answers loopback callers
# that came through no proxy, and callers sending `Authorization: Bearer <METRICS_TOKEN>`;
# anyone else gets 404. None: loopback only. A secret: instance/application.cfg.py. Under uwsgi,
# set PROMETHEUS_MULTIPROC_DIR in the environment (an empty directory) so workers add up.
METRICS_TOKEN = None
# Logs (app/logs.py) go to stderr (uwsgi's log): "text" lines, or "json", one object a line
# (time, level, logger, message, request_id, user_id, order, job) for a log shipper. None: json
# in production, text elsewhere. Card numbers, passwords, tokens and secrets are redacted.
LOG_FORMAT = None
LOG_LEVEL = None  # None: INFO in production (orders, payments, jobs), WARNING elsewhere

# Compression (Flask-Compress) of HTML and JSON as the client accepts. Streamed responses (files
# served by Python in development; uwsgi serves them in production) are sent as they are.
COMPRESS_STREAMS = False

# Bootstrap 5 served from our own static files: pages look right offline
BOOTSTRAP_SERVE_LOCAL = True

# Site. SITE_URL (scheme://host[:port]) is where every absolute link points (mails, API
# image URLs), never the request's Host; the factory derives SERVER_NAME and
# PREFERRED_URL_SCHEME from it. Production needs an https:// one.
SITE_NAME = "Storefront"
# URLs per sitemap (/sitemaps/products-N.xml; app/seo): the protocol's limit is 50,000.
SITEMAP_MAX_URLS = 50_000
SITE_URL = "http://127.0.0.1:5000"
SECURITY_TWO_FACTOR_AUTHENTICATOR_VALIDITY = 120  # seconds a TOTP code is accepted around now
SECURITY_LOGOUT_CSRF = True  # logout is a POST with the CSRF token

# Shop
SHOP_CURRENCY = "EUR"  # every product is priced in this currency
# The site's languages (app/i18n.py): Babel locale -> its name in itself, the first the default.
LANGUAGES = {"en": "English", "de_DE": "Deutsch"}
# Whether catalogue (and shipping) prices include tax (EU style) or tax is added (US style):
# app/totals.py. SHOP_COUNTRY's rates estimate the tax before an address is known (the cart).
SHOP_PRICES_INCLUDE_TAX = True
SHOP_COUNTRY = "DE"
SHOP_TIMEZONE = "Europe/Berlin"  # IANA zone: the back office dashboard's days start at its 0:00
# The seller on invoices (app/invoices/): the shop's legal name and address, one line each,
# and its VAT ID ("" leaves it out). Invoices are numbered INVOICE_PREFIX + 6 digits, the
# credit notes of refunds CREDIT_NOTE_PREFIX + 6 digits (each kind its own sequence).
SHOP_ADDRESS = """Storefront Demo GmbH
Musterstraße 1
10115 Berlin
Germany"""
SHOP_VAT_ID = ""
INVOICE_PREFIX = "INV-"
# The confirmation e-mail attaches the invoice, a refund's e-mail its credit note, as PDFs
# (laid out in 40-110 ms each); False: the e-mails link to the order's page, which has them.
ORDER_EMAIL_PDFS = True
CREDIT_NOTE_PREFIX = "CN-"
PAYMENT_METHODS = ["test", "manual"]  # ids of app.payments.providers, in display order
# `python dbmanager.py orders expire` (run it every few minutes, e.g. from cron) cancels
# orders still unpaid after ORDER_PAYMENT_TIMEOUT seconds (bank transfer; the stock goes back),
# and settles card charges whose outcome was never recorded after ORDER_CHARGE_TIMEOUT.
ORDER_PAYMENT_TIMEOUT = 72 * 60 * 60
ORDER_CHARGE_TIMEOUT = 15 * 60
# How long a provider's hosted payment page (Stripe Checkout) stays open for an order: its
# stock is held meanwhile; then `orders expire` asks the provider and settles the order.
# Stripe accepts 30 minutes to 24 hours.
PAYMENT_PAGE_TIMEOUT = 60 * 60
# The catalogue's price filter: the upper ends of its ranges, in cents (the last range is open).
CATALOG_PRICE_BUCKETS = [1000, 2500, 5000, 10000]
# The most products a listing's count or a facet's counts read (app/catalog/facets.py): beyond
# it the pages say "10,000+" and the API `total_capped` / `facets.capped`, so no request counts
# a million rows. Each count reads this many products (one more says it is capped).
CATALOG_COUNT_LIMIT = 10_000
# Stripe's hosted Checkout page, allowed as a form target (CSP) when "stripe" is enabled.
STRIPE_CHECKOUT_ORIGIN = "https://checkout.stripe.com"
# Production refuses a test-mode STRIPE_SECRET_KEY (sk_test_...) unless this is True.
STRIPE_ALLOW_TEST_KEYS = False
# Production refuses to start with "test" in PAYMENT_METHODS unless this is True.
PAYMENT_ALLOW_TEST_PROVIDER = False
# Stripe Checkout ("stripe" in PAYMENT_METHODS; app/payments/stripe_provider.py). The keys are
# secrets: instance/application.cfg.py or STOREFRONT_STRIPE_SECRET_KEY etc. in the environment.
STRIPE_SECRET_KEY = ""  # nosec B105  # empty: set in instance/ (sk_live_... or sk_test_...)
STRIPE_PUBLISHABLE_KEY = ""  # pk_..., not used by hosted Checkout (no Stripe script on our pages)
STRIPE_WEBHOOK_SECRET = ""  # nosec B105  # empty: set in instance/ (whsec_..., signs webhooks)
STRIPE_API_BASE = None  # None: Stripe's API; tests point it at their fake (tests/stripe_fake.py)
LOW_STOCK_THRESHOLD = 5  # the admin dashboard lists products at or below this
CART_COOKIE_NAME = "cart"
CART_COOKIE_MAX_AGE = 60 * 60 * 24 * 30  # also how long `cart purge` keeps anonymous carts
ADDRESS_BOOK_MAX = 20  # addresses one customer keeps
# Buying without an account, with an e-mail address only (False: checkout asks to log in).
# The confirmation e-mail links to the order for GUEST_ORDER_LINK_MAX_AGE seconds; an account
# that confirms the same address (or logs in confirmed) takes the guest's orders over.
SHOP_GUEST_CHECKOUT = True
GUEST_ORDER_LINK_MAX_AGE = 60 * 60 * 24 * 30
CART_MAX_LINES = 50  # different products in one cart
CART_MAX_QUANTITY = 1000  # of one product in one cart
# No listing (pages, back office, API) has a page beyond this: a huge ?page= would reach SQL as
# an OFFSET no database accepts.
LISTING_MAX_PAGE = 100_000

# The React storefront (frontend/, app/spa.py): the folder `make frontend` builds it into,
# served under /app/ (uwsgi.ini and the nginx files serve its assets/ themselves).
# None: frontend/dist in this checkout.
FRONTEND_DIST = None

# Media: product images (app/media, app/catalog/images.py). MEDIA_STORAGE names the store's
# class. The default keeps files in MEDIA_ROOT (None: <instance>/media), served under
# MEDIA_URL (by uwsgi's static map in production). "app.media.s3.S3Storage" keeps them in an
# S3-compatible bucket instead, and MEDIA_URL is then the public URL of the bucket's prefix
# (https://BUCKET.s3.REGION.amazonaws.com/PREFIX/, or a CDN's in front of it).
MEDIA_STORAGE = "app.media.storage.LocalStorage"
MEDIA_ROOT = None
MEDIA_URL = "/media/"
MEDIA_S3_BUCKET = None  # required with S3Storage (production refuses to start without it)
MEDIA_S3_ENDPOINT_URL = None  # None: AWS; else e.g. https://s3.example.net (MinIO, Garage, R2)
MEDIA_S3_REGION = None  # None: boto3's default (AWS_DEFAULT_REGION, ~/.aws/config)
MEDIA_S3_PREFIX = ""  # a folder in the bucket for the media ("media"), or the bucket's root
# Credentials: None takes boto3's chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY in the
# environment, ~/.aws, an instance role). Set them, if at all, in instance/application.cfg.py.
MEDIA_S3_ACCESS_KEY_ID = None
MEDIA_S3_SECRET_ACCESS_KEY = None
MEDIA_S3_TIMEOUT = 10  # seconds to connect, and to wait for each answer
MEDIA_S3_ATTEMPTS = 3  # tries of each request (boto3's standard retries), the first included
# An upload larger than either bound is refused before it is decoded. Pillow refuses images
# above its own bound (Image.MAX_IMAGE_PIXELS, about 89 megapixels) whatever this says.
MEDIA_MAX_BYTES = 10_000_000
MEDIA_MAX_PIXELS = 40_000_000
# The widths each image is stored in (WebP and a JPEG fallback), by what shows them; an image
# is never enlarged: narrower than a width, it is stored at its own width instead.
MEDIA_WIDTHS = {"thumb": 160, "listing": 480, "page": 960, "zoom": 1600}
# `dbmanager.py seed` gives a new demo catalogue its photos (app/catalog/demo_photos/), about
# 3 s of image processing; the test suite turns this off but for the tests of the photos.
DEMO_PHOTOS = True
PRODUCT_IMAGES_PER_UPLOAD = 10  # files in one upload (each decoded in memory in turn)
PRODUCT_IMAGES_MAX = 30  # images in one product's gallery
# The back office's upload form alone accepts a request body this big instead of
# MAX_CONTENT_LENGTH: 60 MB, about ten phone photos at once. None: room for a full upload,
# PRODUCT_IMAGES_PER_UPLOAD files of MEDIA_MAX_BYTES, plus MAX_CONTENT_LENGTH for the form's
# fields and the multipart framing. Under uwsgi, limit-post (uwsgi.ini, 64 MiB) must allow it.
MEDIA_MAX_UPLOAD_BYTES: int | None = 60_000_000

# JSON API and its OpenAPI document (flask-smorest)
API_TITLE = "Storefront API"
API_VERSION = "1"
OPENAPI_VERSION = "3.1.0"
OPENAPI_URL_PREFIX = "/api/v1"
OPENAPI_JSON_PATH = "openapi.json"
