"""A thin REST front on Qdrant Edge (the `qdrant-edge-py` package), for this project's tests.

Qdrant Edge is Qdrant's own storage engine (segments, WAL, payload indexes, HNSW after optimize)
running in-process. It is NOT the Qdrant server: no cluster, no snapshots API, no background
optimizer. This front serves the Qdrant REST endpoints the Apex Memory adapter uses, with Qdrant's
status codes and {result, status, time} envelope, one Edge shard per collection under the data
directory. `wait=true` on a write means the shard is flushed to disk before the answer.

    python server.py --port 56333 --data DIR       (binds 127.0.0.1 only; --port 0: any free port)
"""
import argparse
import json
import re
import signal
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote, urlsplit

import qdrant_edge as qe

import convert as cv
from collections_store import NAME_OK, HttpError, Store, collection_info

FRONT_VERSION = "apex-qdrant-edge-front 1"
ORDERINGS = ("weak", "medium", "strong")
ROUTE = re.compile(r"^/collections/([^/]+)(/exists|/index|/aliases|/points|/points/delete|/points/scroll|"
                   r"/points/query|/points/search|/points/count|/points/[^/]+)?$")


def route(store, method, path, query, body):
    """Returns the `result` of a successful call, or raises HttpError / cv.* errors."""
    if path == "/" and method == "GET":
        return {"title": "qdrant-edge front (not the Qdrant server)", "version": FRONT_VERSION}
    if path == "/collections" and method == "GET":
        return {"collections": [{"name": n} for n in sorted(store.collections)]}  # not the aliases, as Qdrant
    if path == "/collections/aliases" and method == "POST":
        return store.update_aliases(body.get("actions"))
    if path == "/aliases" and method == "GET":
        return {"aliases": store.list_aliases()}
    m = ROUTE.match(path)
    if not m:
        raise HttpError(404, f"no route {method} {path}")
    name, tail = unquote(m.group(1)), m.group(2) or ""
    if not NAME_OK.match(name):
        raise HttpError(422, f"Validation error in path parameters: collection name {name!r}")
    wait = query.get("wait", ["false"])[0] == "true"
    ordering = query.get("ordering", [None])[0]
    if ordering is not None and ordering not in ORDERINGS:
        # WriteOrdering in Qdrant's OpenAPI; one shard applies every write in arrival order anyway.
        raise HttpError(400, f"Query deserialize error: unknown variant `{ordering}`, expected one of "
                             f"`weak`, `medium`, `strong`")
    if tail == "/aliases" and method == "GET":
        return {"aliases": store.list_aliases(name)}  # `name`'s own aliases; none when absent
    if tail == "/exists" and method == "GET":
        return {"exists": store.exists(name)}
    if tail == "" and method == "PUT":
        store.create(name, body)
        return True
    if tail == "" and method == "DELETE":
        return store.delete(name)
    c = store.get(name)
    if tail == "" and method == "GET":
        return collection_info(c)
    if tail == "/index" and method == "PUT":
        schema = body.get("field_schema")
        schema = schema.get("type") if isinstance(schema, dict) else schema
        if schema not in cv.SCHEMAS:
            raise cv.Unsupported(f"payload index schema {body.get('field_schema')!r}")
        return c.update(qe.UpdateOperation.create_field_index(body["field_name"], cv.SCHEMAS[schema]), wait)
    if tail == "/points" and method == "PUT":
        return c.update(qe.UpdateOperation.upsert_points(cv.points_for_upsert(body)), wait)
    if tail == "/points/delete" and method == "POST":
        if "points" in body:
            return c.update(qe.UpdateOperation.delete_points([cv.point_id(i) for i in body["points"]]), wait)
        if "filter" in body:
            return c.update(qe.UpdateOperation.delete_points_by_filter(cv.filter_(body["filter"])), wait)
        raise HttpError(400, "Format error in JSON body: expected `points` or `filter`")
    if tail == "/points/scroll" and method == "POST":
        offset = body.get("offset")
        req = qe.ScrollRequest(offset=None if offset is None else cv.point_id(offset), limit=body.get("limit") or 10,
                               filter=cv.filter_(body.get("filter")),
                               with_payload=cv.with_payload(body.get("with_payload"), True),
                               with_vector=cv.with_vector(body.get("with_vector")))
        with c.lock:
            points, nxt = c.shard.scroll(req)
        wv = body.get("with_vector") not in (None, False)
        return {"points": [cv.record_json(p, wv) for p in points],
                "next_page_offset": None if nxt is None else cv.id_json(nxt)}
    if tail in ("/points/query", "/points/search") and method == "POST":
        raw = body.get("query") if tail == "/points/query" else body.get("vector")
        if raw is None:
            raise cv.Unsupported("a query without a vector (scroll-like query)")
        req = qe.QueryRequest(limit=body.get("limit") or 10, offset=body.get("offset"), query=cv.nearest(raw),
                              filter=cv.filter_(body.get("filter")),
                              with_payload=cv.with_payload(body.get("with_payload"), False),
                              with_vector=cv.with_vector(body.get("with_vector")),
                              score_threshold=body.get("score_threshold"))
        with c.lock:
            hits = c.shard.query(req)
        wv = body.get("with_vector") not in (None, False)
        scored = [cv.scored_json(p, wv) for p in hits]
        return {"points": scored} if tail == "/points/query" else scored
    if tail == "/points/count" and method == "POST":
        with c.lock:
            n = c.shard.count(qe.CountRequest(exact=body.get("exact", True), filter=cv.filter_(body.get("filter"))))
        return {"count": n}
    if tail == "/points" and method == "POST":
        with c.lock:
            recs = c.shard.retrieve([cv.point_id(i) for i in body.get("ids", [])],
                                    cv.with_payload(body.get("with_payload"), True), cv.with_vector(body.get("with_vector")))
        return [cv.record_json(r, body.get("with_vector") not in (None, False)) for r in recs]
    if tail.startswith("/points/") and method == "GET":
        raw = unquote(tail[len("/points/"):])
        pid = cv.point_id(int(raw) if raw.isdigit() else raw)
        with c.lock:
            recs = c.shard.retrieve([pid], True, True)
        if not recs:
            raise HttpError(404, f"Not found: No point with id {raw} found")
        return cv.record_json(recs[0], True)
    raise HttpError(404, f"no route {method} {path}")


def status_of_engine_error(message):
    """Qdrant's own error texts, mapped the way its REST layer maps them."""
    if message.startswith("Not found") or "doesn't exist" in message:
        return 404
    if message.startswith("Wrong input") or "dimension error" in message or message.startswith("Bad request"):
        return 400
    return 500


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the real server
    # TCP_NODELAY: with keep-alive, Nagle's algorithm and the client's delayed ACK held every
    # answer back ~40 ms (measured: a round trip 41 ms -> 1.2 ms, an upsert with wait=true 49 -> 15 ms).
    disable_nagle_algorithm = True
    server_version = "qdrant-edge-front"
    store = None  # set in main()

    def _handle(self):
        started = time.monotonic()
        url = urlsplit(self.path)
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        status, result, error = 200, None, None
        try:
            body = json.loads(raw) if raw else {}
            if not isinstance(body, dict):
                raise HttpError(400, "Format error in JSON body: expected an object")
            result = route(self.store, self.command, url.path, parse_qs(url.query), body)
        except json.JSONDecodeError as e:
            status, error = 400, f"Format error in JSON body: {e}"
        except HttpError as e:
            status, error = e.status, str(e)
        except (cv.BadRequest, ValueError, KeyError, TypeError) as e:
            status, error = 400, f"Format error in JSON body: {e}"
        except cv.Unsupported as e:
            status, error = 501, f"Not implemented by the Qdrant Edge front: {e}"
        except Exception as e:  # noqa: BLE001 - the engine raises plain Exception with Qdrant's message
            status, error = status_of_engine_error(str(e)), str(e)
            if status == 400 and not error.startswith("Wrong input"):
                error = f"Wrong input: {error}"  # the prefix Qdrant's REST layer puts on these
        took = time.monotonic() - started
        envelope = ({"result": result, "status": "ok", "time": took} if error is None
                    else {"status": {"error": error}, "time": took})
        data = json.dumps(envelope).encode("utf-8")
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)
        if status >= 500:
            sys.stderr.write(f"{self.command} {self.path} -> {status}: {error}\n")

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = _handle

    def log_message(self, format, *args):  # noqa: A002 - signature from the base class
        pass  # one line per request would flood the log in load tests; errors are logged above


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--data", required=True)
    args = ap.parse_args()
    Handler.store = Store(args.data)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), Handler)
    server.daemon_threads = True

    def stop(signum, frame):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    # --port 0 takes a free port; the READY line says which (tests start private fronts that way).
    print(f"READY 127.0.0.1:{server.server_address[1]} {FRONT_VERSION} data={args.data}", flush=True)
    server.serve_forever()
    Handler.store.close_all()


if __name__ == "__main__":
    main()
