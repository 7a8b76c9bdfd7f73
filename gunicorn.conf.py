"""gunicorn's settings for production (`make serve-prod`, bench/load.py): request size limits.

gunicorn refuses a request over these limits itself, before the app sees it, with a plain HTML
page (414 for the request line, 431 for header fields, 400 for too many). The app's own limits
(crowd/core/security.py) sit below them, so a request between the two is answered by the app as
application/problem+json like every other error:

    request line   app: URL (path and query) over 4,096 bytes → 414    gunicorn: over 8,190
    header fields  app: more than 64 → 431                              gunicorn: more than 100
    one field      app: name and value over 8,192 bytes → 431          gunicorn: over 16,380

tests/crowd/test_request_limits.py checks the order and starts gunicorn with this file.
"""

# The largest gunicorn accepts (0 would mean unlimited): method, URL and protocol.
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 16380
