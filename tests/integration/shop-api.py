#!/usr/bin/python3
"""A shop's APIs over HTTPS for candor's tests, written from the public
references: Shopify's Admin GraphQL API (POST
/admin/api/VERSION/graphql.json, X-Shopify-Access-Token; the orders
connection with query "updated_at:>='…'", sortKey UPDATED_AT, first/after
and pageInfo { hasNextPage endCursor }; the cost extension with a leaky
bucket, THROTTLED when the bucket is short) and WooCommerce's REST API v3
(GET /wp-json/wc/v3/orders with modified_after, dates_are_gmt,
orderby=modified, order=asc, per_page, page, X-WP-Total and
X-WP-TotalPages; GET /wp-json/wc/v3/products/reviews with after; Basic
auth with the consumer key and secret).

Usage: shop-api.py DIR CERT KEY

Listens on 127.0.0.1 on a free port and writes it to DIR/port. The shop
is what DIR holds, read afresh on every request:
  orders.json   [{id, number, email, first, last, country, locale,
                  status (open|paid|shipped|delivered|refunded|cancelled|returned),
                  created, updated, shipped_at, delivered_at (Unix seconds),
                  total, currency, items: [{name, quantity, sku}]}]
  reviews.json  [{id, product_id, email, rating, review, created, status}]
  token         the Shopify token; key, secret: WooCommerce's
  skew          seconds the shop's clock is ahead of the real one
  bucket        "MAX RESTORE" of Shopify's cost bucket (default: no limit)
  faults        one per line, each used by one request, first line first:
                429 SECONDS | 500 | 401 | 403 | truncated | malformed |
                drop (closes the connection mid-body) | huge (a Content-Length
                of 60 MB) | stream MB (a chunked body of MB megabytes) |
                throttled (Shopify's THROTTLED error) |
                change (after this request, the orders in DIR/change.json
                replace those with their ids)
  warm          when present at start, every order is rendered before the
                port is written (a bench times candor, not this server)
  record        when present, each Shopify request body is appended to
                DIR/bodies.jsonl, one a line (the bench replays them with curl)
Every request is appended to DIR/requests.log as
"UNIX-TIME METHOD PATH QUERY-OR-FILTER -> STATUS [FAULT]". Runs until killed.
"""
import base64
import gc
import http.server
import json
import os
import socketserver
import ssl
import sys
import threading
import time
import urllib.parse

DIR = sys.argv[1]
LOCK = threading.Lock()
BUCKET = {"level": None, "at": 0.0}


CACHE = {}


def read(name, default):
    """DIR/NAME (parsed when .json), read again only when it changed."""
    path = os.path.join(DIR, name)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return default
    key = (st.st_mtime_ns, st.st_size, st.st_ino)
    c = CACHE.get(name)
    if c and c[0] == key:
        return c[1]
    with open(path) as f:
        v = json.load(f) if name.endswith(".json") else f.read().strip()
    CACHE[name] = (key, v)
    return v


def changed_orders():
    """orders.json sorted by (updated, id), with the keys to bisect."""
    orders = read("orders.json", [])
    c = CACHE.get("sorted")
    if c and c[0] is orders:
        return c[1], c[2]
    rows = sorted(orders, key=lambda o: (o["updated"], o["id"]))
    keys = [(o["updated"], o["id"]) for o in rows]
    CACHE["sorted"] = (orders, rows, keys)
    return rows, keys


def pop_fault():
    path = os.path.join(DIR, "faults")
    with LOCK:
        try:
            with open(path) as f:
                lines = [l for l in f.read().splitlines() if l.strip()]
        except FileNotFoundError:
            return None
        if not lines:
            return None
        with open(path, "w") as f:
            f.write("".join(l + "\n" for l in lines[1:]))
        return lines[0].split()


def skew():
    return int(read("skew", "0") or 0)


def iso(t, z=True):
    if not t:
        return None
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t + skew())) + ("Z" if z else "")


def parse_iso(s):
    s = s.strip().strip("'\"")
    if s.endswith("Z"):
        s = s[:-1]
    import calendar
    return calendar.timegm(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) - skew()


def log(line):
    with LOCK, open(os.path.join(DIR, "requests.log"), "a") as f:
        f.write("%.3f %s\n" % (time.time(), line))


def sorted_changed(since, strict, after=None):
    """Orders changed after SINCE (at or after unless STRICT), after the
    (updated, id) AFTER when given, in that order."""
    import bisect
    rows, keys = changed_orders()
    lo = bisect.bisect_right(keys, (since, float("inf"))) if strict \
        else bisect.bisect_left(keys, (since, -1))
    if after is not None:
        lo = max(lo, bisect.bisect_right(keys, after))
    return rows, lo


# ---- Shopify --------------------------------------------------------------------

FIN = {"open": "PENDING", "paid": "PAID", "shipped": "PAID", "delivered": "PAID",
       "refunded": "REFUNDED", "cancelled": "VOIDED", "returned": "PAID"}


NODES = {}


def node_json(kind, o, make, sk):
    """The JSON text of O as KIND renders it (SK the skew), kept while O
    and the skew stay the same: a bench's backfill measures candor, not
    this server."""
    key = (kind, o["id"], o["updated"], o["status"], sk)
    v = NODES.get(key)
    if v is None:
        if len(NODES) > 400000:
            NODES.clear()
        v = NODES[key] = json.dumps(make(o))
    return v


def shopify_node(o):
    st = o["status"]
    fulfilled = st in ("shipped", "delivered", "returned", "refunded") and o.get("shipped_at")
    fl = []
    if fulfilled:
        fl.append({"createdAt": iso(o["shipped_at"]),
                   "displayStatus": "DELIVERED" if o.get("delivered_at") else "IN_TRANSIT",
                   "deliveredAt": iso(o.get("delivered_at"))})
    return {
        "id": "gid://shopify/Order/%d" % o["id"], "name": "#%d" % o["number"],
        "email": o["email"], "updatedAt": iso(o["updated"]), "createdAt": iso(o["created"]),
        "cancelledAt": iso(o["updated"]) if st == "cancelled" else None,
        "displayFinancialStatus": FIN[st],
        "displayFulfillmentStatus": "FULFILLED" if fulfilled else "UNFULFILLED",
        "returnStatus": "RETURNED" if st == "returned" else "NO_RETURN",
        "customerLocale": o.get("locale"),
        "currencyCode": o.get("currency", "EUR"),
        "totalPriceSet": {"shopMoney": {"amount": o.get("total", "10.00"),
                                        "currencyCode": o.get("currency", "EUR")}},
        "customer": {"id": "gid://shopify/Customer/%d" % (1000 + o["id"]),
                     "firstName": o.get("first"), "lastName": o.get("last")},
        "billingAddress": {"firstName": o.get("first"), "lastName": o.get("last"),
                           "countryCodeV2": o.get("country")},
        "shippingAddress": {"countryCodeV2": o.get("country")},
        "fulfillments": fl,
        "refunds": [{"createdAt": iso(o["updated"])}] if st == "refunded" else [],
        "lineItems": {"nodes": [{"name": i["name"], "quantity": i.get("quantity", 1),
                                 "sku": i.get("sku")} for i in o.get("items", [])]},
    }


def bucket_take(cost):
    conf = read("bucket", "")
    if not conf:
        return True, 1000000, 1000000, 1000000
    mx, rate = (float(x) for x in conf.split())
    with LOCK:
        now = time.time()
        if BUCKET["level"] is None:
            BUCKET["level"] = mx
        BUCKET["level"] = min(mx, BUCKET["level"] + (now - BUCKET["at"]) * rate)
        BUCKET["at"] = now
        if BUCKET["level"] < cost:
            return False, mx, BUCKET["level"], rate
        BUCKET["level"] -= cost
        return True, mx, BUCKET["level"], rate


def shopify(h, body):
    if h.headers.get("X-Shopify-Access-Token") != read("token", None):
        return 401, {"errors": "[API] Invalid API key or access token (unrecognized login or wrong password)"}
    if os.path.exists(os.path.join(DIR, "record")):
        with LOCK, open(os.path.join(DIR, "bodies.jsonl"), "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
    req = json.loads(body)
    v = req.get("variables") or {}
    first = int(v.get("first", 50))
    flt = v.get("q", "")
    assert flt.startswith("updated_at:>="), flt
    since = parse_iso(flt[len("updated_at:>="):])
    cost = 2 + first * 3
    ok, mx, level, rate = bucket_take(cost)
    ext = {"cost": {"requestedQueryCost": cost, "actualQueryCost": cost if ok else None,
                    "throttleStatus": {"maximumAvailable": mx, "currentlyAvailable": level,
                                       "restoreRate": rate}}}
    h.note = "q=%s first=%d after=%s" % (flt, first, v.get("after"))
    if not ok:
        return 200, {"errors": [{"message": "Throttled", "extensions": {
            "code": "THROTTLED", "documentation": "https://shopify.dev/api/usage/rate-limits"}}],
            "extensions": ext}
    after = None
    if v.get("after"):
        after = tuple(int(x) for x in base64.b64decode(v["after"]).decode().split(":"))
    rows, lo = sorted_changed(since, False, after)
    page = rows[lo:lo + first]
    end = base64.b64encode(("%d:%d" % (page[-1]["updated"], page[-1]["id"])).encode()).decode() \
        if page else None
    head = json.dumps({"hasNextPage": len(rows) - lo > first, "endCursor": end})
    sk = skew()
    nodes = ",".join(node_json("shopify", o, shopify_node, sk) for o in page)
    return 200, ('{"data": {"orders": {"pageInfo": %s, "nodes": [%s]}}, "extensions": %s}'
                 % (head, nodes, json.dumps(ext))).encode()


# ---- WooCommerce --------------------------------------------------------------------

WOO = {"open": "pending", "paid": "processing", "shipped": "completed",
       "delivered": "delivered", "refunded": "refunded", "cancelled": "cancelled",
       "returned": "returned"}


def woo_order(o):
    return {
        "id": o["id"], "number": str(o["number"]), "status": WOO[o["status"]],
        "currency": o.get("currency", "EUR"), "total": o.get("total", "10.00"),
        "customer_id": 1000 + o["id"],
        "date_created_gmt": iso(o["created"], False), "date_modified_gmt": iso(o["updated"], False),
        "date_completed_gmt": iso(o.get("shipped_at"), False),
        "billing": {"first_name": o.get("first", ""), "last_name": o.get("last", ""),
                    "email": o["email"], "country": o.get("country", "")},
        "shipping": {"country": o.get("country", "")},
        "line_items": [{"name": i["name"], "quantity": i.get("quantity", 1),
                        "sku": i.get("sku", ""), "product_id": i.get("product_id", 0)}
                       for i in o.get("items", [])],
    }


def woo_review(r):
    return {"id": r["id"], "date_created_gmt": iso(r["created"], False),
            "product_id": r.get("product_id", 1), "status": r.get("status", "approved"),
            "reviewer": "A customer", "reviewer_email": r["email"], "review": r.get("review", ""),
            "rating": r["rating"], "verified": True}


def woo(h, path, q):
    auth = h.headers.get("Authorization", "")
    want = base64.b64encode(("%s:%s" % (read("key", ""), read("secret", ""))).encode()).decode()
    if auth != "Basic " + want:
        return 401, {"code": "woocommerce_rest_cannot_view",
                     "message": "Sorry, you cannot list resources.", "data": {"status": 401}}
    per_page = int(q.get("per_page", ["10"])[0])
    page = int(q.get("page", ["1"])[0])
    if per_page > 100:
        return 400, {"code": "rest_invalid_param", "message": "Invalid parameter(s): per_page"}
    if path == "/wp-json/wc/v3/orders":
        assert q.get("orderby") == ["modified"] and q.get("order") == ["asc"], q
        since = parse_iso(q["modified_after"][0])
        rows, lo = sorted_changed(since, True)
        total = len(rows) - lo
        h.extra = {"X-WP-Total": str(total),
                   "X-WP-TotalPages": str((total + per_page - 1) // per_page)}
        start = lo + (page - 1) * per_page
        page = rows[start:min(start + per_page, len(rows))]
        sk = skew()
        return 200, ("[%s]" % ",".join(node_json("woo", o, woo_order, sk) for o in page)).encode()
    elif path == "/wp-json/wc/v3/products/reviews":
        since = parse_iso(q["after"][0])
        rows = [woo_review(r) for r in sorted(read("reviews.json", []),
                                              key=lambda r: (r["created"], r["id"]))
                if r["created"] > since]
    else:
        return 404, {"code": "rest_no_route", "message": "No route was found"}
    total = len(rows)
    h.extra = {"X-WP-Total": str(total),
               "X-WP-TotalPages": str((total + per_page - 1) // per_page)}
    return 200, rows[(page - 1) * per_page:page * per_page]


# ---- the server -----------------------------------------------------------------------

class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def send(self, status, body, extra=None):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        fault = self.fault
        if fault and fault[0] == "truncated":
            data = data[:len(data) // 2]
        if fault and fault[0] == "malformed":
            data = b'{"data": {"orders": {"nodes": [{"id": 1,}]}}' if self.path.startswith("/admin") \
                else b'[{"id": 1, "status": completed}]'
        self.send_response(status)
        self.send_header("Content-Type", "application/json; charset=UTF-8")
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        if fault and fault[0] == "drop":
            self.send_header("Content-Length", str(len(data) + 100000))
            self.end_headers()
            self.wfile.write(data[:len(data) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        if fault and fault[0] == "huge":
            self.send_header("Content-Length", str(60 * 1024 * 1024))
            self.end_headers()
            self.wfile.write(b"[" + b" " * 65536)
            self.close_connection = True
            return
        if fault and fault[0] == "stream":
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            chunk = b'{"id":1}, ' * 6554
            try:
                self.wfile.write(b"%x\r\n[\r\n" % 1)
                for _ in range(int(fault[1]) * 16):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                self.wfile.write(b"0\r\n\r\n")
            except (BrokenPipeError, ConnectionResetError, ssl.SSLError):
                pass
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def handle_one(self, method):
        u = urllib.parse.urlsplit(self.path)
        q = urllib.parse.parse_qs(u.query)
        body = b""
        if method == "POST":
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.fault = pop_fault()
        self.note = u.query
        self.extra = None
        f = self.fault
        if f and f[0] == "429":
            status, out = 429, {"errors": "Exceeded 2 calls per second for api client."}
            self.extra = {"Retry-After": f[1]}
        elif f and f[0] == "500":
            status, out = 500, b"<html><body>Internal Server Error</body></html>"
        elif f and f[0] in ("401", "403"):
            status, out = int(f[0]), {"errors": "[API] This action requires merchant approval"}
        elif f and f[0] == "throttled":
            status, out = 200, {"errors": [{"message": "Throttled", "extensions": {"code": "THROTTLED"}}],
                                "extensions": {"cost": {"requestedQueryCost": 302, "actualQueryCost": None,
                                               "throttleStatus": {"maximumAvailable": 1000,
                                                                  "currentlyAvailable": 252,
                                                                  "restoreRate": 50}}}}
        elif u.path.startswith("/admin/api/") and u.path.endswith("/graphql.json") and method == "POST":
            status, out = shopify(self, body)
        elif u.path.startswith("/wp-json/wc/v3/") and method == "GET":
            status, out = woo(self, u.path, q)
        else:
            status, out = 404, {"errors": "Not Found"}
        log("%s %s %s -> %d%s" % (method, u.path, self.note, status,
                                   " [%s]" % " ".join(f) if f else ""))
        self.send(status, out, self.extra)
        if f and f[0] == "change":
            apply_change()

    def do_GET(self):
        self.handle_one("GET")

    def do_POST(self):
        self.handle_one("POST")


def apply_change():
    """The orders in DIR/change.json replace those with their ids."""
    ch = read("change.json", [])
    with LOCK:
        orders = read("orders.json", [])
        by = {o["id"]: o for o in orders}
        for c in ch:
            by[c["id"]] = c
        with open(os.path.join(DIR, "orders.json.tmp"), "w") as f:
            json.dump(list(by.values()), f)
        os.rename(os.path.join(DIR, "orders.json.tmp"), os.path.join(DIR, "orders.json"))


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True


def main():
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    if os.path.exists(os.path.join(DIR, "warm")):
        sk = skew()
        for o in read("orders.json", []):
            node_json("shopify", o, shopify_node, sk)
        changed_orders()
        # what was rendered lives as long as the server: out of the
        # collector's sight, so its sweeps do not land on one run only
        gc.collect()
        gc.freeze()
    srv = Server(("127.0.0.1", 0), Handler)
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(os.path.join(DIR, "port.tmp"), "w") as f:
        f.write("%d\n" % srv.server_address[1])
    os.rename(os.path.join(DIR, "port.tmp"), os.path.join(DIR, "port"))
    srv.serve_forever()


if __name__ == "__main__":
    main()
